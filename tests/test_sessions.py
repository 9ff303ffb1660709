"""Sessions: planning in the host's time zone, status, closed/open modes, join codes and guests."""

from datetime import datetime, timedelta

from workspace.extensions import db
from workspace.sessions.models import ExchangeSession, Guest, InvalidTransition
from workspace.timeutil import utcnow


def session_form(**overrides):
    data = {
        "title": "Round table on hub financing",
        "method": "round_table",
        "phase": "implementation",
        "mode": "closed",
        "starts_at": "2027-03-10T14:30",
        "host_timezone": "America/Bogota",
        "duration_minutes": "120",
        "online_url": "https://meet.example.org/hubs",
        "venue": "",
        "working_languages": ["en", "es"],
        "expected_outcomes": "Three options for Kenya.",
    }
    data.update(overrides)
    return data


def signed_in_coordinator(client, auth, create_user, create_exchange):
    user = create_user(email="amina@example.org", timezone="Africa/Nairobi", locale="fr")
    auth.login("amina@example.org")
    return create_exchange(user)


def test_session_start_is_entered_in_host_zone_and_stored_in_utc(client, auth, create_user, create_exchange):
    exchange = signed_in_coordinator(client, auth, create_user, create_exchange)
    response = client.post(f"/exchanges/{exchange.id}/sessions/new", data=session_form())
    assert response.status_code == 302
    session = db.session.execute(db.select(ExchangeSession)).scalar_one()
    assert session.starts_at == datetime(2027, 3, 10, 19, 30)  # Bogotá is UTC-5
    assert session.status == "draft"
    assert len(session.join_code) == 8
    page = client.get(f"/sessions/{session.id}").get_data(as_text=True)
    # Viewer (Nairobi, UTC+3) sees 22:30; the host's time is shown too.
    assert "22:30" in page and "14:30" in page


def test_session_form_validation(client, auth, create_user, create_exchange):
    exchange = signed_in_coordinator(client, auth, create_user, create_exchange)
    bad = {
        "title": session_form(title=""),
        "starts_at": session_form(starts_at="next tuesday"),
        "host_timezone": session_form(host_timezone="Atlantis/Capital"),
        "duration_minutes": session_form(duration_minutes="0"),
        "online_url": session_form(online_url="javascript:alert(1)"),
        "venue": session_form(online_url="", venue=""),
        "mode": session_form(mode="secret"),
        "method": session_form(method="party"),
    }
    for field, data in bad.items():
        response = client.post(f"/exchanges/{exchange.id}/sessions/new", data=data)
        assert response.status_code == 200, field
        assert f'id="{field}-error"'.encode() in response.data, field
    assert db.session.execute(db.select(db.func.count(ExchangeSession.id))).scalar() == 0


def test_edit_shows_start_in_host_zone(client, auth, create_user, create_exchange):
    exchange = signed_in_coordinator(client, auth, create_user, create_exchange)
    client.post(f"/exchanges/{exchange.id}/sessions/new", data=session_form())
    session = db.session.execute(db.select(ExchangeSession)).scalar_one()
    page = client.get(f"/sessions/{session.id}/edit").get_data(as_text=True)
    assert 'value="2027-03-10T14:30"' in page
    client.post(f"/sessions/{session.id}/edit", data=session_form(title="Renamed", venue="Casa de la Cultura"))
    db.session.refresh(session)
    assert session.title == "Renamed" and session.place_kind == "hybrid"


def test_status_machine(client, auth, create_user, create_exchange, create_session):
    exchange = signed_in_coordinator(client, auth, create_user, create_exchange)
    session = create_session(exchange, status="draft")
    path = f"/sessions/{session.id}/status"
    for target, expected in [
        ("live", "draft"),
        ("scheduled", "scheduled"),
        ("ended", "scheduled"),
        ("live", "live"),
        ("draft", "live"),
        ("ended", "ended"),
        ("live", "ended"),
        ("bogus", "ended"),
    ]:
        client.post(path, data={"status": target})
        db.session.refresh(session)
        assert session.status == expected, target
    try:
        session.move_to("scheduled")
    except InvalidTransition:
        pass
    else:
        raise AssertionError("an ended session cannot be scheduled again")


def test_only_drafts_can_be_deleted(client, auth, create_user, create_exchange, create_session):
    exchange = signed_in_coordinator(client, auth, create_user, create_exchange)
    published = create_session(exchange, status="scheduled")
    draft = create_session(exchange, status="draft")
    draft_id, published_id = draft.id, published.id
    client.post(f"/sessions/{published_id}/delete")
    client.post(f"/sessions/{draft_id}/delete")
    db.session.expire_all()
    assert db.session.get(ExchangeSession, published_id) is not None
    assert db.session.get(ExchangeSession, draft_id) is None


def test_closed_session_says_it_is_confidential(client, auth, create_user, create_exchange, create_session):
    exchange = signed_in_coordinator(client, auth, create_user, create_exchange)
    closed = create_session(exchange, mode="closed")
    opened = create_session(exchange, mode="open")
    assert b"notice-confidential" in client.get(f"/sessions/{closed.id}").data
    assert b"notice-confidential" not in client.get(f"/sessions/{opened.id}").data


def test_public_list_shows_only_published_open_sessions(client, create_exchange, create_session):
    exchange = create_exchange()
    create_session(exchange, mode="open", title="Public webinar")
    create_session(exchange, mode="open", status="draft", title="Draft webinar")
    create_session(exchange, mode="closed", title="Confidential round table")
    create_session(
        exchange, mode="open", status="ended", title="Finished forum", starts_at=utcnow() - timedelta(days=3)
    )
    for path in ("/", "/sessions/open"):
        page = client.get(path).get_data(as_text=True)
        assert "Public webinar" in page
        assert "Draft webinar" not in page
        assert "Confidential round table" not in page
        assert "Finished forum" not in page


