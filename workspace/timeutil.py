"""Time helpers: the database holds naive UTC; zones are applied at the edges."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@lru_cache(maxsize=1)
def timezone_names() -> tuple[str, ...]:
    """IANA zone names people pick from (legacy aliases such as 'US/Pacific' left out)."""
    names = {n for n in available_timezones() if "/" in n and not n.startswith(("Etc/", "SystemV/", "US/"))}
    return tuple(sorted(names | {"UTC"}))


def is_valid_timezone(name: str | None) -> bool:
    if not name or len(name) > 64:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def to_utc(local: datetime, zone: str) -> datetime:
    """A wall-clock time in `zone` as naive UTC."""
    return local.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC).replace(tzinfo=None)


def from_utc(value: datetime, zone: str) -> datetime:
    """Naive UTC as an aware datetime in `zone`."""
    return value.replace(tzinfo=UTC).astimezone(ZoneInfo(zone))
