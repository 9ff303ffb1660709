from flask import Blueprint

bp = Blueprint("exchanges", __name__)

from . import routes  # noqa: E402,F401
