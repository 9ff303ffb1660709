from flask import Blueprint

bp = Blueprint("sessions", __name__)

from . import events, routes  # noqa: E402,F401
