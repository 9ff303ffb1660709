"""Locale and time zone selection for each request."""

from __future__ import annotations

from flask import current_app, request
from flask_login import current_user

from config import RTL_LANGUAGES

from .timeutil import is_valid_timezone

LOCALE_COOKIE = "baraza_lang"
TIMEZONE_COOKIE = "baraza_tz"


def supported_locales() -> list[str]:
    return current_app.config["LANGUAGES"]


def select_locale() -> str:
    """The user's saved choice, else the switch (a cookie), else Accept-Language."""
    if current_user and current_user.is_authenticated and current_user.locale in supported_locales():
        return current_user.locale
    chosen = request.cookies.get(LOCALE_COOKIE)
    if chosen in supported_locales():
        return chosen
    return request.accept_languages.best_match(supported_locales()) or "en"


def select_timezone() -> str:
    """The user's saved zone, else the one the browser reported, else UTC."""
    if current_user and current_user.is_authenticated and is_valid_timezone(current_user.timezone):
        return current_user.timezone
    reported = request.cookies.get(TIMEZONE_COOKIE)
    if is_valid_timezone(reported):
        return reported
    return "UTC"


def text_direction(locale: str) -> str:
    return "rtl" if locale in RTL_LANGUAGES else "ltr"
