from __future__ import annotations

from flask import abort, current_app, make_response, redirect, render_template
from flask_login import current_user

from ..auth import services as auth_services
from ..exchanges import services as exchange_services
from ..feedback import services as feedback_services
from ..i18n import LOCALE_COOKIE
from ..sessions import services as session_services
from ..urls import safe_next
from . import bp


@bp.route("/")
def index():
    mine = upcoming = feedback = []
    if current_user.is_authenticated:
        mine = exchange_services.exchanges_of(current_user)
        upcoming = session_services.upcoming_for(current_user)
        feedback = feedback_services.open_forms_for(current_user)
    return render_template(
        "home/index.html",
        exchanges=mine,
        upcoming=upcoming,
        feedback=feedback,
        public=session_services.public_upcoming(limit=10),
    )


@bp.route("/sessions/open")
def public_sessions():
    return render_template("home/public_sessions.html", sessions=session_services.public_upcoming())


@bp.route("/language/<code>")
def set_language(code: str):
    """The language switch on every page: saved on the profile when signed in, else in a cookie."""
    if code not in current_app.config["LANGUAGES"]:
        abort(404)
    if current_user.is_authenticated:
        auth_services.update_profile(current_user, locale=code)
    response = make_response(redirect(safe_next()))
    response.set_cookie(LOCALE_COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


@bp.route("/healthz")
def health():
    return {"status": "ok"}
