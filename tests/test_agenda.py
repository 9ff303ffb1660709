"""Agenda items: add, edit, reorder, delete, the overrun warning, and the printable session page."""

from workspace.agenda.models import AgendaItem
from workspace.extensions import db


def setup_session(client, auth, create_user, create_exchange, create_session, **kw):
    user = create_user(email="amina@example.org")
    auth.login("amina@example.org")
    return create_session(create_exchange(user), **kw)


def titles(session):
    db.session.expire_all()
    return [i.title for i in db.session.get(type(session), session.id).agenda_items]


def test_add_edit_reorder_delete(client, auth, create_user, create_exchange, create_session):
    session = setup_session(client, auth, create_user, create_exchange, create_session)
    for title, minutes in [("Welcome", 10), ("Case study", 40), ("Questions", 20)]:
        response = client.post(
            f"/sessions/{session.id}/agenda",
            data={"title": title, "minutes": minutes, "presenter": "Lucía", "expected_outcome": "Shared view"},
        )
        assert response.status_code == 302
    assert titles(session) == ["Welcome", "Case study", "Questions"]
    items = {i.title: i.id for i in db.session.execute(db.select(AgendaItem)).scalars()}

    client.post(f"/agenda/{items['Questions']}/move", data={"direction": "up"})
    assert titles(session) == ["Welcome", "Questions", "Case study"]
    client.post(f"/agenda/{items['Welcome']}/move", data={"direction": "up"})  # already first: no change
    assert titles(session) == ["Welcome", "Questions", "Case study"]
    client.post(f"/agenda/{items['Welcome']}/move", data={"direction": "down"})
    assert titles(session) == ["Questions", "Welcome", "Case study"]

    client.post(f"/agenda/{items['Welcome']}/edit", data={"title": "Opening", "minutes": 15})
    assert titles(session) == ["Questions", "Opening", "Case study"]

    client.post(f"/agenda/{items['Questions']}/delete")
    assert titles(session) == ["Opening", "Case study"]
    positions = [i.position for i in db.session.get(type(session), session.id).agenda_items]
    assert positions == [0, 1]


def test_agenda_validation(client, auth, create_user, create_exchange, create_session):
    session = setup_session(client, auth, create_user, create_exchange, create_session)
    for data, field in [
        ({"title": "", "minutes": 10}, "title"),
        ({"title": "x" * 201, "minutes": 10}, "title"),
        ({"title": "Ok", "minutes": 0}, "minutes"),
        ({"title": "Ok", "minutes": "ten"}, "minutes"),
        ({"title": "Ok", "minutes": 10, "description": "x" * 5001}, "description"),
    ]:
        response = client.post(f"/sessions/{session.id}/agenda", data=data)
        assert response.status_code == 200
        assert f'id="{field}-error"'.encode() in response.data, data
    assert titles(session) == []


def test_overrun_warning_and_times_per_item(client, auth, create_user, create_exchange, create_session):
    from datetime import datetime

    session = setup_session(
        client,
        auth,
        create_user,
        create_exchange,
        create_session,
        duration_minutes=60,
        starts_at=datetime(2027, 5, 4, 12, 0),
        host_timezone="UTC",
        agenda=[("Opening", 20), ("Debate", 50)],
    )
    page = client.get(f"/sessions/{session.id}").get_data(as_text=True)
    assert "notice-warning" in page
    assert "10 minutes longer" in page
    assert page.index("Opening") < page.index("Debate")
    assert "12:20" in page or "12:20\u202fPM" in page  # the second item starts 20 minutes in


def test_print_button_and_print_styles(client, auth, create_user, create_exchange, create_session):
    session = setup_session(client, auth, create_user, create_exchange, create_session, agenda=[("A", 5)])
    page = client.get(f"/sessions/{session.id}").get_data(as_text=True)
    assert "data-print" in page
    css = client.get("/static/css/app.css").get_data(as_text=True)
    assert "@media print" in css