def test_guest_joins_open_session_with_code_and_keeps_identity(app, create_exchange, create_session):
    exchange = create_exchange()
    session = create_session(exchange, mode="open")
    client = app.test_client()
    response = client.post("/join", data={"code": session.join_code[:4].lower() + "-" + session.join_code[4:]})
    assert response.status_code == 302
    join_path = response.headers["Location"]
    response = client.post(join_path, data={"display_name": "  Grace   Wanjiku "})
    assert response.status_code == 302
    guest = db.session.execute(db.select(Guest)).scalar_one()
    assert guest.display_name == "Grace Wanjiku"
    # Reloading keeps the guest identity; visiting the join link again does not make a new guest.
    for _ in range(2):
        assert b"Grace Wanjiku" in client.get(f"/sessions/{session.id}").data
    assert client.get(join_path).status_code == 302
    assert db.session.execute(db.select(db.func.count(Guest.id))).scalar() == 1
    # Another browser is not that guest.
    assert b"Grace Wanjiku" not in app.test_client().get(f"/sessions/{session.id}").data


def test_guest_name_validation(client, create_exchange, create_session):
    session = create_session(create_exchange(), mode="open")
    for name in ("", "   ", "x" * 61):
        response = client.post(f"/join/{session.join_code}", data={"display_name": name})
        assert response.status_code == 200
        assert b'id="display_name-error"' in response.data
    assert db.session.execute(db.select(db.func.count(Guest.id))).scalar() == 0


def test_wrong_or_closed_codes_are_404(client, create_exchange, create_session):
    exchange = create_exchange()
    closed = create_session(exchange, mode="closed")
    draft = create_session(exchange, mode="open", status="draft")
    response = client.post("/join", data={"code": "ZZZZ-ZZZZ"})
    assert response.status_code == 404 and b'id="code-error"' in response.data
    for code in (closed.join_code, draft.join_code, "nonsense"):
        assert client.post("/join", data={"code": code}).status_code == 404
        assert client.get(f"/join/{code}").status_code == 404
    assert client.get("/join/" + "x" * 300).status_code == 404
    assert b'id="code-error"' in client.post("/join", data={"code": "x" * 300}).data
    assert closed.title.encode() not in client.post("/join", data={"code": closed.join_code}).data


def test_home_lists_my_exchanges_and_upcoming_sessions_in_my_zone(
    client, auth, create_user, create_exchange, create_session
):
    user = create_user(email="amina@example.org", timezone="Asia/Tokyo")
    exchange = create_exchange(user, title="Tokyo-Nairobi exchange")
    create_session(exchange, title="Soon", starts_at=datetime(2030, 1, 1, 0, 0))
    create_session(exchange, title="Long gone", status="ended", starts_at=datetime(2020, 1, 1))
    auth.login("amina@example.org")
    page = client.get("/").get_data(as_text=True)
    assert "Tokyo-Nairobi exchange" in page
    assert "Soon" in page and "Long gone" not in page
    assert "9:00\u202fAM" in page  # midnight UTC is 9 in the morning in Tokyo


def test_session_invitation_lets_an_outsider_into_one_closed_session(
    smtp_server, app, create_user, create_exchange, create_session
):
    from conftest import PASSWORD, first_link, message_body

    coordinator = create_user(email="amina@example.org")
    exchange = create_exchange(coordinator)
    closed = create_session(exchange, mode="closed", title="Only for invited peers")
    other = create_session(exchange, mode="closed", title="Another closed one")
    coord = app.test_client()
    coord.post("/login", data={"email": "amina@example.org", "password": PASSWORD})
    coord.post(f"/sessions/{closed.id}/invite", data={"emails": "expert@example.org"})
    assert [m["To"] for m in smtp_server] == ["expert@example.org"]
    path = first_link(message_body(smtp_server[0])).split("localhost", 1)[-1]

    create_user(email="expert@example.org")
    expert = app.test_client()
    expert.post("/login", data={"email": "expert@example.org", "password": PASSWORD})
    assert expert.get(f"/sessions/{closed.id}").status_code == 404
    assert expert.post(path).status_code == 302
    assert expert.get(f"/sessions/{closed.id}").status_code == 200
    assert expert.get(f"/sessions/{other.id}").status_code == 404
    assert expert.get(f"/exchanges/{exchange.id}").status_code == 404


def test_guest_policy_and_capacity_are_planned_with_the_session(client, auth, create_user, create_exchange):
    exchange = signed_in_coordinator(client, auth, create_user, create_exchange)
    response = client.post(
        f"/exchanges/{exchange.id}/sessions/new",
        data=session_form(mode="open", guest_policy="lobby", capacity="120"),
    )
    assert response.status_code == 302
    session = db.session.execute(db.select(ExchangeSession)).scalar_one()
    assert (session.guest_policy, session.capacity) == ("lobby", 120)
    for bad in ({"guest_policy": "everyone"}, {"capacity": "0"}, {"capacity": "lots"}):
        response = client.post(f"/sessions/{session.id}/edit", data=session_form(mode="open", **bad))
        assert response.status_code == 200 and b'class="error"' in response.data, bad
    client.post(f"/sessions/{session.id}/edit", data=session_form(mode="open", guest_policy="open", capacity=""))
    db.session.refresh(session)
    assert (session.guest_policy, session.capacity) == ("open", None)
