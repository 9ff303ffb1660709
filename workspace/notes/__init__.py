"""Collective notes: a Yjs document per session, edited live, versioned, published as the written summary."""

from flask import Blueprint

bp = Blueprint("notes", __name__)

from . import events, routes  # noqa: E402,F401
