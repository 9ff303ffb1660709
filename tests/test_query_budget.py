"""How many SQL statements each live action costs.

The lecture benchmark showed that a live room's cost is per action, not per delivery: every statement an
action runs is paid for each contribution, approval, vote and arrival, while the whole room waits (SQLite
calls block the event loop). These budgets keep that number from creeping back up; they count statements,
not time, so they hold on any machine.
"""

from __future__ import annotations

import re
import threading
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from tests.conftest import PASSWORD
from workspace.extensions import db, socketio
from workspace.realtime import presence
from workspace.realtime.models import LiveConnection

MEMBERS = 40  # a realistic exchange: loading every membership on each action would show up here


@contextmanager
def counting():
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def _join_as_guest(app, code: str, name: str):
    client = app.test_client()
    response = client.post(f"/join/{code}", data={"display_name": name})
    assert response.status_code in (302, 303), response.status_code
    return client


@pytest.fixture
def room(app, create_user, create_exchange, add_member, create_session, monkeypatch):
    # In-process: no presence loop (a thread that would outlive this test's database).
    monkeypatch.setattr(presence, "start_background", lambda _app: None)
    coordinator = create_user("coordinator@example.org", "Coordinator")
    exchange = create_exchange(coordinator)
    for i in range(MEMBERS):
        add_member(exchange, create_user(f"member{i}@example.org", f"Member {i}"))
    session = create_session(exchange, mode="open", status="live", agenda=[("Opening", 10), ("Questions", 20)])
    moderator_http = app.test_client()
    signed_in = moderator_http.post("/login", data={"email": "coordinator@example.org", "password": PASSWORD})
    assert signed_in.status_code == 302 and "/login" not in signed_in.headers["Location"], signed_in.status_code
    yield session.id, session.join_code, moderator_http
    # The sockets' presence rows would outlive the test (on PostgreSQL the next module's live servers count them).
    for client in list(OPEN):
        fresh(client.disconnect)
    OPEN.clear()
    db.session.execute(db.delete(LiveConnection).filter_by(session_id=session.id))
    db.session.commit()


OPEN: list = []  # socket clients of the running test


def _socket(app, http, session_id: int):
    client = socketio.test_client(app, flask_test_client=http, auth={"session": session_id})
    assert client.is_connected()
    OPEN.append(client)
    client.get_received()
    return client


def fresh(fn, *args, **kwargs):
    """Run a socket call the way a server runs it: in its own context, not inside the test's app context
    (which would share `g`, and so the signed-in user, between the test's clients)."""
    out = {}

    def run():
        out["value"] = fn(*args, **kwargs)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    return out["value"]


def _tables(statements: list[str]) -> list[str]:
    return [re.sub(r"\s+", " ", s)[:140] for s in statements]


# Statements per action in a live open session with pre-moderation (SQLite and PostgreSQL alike).
BUDGET = {"connect": 18, "post": 9, "approve": 13, "vote": 12}


def check(name: str, statements: list[str]) -> None:
    listing = "\n".join(_tables(statements))
    assert len(statements) <= BUDGET[name], f"{name}: {len(statements)} statements > {BUDGET[name]}:\n{listing}"


def test_board_actions_stay_within_their_statement_budget(app, room):
    session_id, code, moderator_http = room
    moderator = fresh(_socket, app, moderator_http, session_id)
    guest_http = _join_as_guest(app, code, "Guest One")
    # The first post creates the board's rows; the budgets are for a room already running.
    warm = fresh(fresh_post, app, guest_http, session_id, "cid-warm-0001")
    assert warm["ok"], warm
    with counting() as connect:
        guest = fresh(_socket, app, guest_http, session_id)
    check("connect", connect)
    with counting() as post:
        ack = fresh(guest.emit, "board.post", {"body": "A question", "cid": "cid-post-0001"}, callback=True)
    assert ack["ok"], ack
    check("post", post)
    with counting() as approve:
        approved = fresh(
            moderator.emit,
            "board.moderate",
            {"id": ack["id"], "action": "approve", "cid": "cid-appr-0001"},
            callback=True,
        )
    assert approved["ok"], approved
    check("approve", approve)
    with counting() as vote:
        voted = fresh(
            guest.emit, "board.vote", {"id": ack["id"], "support": True, "cid": "cid-vote-0001"}, callback=True
        )
    assert voted["ok"], voted
    check("vote", vote)
    # What was counted did happen: the author sees their post approved, with their vote.
    personal: dict = {}
    for message in guest.get_received():
        if message["name"] == "personal":
            personal.update(message["args"][0])
    mine = {c["id"]: c["status"] for c in personal["contributions"]}
    assert mine[ack["id"]] == "approved" and personal["votes"] == [ack["id"]]


def fresh_post(app, http, session_id: int, cid: str) -> dict:
    client = _socket(app, http, session_id)
    try:
        return client.emit("board.post", {"body": "Warming up", "cid": cid}, callback=True)
    finally:
        client.disconnect()
        OPEN.remove(client)
