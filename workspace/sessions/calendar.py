"""iCalendar output: one session as a download, or an exchange as a subscribable feed."""

from __future__ import annotations

from datetime import UTC, timedelta

from flask import url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from icalendar import Alarm, Calendar, Event

from .. import permissions
from ..timeutil import from_utc, utcnow
from .models import ExchangeSession, Status

REMINDER_MINUTES = 30


def _calendar(name: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", "-//Baraza//Peer learning sessions//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    return cal


def _event(session: ExchangeSession) -> Event:
    link = url_for("sessions.detail", session_id=session.id, _external=True)
    event = Event()
    event.add("uid", f"session-{session.id}@baraza")
    event.add("dtstamp", utcnow().replace(tzinfo=UTC))
    event.add("last-modified", session.updated_at.replace(tzinfo=UTC))
    event.add("dtstart", from_utc(session.starts_at, session.host_timezone))
    event.add("duration", timedelta(minutes=session.duration_minutes))
    event.add("summary", session.title)
    event.add("url", link)
    if session.status == Status.DRAFT:
        event.add("status", "TENTATIVE")
    place = [p for p in (session.venue, session.online_url) if p]
    if place:
        event.add("location", " / ".join(place))

    lines = []
    if session.expected_outcomes:
        lines += [_("Expected outcomes:"), session.expected_outcomes, ""]
    if session.agenda_items:
        lines.append(_("Agenda:"))
        lines += [f"- {item.title} ({_('%(n)d min', n=item.minutes)})" for item in session.agenda_items]
        lines.append("")
    if session.online_url:
        lines.append(_("Join online: %(url)s", url=session.online_url))
    if session.venue:
        lines.append(_("Venue: %(venue)s", venue=session.venue))
    if session.is_closed:
        lines.append(_("Closed session: a confidential space for invited peers. Nothing is public or recorded."))
    lines.append(_("Session page: %(url)s", url=link))
    event.add("description", "\n".join(lines))

    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", _("%(title)s starts in %(n)d minutes", title=session.title, n=REMINDER_MINUTES))
    alarm.add("trigger", timedelta(minutes=-REMINDER_MINUTES))
    event.add_component(alarm)
    return event


def session_ics(session: ExchangeSession) -> bytes:
    cal = _calendar(session.title)
    cal.add_component(_event(session))
    cal.add_missing_timezones()
    return cal.to_ical()


def exchange_feed(exchange, user) -> bytes:
    """Every published session of the exchange the member may see, in the member's language."""
    with force_locale(user.locale or "en"):
        cal = _calendar(exchange.title)
        for session in exchange.sessions.order_by(ExchangeSession.starts_at):
            if session.status != Status.DRAFT and permissions.can_view_session(user, session):
                cal.add_component(_event(session))
        cal.add_missing_timezones()
        return cal.to_ical()
