"""iCalendar: the per-session download and the per-member exchange feed, parsed back."""

from datetime import datetime, timedelta

from icalendar import Calendar

from workspace.exchanges.models import Membership
from workspace.extensions import db


def parse(data: bytes):
    return Calendar.from_ical(data)


def test_session_ics(client, create_exchange, create_session):
    exchange = create_exchange()
    session = create_session(
        exchange,
        mode="open",
        title="Webinar: artists' statute",
        starts_at=datetime(2027, 2, 1, 11, 0),
        host_timezone="Europe/Lisbon",
        duration_minutes=75,
        online_url="https://meet.example.org/statute",
        agenda=[("Presentation", 30), ("Questions", 45)],
    )
    response = client.get(f"/sessions/{session.id}/calendar.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    event = parse(response.data).walk("VEVENT")[0]
    start = event.decoded("dtstart")
    assert str(start.tzinfo) == "Europe/Lisbon"
    assert start.replace(tzinfo=None) == datetime(2027, 2, 1, 11, 0)  # Lisbon is UTC+0 in February
    assert event.decoded("duration") == timedelta(minutes=75)
    assert str(event["summary"]) == "Webinar: artists' statute"
    assert "https://meet.example.org/statute" in str(event["location"])
    assert "Presentation" in str(event["description"])
    alarm = event.walk("VALARM")[0]
    assert alarm.decoded("trigger") == timedelta(minutes=-30)
    assert parse(response.data).walk("VTIMEZONE")


def test_session_ics_in_summer_time(client, create_exchange, create_session):
    session = create_session(
        create_exchange(), mode="open", starts_at=datetime(2027, 7, 1, 11, 0), host_timezone="Europe/Lisbon"
    )
    event = parse(client.get(f"/sessions/{session.id}/calendar.ics").data).walk("VEVENT")[0]
    assert event.decoded("dtstart").replace(tzinfo=None) == datetime(2027, 7, 1, 12, 0)  # UTC+1 in July


def test_exchange_feed_lists_what_the_member_may_see(client, create_user, create_exchange, create_session, add_member):
    coordinator = create_user(locale="es")
    exchange = create_exchange(coordinator)
    participant = create_user()
    member = add_member(exchange, participant)
    create_session(exchange, mode="closed", title="Closed round table")
    create_session(exchange, mode="open", title="Open webinar")
    create_session(exchange, mode="closed", status="draft", title="Draft plan")
    response = client.get(f"/calendar/{member.feed_token}.ics")
    assert response.status_code == 200
    summaries = {str(e["summary"]) for e in parse(response.data).walk("VEVENT")}
    assert summaries == {"Closed round table", "Open webinar"}

    coordinator_token = db.session.execute(
        db.select(Membership.feed_token).filter_by(user_id=coordinator.id)
    ).scalar_one()
    feed = client.get(f"/calendar/{coordinator_token}.ics").data
    # Drafts stay out of calendars; the feed is written in the member's language.
    assert b"Draft plan" not in feed
    description = "".join(str(e["description"]) for e in parse(feed).walk("VEVENT"))
    assert "Página de la sesión" in description


def test_feed_token_dies_with_the_membership(client, create_user, create_exchange, add_member):
    exchange = create_exchange()
    member = add_member(exchange, create_user())
    token = member.feed_token
    db.session.delete(member)
    db.session.commit()
    assert client.get(f"/calendar/{token}.ics").status_code == 404
    assert client.get("/calendar/unknown.ics").status_code == 404
