"""Field choices and validators shared by several features' forms."""

from __future__ import annotations

from babel import Locale
from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError

from .timeutil import is_valid_timezone, timezone_names


def country_choices(blank: bool = True) -> list[tuple[str, str]]:
    """ISO 3166 countries named in the viewer's language (from CLDR, nothing to translate by hand)."""
    names = get_locale().territories
    choices = sorted(
        ((code, name) for code, name in names.items() if len(code) == 2 and code.isalpha() and code != "ZZ"),
        key=lambda c: c[1],
    )
    return ([("", _l("— none —"))] if blank else []) + choices


def country_name(code: str | None) -> str:
    if not code:
        return ""
    return get_locale().territories.get(code, code)


def language_choices() -> list[tuple[str, str]]:
    """Each interface language in its own name."""
    return [(code, Locale.parse(code).get_display_name(code)) for code in current_app.config["LANGUAGES"]]


def working_language_choices() -> list[tuple[str, str]]:
    """Working languages of an exchange or session, named in the viewer's language."""
    loc = get_locale()
    codes = ["en", "fr", "es", "ar", "ru", "zh", "pt", "de", "it", "sw", "hi", "ja", "tr", "fa", "id", "uk", "pl", "nl"]
    return sorted(((c, loc.languages.get(c, c)) for c in codes), key=lambda c: c[1])


def language_name(code: str) -> str:
    return get_locale().languages.get(code, code)


def timezone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in timezone_names()]


def strip(value):
    return value.strip() if isinstance(value, str) else value


def valid_timezone(form, field) -> None:
    if not is_valid_timezone(field.data):
        raise ValidationError(_l("Choose a time zone from the list."))
