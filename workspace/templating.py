"""Template globals and filters: language, direction, and times in a given zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton, format_time, get_timezone_name
from flask import Flask, request
from flask_babel import format_decimal, get_locale, get_timezone

from .forms_common import country_name, language_choices, language_name
from .i18n import text_direction


def _zone(zone: str | None) -> ZoneInfo:
    return ZoneInfo(zone) if zone else ZoneInfo(str(get_timezone()))


def datetime_in(value: datetime | None, zone: str | None = None) -> str:
    """Naive UTC shown in `zone` (default: the viewer's), as a weekday, date and time in the viewer's locale."""
    if value is None:
        return ""
    locale = get_locale()
    aware, tz = value.replace(tzinfo=UTC), _zone(zone)
    date_part = format_skeleton("yMMMEd", aware, tzinfo=tz, locale=locale)
    time_part = format_time(aware, "short", tzinfo=tz, locale=locale)
    return locale.datetime_formats["medium"].format(time_part, date_part)


def time_in(value: datetime, zone: str | None = None) -> str:
    return format_time(value.replace(tzinfo=UTC), "short", tzinfo=_zone(zone), locale=get_locale())


def zone_label(zone: str | None = None) -> str:
    tz = _zone(zone)
    if tz.key in ("UTC", "Etc/UTC"):
        return "UTC"  # CLDR would say "Unknown Region (UTC) Time"
    return f"{get_timezone_name(tz, locale=get_locale())} ({tz.key.replace('_', ' ')})"


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(
        datetime_in=datetime_in,
        time_in=time_in,
        country=country_name,
        language=language_name,
        number=format_decimal,
    )

    @app.context_processor
    def inject_locale():
        locale = str(get_locale())
        return {
            "current_locale": locale,
            "text_dir": text_direction(locale),
            "interface_languages": language_choices(),
            "viewer_timezone": str(get_timezone()),
            "zone_label": zone_label,
            "current_path": request.full_path.rstrip("?") if request else "/",
        }
