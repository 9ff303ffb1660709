"""The live discussion board: contributions, support, moderation, the speaker queue and quick polls."""

from flask import Blueprint

bp = Blueprint("board", __name__)

from . import events, routes  # noqa: E402,F401
