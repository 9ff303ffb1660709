"""The live room against the real server process (wsgi.py under eventlet) over real sockets.

One server per module (its database fresh), one world per test. Covers presence, the live agenda and
its timer, replay after reconnecting, idempotent actions, refusals with stable codes, who may connect,
cross-site connections, access changes that take effect at once, the guest lobby and capacity,
long-polling, and that the server survives bad input.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path

import pytest
import requests
import socketio
from babel.support import Translations
from conftest import LiveServer
from realtime_support import (
    ROLES,
    LiveClient,
    _csrf,
    build_world,
    cookie_header,
    guest_session,
    http_session,
    logout,
    server_app,
)

from config import BASE_DIR
from workspace.agenda.models import AgendaItem
from workspace.auth.models import User
from workspace.exchanges.models import Membership
from workspace.extensions import db
from workspace.realtime.models import LiveConnection, SessionEvent
from workspace.sessions.models import ExchangeSession

pytestmark = pytest.mark.live

MODERATOR_ACTIONS = {
    "session.start": {},
    "session.end": {},
    "agenda.set_current": {"item_id": 1},
    "agenda.next": {},
    "timer.start": {"seconds": 60},
    "timer.pause": {},
    "timer.extend": {"seconds": 60},
    "room.set_guest_policy": {"policy": "lobby"},
    "lobby.admit": {"guest_id": 1},
    "lobby.admit_all": {},
    "lobby.turn_away": {"guest_id": 1},
}
ENGLISH = {
    "not_allowed": "You are not allowed to do this.",
    "invalid": "This request is not valid.",
    "too_large": "This is too large to send.",
    "rate_limited": "You are sending too fast. Wait a moment and try again.",
    "not_live": "The session is not live.",
    "not_found": "This no longer exists.",
    "room_full": "The session is full.",
    "no_guests": "This session does not admit guests.",
}
PRESENCE_WAIT = 3  # presence is coalesced: at most one message a second per room


# --- servers, worlds and clients ---------------------------------------------------------------------------


def start_server(folder: Path, **env: str) -> LiveServer:
    return LiveServer(folder, env={key: str(value) for key, value in env.items()}).start()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The server most tests share. A high flood limit (the flood test has its own server) and a 1 s tick."""
    live = start_server(tmp_path_factory.mktemp("live"), LIVE_RATE=5000, LIVE_BURST=5000, LIVE_TICK_SECONDS=1)
    yield live
    live.stop()


@pytest.fixture(scope="module")
def data(server):
    """An app bound to the server's database, for setting up and checking rows."""
    return server_app(server)


@pytest.fixture
def world(server):
    return build_world(server)


class Client(LiveClient):
    """LiveClient that also records `connect_error` and sends Origin the way a browser does: one header.

    (websocket-client adds its own Origin header; a second one in `headers` would be sent as a duplicate.)
    """

    def __init__(self, server, http, session_id, since=None, transports=("websocket",), origin=None, connect=True):
        super().__init__(server, http, session_id, since=since, transports=transports, origin=origin, connect=False)
        self.client = self._fresh_client()
        if connect:
            self.connect(since)

    def _fresh_client(self):
        options = {"origin": self.origin} if self.origin else {}
        client = socketio.Client(reconnection=False, websocket_extra_options=options)
        for name in ("presence", "tick", "lobby", "admitted", "revoked", "connect_error"):
            client.on(name, self._recorder(name))
        client.on("welcome", self._on_welcome)
        client.on("events", self._on_events)
        return client

    def connect(self, since=None):
        headers = cookie_header(self.http)
        if self.origin and "polling" in self.transports:
            headers["Origin"] = self.origin
        auth = {"session": self.session_id}
        if since is not None:
            auth["since"] = since
        self.client.connect(self.server.url, headers=headers, auth=auth, transports=self.transports, wait_timeout=10)
        self.wait_for(lambda: self.welcomes, what="welcome")

    def kinds(self) -> list[str]:
        with self.lock:
            return [kind for kind, _ in self.received]

    def seqs(self) -> list[int]:
        with self.lock:
            return [e["seq"] for e in self.events]

    def wait_disconnected(self, timeout: float = 5) -> None:
        self.wait_for(lambda: not self.client.connected, timeout=timeout, what="disconnection")


@pytest.fixture
def connect(server):
    """connect(http, session_id, **options) -> a connected Client; all are closed after the test."""
    made: list[Client] = []

    def make(http, session_id, **options) -> Client:
        client = Client(server, http, session_id, **options)
        made.append(client)
        return client

    yield make
    for client in made:
        client.disconnect()


@pytest.fixture
def login(server, world):
    """login(kind) -> a browser signed in as that person of the world (a fresh browser each call)."""
    return lambda kind: http_session(server, world.emails[kind])


def refused(server, http, session_id, **options) -> tuple[Client, dict | str]:
    """Attempt to connect; assert it is refused and that nothing but the refusal arrived.

    Returns the client and the refusal: `{code, message}` (the connect_error's `data`) when the server
    refused the Socket.IO connection, the transport's error text when the handshake itself was refused.
    """
    client = Client(server, http, session_id, connect=False, **options)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect()
    errors = client.of("connect_error")
    assert len(errors) == 1, client.received
    assert client.kinds() == ["connect_error"], client.received
    error = errors[0]
    if isinstance(error, dict):
        assert error["message"] == error["data"]["message"]
        return client, error["data"]
    return client, error


def assert_refused(server, http, session_id, code: str, **options) -> Client:
    client, error = refused(server, http, session_id, **options)
    assert error == {"code": code, "message": ENGLISH[code]}
    return client


def signed_in_guest(server, browser: requests.Session, code: str, name: str = "Signed-in Guest"):
    """Someone signed in but not of the exchange: in an open session's room as a guest, once named."""
    assert join(server, browser, code, name).status_code == 302
    return browser


def join(server, browser: requests.Session, code: str, name: str) -> requests.Response:
    """Give a name at /join/<code> in this browser (signed in or not)."""
    page = f"{server.url}/join/{code}"
    return browser.post(
        page, data={"display_name": name, "csrf_token": _csrf(browser.get(page).text)}, allow_redirects=False
    )


def error_of(ack: dict) -> str:
    assert ack["ok"] is False, ack
    return ack["error"]["code"]


def post_form(server, browser: requests.Session, page: str, action: str, fields: dict) -> requests.Response:
    """Submit a form the way a browser does: read its page for the CSRF token, then post."""
    token = _csrf(browser.get(server.url + page).text)
    return browser.post(server.url + action, data={**fields, "csrf_token": token}, allow_redirects=False)


def membership_id(data, world, kind: str) -> int:
    with data.app_context():
        return db.session.execute(
            db.select(Membership.id).filter_by(user_id=world.users[kind], exchange_id=world.exchange_id)
        ).scalar_one()


def session_texts(data, session_id: int) -> list[str]:
    """The title and agenda titles of a session: what must never reach someone refused."""
    with data.app_context():
        session = db.session.get(ExchangeSession, session_id)
        items = db.session.execute(db.select(AgendaItem.title).filter_by(session_id=session_id)).scalars().all()
        return [session.title, *items]


def ids_in(presence_messages: list[dict], key: str) -> set[str]:
    found = set()
    for message in presence_messages:
        for entry in message[key]:
            found.add(entry["id"] if isinstance(entry, dict) else entry)
    return found


def pipeline(client: Client, event: str, payloads: list[dict], timeout: float = 90) -> list[dict]:
    """Send many actions without waiting for each acknowledgement (WebSocket only), then collect them all."""
    acks: list[dict | None] = [None] * len(payloads)
    done = threading.Event()
    remaining = [len(payloads)]
    lock = threading.Lock()

    def callback_for(index):
        def callback(ack=None):
            acks[index] = ack
            with lock:
                remaining[0] -= 1
                if remaining[0] == 0:
                    done.set()

        return callback

    for index, payload in enumerate(payloads):
        client.client.emit(event, payload, callback=callback_for(index))
    assert done.wait(timeout), f"{remaining[0]} acknowledgements missing"
    return acks


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.removesuffix("Z"))


def seconds_left(timer: dict, server_time: str) -> float:
    return (parse_time(timer["ends_at"]) - parse_time(server_time)).total_seconds()


# --- presence ----------------------------------------------------------------------------------------------


def test_people_see_each_other_two_tabs_count_once_and_leaving_is_seen(world, login, connect):
    closed = world.sessions["closed"]
    mod = connect(login("moderator"), closed)
    participant_browser = login("participant")
    tab1 = connect(participant_browser, closed)
    me, them = f"u:{world.users['moderator']}", f"u:{world.users['participant']}"

    assert {p["id"] for p in tab1.welcomes[0]["presence"]} == {me, them}
    mod.wait_for(lambda: them in ids_in(mod.of("presence"), "joined"), timeout=PRESENCE_WAIT, what="join")
    assert mod.of("presence")[-1]["count"] == 2

    # A second tab of the same person: the same one person, and nobody is told of a second join.
    seen = len(mod.of("presence"))
    tab2 = connect(participant_browser, closed)
    people = [p["id"] for p in tab2.welcomes[0]["presence"]]
    assert sorted(people) == sorted({me, them})
    observer = connect(login("observer"), closed)
    them_too = f"u:{world.users['observer']}"
    mod.wait_for(lambda: them_too in ids_in(mod.of("presence")[seen:], "joined"), timeout=PRESENCE_WAIT, what="3rd")
    later = mod.of("presence")[seen:]
    assert them not in ids_in(later, "joined")
    assert later[-1]["count"] == 3
    assert observer.welcomes[0]["you"] == {
        "id": them_too,
        "name": observer.welcomes[0]["you"]["name"],
        "role": "observer",
        "moderator": False,
    }

    # Closing one of two tabs is not leaving; closing the last one is, and everyone is told.
    seen = len(mod.of("presence"))
    tab2.disconnect()
    time.sleep(1.5)
    assert them not in ids_in(mod.of("presence")[seen:], "left")
    tab1.disconnect()
    mod.wait_for(lambda: them in ids_in(mod.of("presence")[seen:], "left"), timeout=PRESENCE_WAIT, what="leave")
    assert mod.of("presence")[-1]["count"] == 2
    observer.wait_for(lambda: them in ids_in(observer.of("presence"), "left"), timeout=PRESENCE_WAIT, what="leave")


def test_guests_are_marked_in_presence(server, world, login, connect):
    open_live = world.sessions["open_live"]
    mod = connect(login("moderator"), open_live)
    guest = connect(guest_session(server, world.codes["open_live"], "Amina Guest"), open_live)
    you = guest.welcomes[0]["you"]
    assert you["id"].startswith("g:") and you["role"] == "guest" and you["moderator"] is False
    people = {p["id"]: p for p in guest.welcomes[0]["presence"]}
    assert people[you["id"]]["guest"] is True and people[you["id"]]["name"] == "Amina Guest"
    assert people[f"u:{world.users['moderator']}"]["guest"] is False
    mod.wait_for(lambda: you["id"] in ids_in(mod.of("presence"), "joined"), timeout=PRESENCE_WAIT, what="guest")
    joined = [p for m in mod.of("presence") for p in m["joined"] if p["id"] == you["id"]]
    assert joined[0] == {"id": you["id"], "name": "Amina Guest", "role": "guest", "side": None, "guest": True}


# --- the live agenda ---------------------------------------------------------------------------------------


def test_agenda_and_timer_reach_every_participant(server, world, login, connect):
    open_ = world.sessions["open"]
    items = world.items["open"]
    mod = connect(login("moderator"), open_)
    everyone = [
        mod,
        connect(login("participant"), open_),
        connect(signed_in_guest(server, login("outsider"), world.codes["open"]), open_),
        connect(guest_session(server, world.codes["open"]), open_),
    ]
    steps = [
        ("session.start", {}),
        ("agenda.set_current", {"item_id": items[1]}),
        ("agenda.next", {}),
        ("timer.start", {"seconds": 120}),
        ("timer.pause", {}),
        ("timer.extend", {"seconds": 60}),
        ("timer.start", {}),  # resume
    ]
    acks = [mod.act(event, **payload) for event, payload in steps]
    assert [a["seq"] for a in acks] == [1, 2, 3, 4, 5, 6, 7], acks
    assert error_of(mod.act("agenda.next")) == "not_found"  # after the last item

    for client in everyone:
        client.wait_for(lambda c=client: len(c.events) >= 7, what="seven events")
        assert client.seqs() == [1, 2, 3, 4, 5, 6, 7]
        assert [e["prev"] for e in client.events] == [0, 1, 2, 3, 4, 5, 6]
    events = everyone[-1].events
    assert [e["type"] for e in events] == [
        "session.status",
        "agenda.current",
        "agenda.current",
        "timer",
        "timer",
        "timer",
        "timer",
    ]
    assert events[0]["data"]["status"] == "live" and events[0]["data"]["current_item_id"] == items[0]
    assert events[1]["data"] == {
        "current_item_id": items[1],
        "timer": {"running": False, "ends_at": None, "remaining": None},
    }
    assert events[2]["data"]["current_item_id"] == items[2]
    assert events[3]["data"]["timer"]["running"] is True and events[3]["data"]["timer"]["ends_at"]
    paused = events[4]["data"]["timer"]
    assert paused["running"] is False and paused["ends_at"] is None and 100 <= paused["remaining"] <= 120
    assert events[5]["data"]["timer"]["remaining"] == paused["remaining"] + 60
    assert events[6]["data"]["timer"]["running"] is True


def test_a_late_joiner_gets_the_current_item_the_timer_and_presence(world, login, connect):
    closed = world.sessions["closed"]
    items = world.items["closed"]
    mod = connect(login("moderator"), closed)
    connect(login("participant"), closed)
    for event, payload in [
        ("session.start", {}),
        ("agenda.next", {}),
        ("timer.start", {"seconds": 300}),
        ("timer.pause", {}),
        ("timer.extend", {"seconds": 30}),
    ]:
        assert mod.act(event, **payload)["ok"]

    paused = connect(login("observer"), closed).welcomes[0]
    snapshot = paused["snapshot"]
    assert paused["seq"] == snapshot["seq"] == 5
    assert "events" not in paused
    assert snapshot["session"]["status"] == "live" and snapshot["session"]["id"] == closed
    assert [i["id"] for i in snapshot["agenda"]] == items
    assert snapshot["current_item_id"] == items[1]
    assert snapshot["timer"]["running"] is False and snapshot["timer"]["ends_at"] is None
    assert 320 <= snapshot["timer"]["remaining"] <= 330
    present = {p["id"] for p in paused["presence"]}
    assert present == {f"u:{world.users[k]}" for k in ("moderator", "participant", "observer")}

    assert mod.act("timer.start")["ok"]  # resume
    running = connect(login("note_taker"), closed).welcomes[0]
    timer = running["snapshot"]["timer"]
    assert timer["running"] is True and timer["remaining"] is None
    assert 300 <= seconds_left(timer, running["snapshot"]["server_time"]) <= 330
    assert running["seq"] == 6 and len(running["presence"]) == 4


def test_ticks_carry_the_latest_sequence_number(world, login, connect):
    mod = connect(login("moderator"), world.sessions["closed_live"])
    last = mod.act("agenda.next")["seq"]
    mod.wait_for(lambda: {"seq": last} in mod.of("tick"), timeout=4, what="a tick with the latest seq")


# --- reconnecting ------------------------------------------------------------------------------------------


def test_reconnecting_replays_every_missed_event_in_order_exactly_once(world, login, connect):
    closed = world.sessions["closed"]
    mod = connect(login("moderator"), closed)
    peer = connect(login("participant"), closed)
    mod.act("session.start")
    mod.act("timer.start", seconds=600)
    peer.wait_for(lambda: peer.last_seq == 2, what="first events")
    peer.disconnect()

    missed = [
        mod.act(e, **p)["seq"]
        for e, p in [
            ("timer.pause", {}),
            ("timer.extend", {"seconds": 10}),
            ("agenda.next", {}),
            ("timer.start", {"seconds": 60}),
            ("timer.extend", {"seconds": 20}),
            ("agenda.next", {}),
        ]
    ]
    assert missed == [3, 4, 5, 6, 7, 8]
    peer.reconnect()  # since=2
    welcome = peer.welcomes[0]
    assert "snapshot" not in welcome
    assert [e["seq"] for e in welcome["events"]] == missed
    assert [e["prev"] for e in welcome["events"]] == [2, 3, 4, 5, 6, 7]
    assert welcome["seq"] == 8
    assert welcome["events"][-1]["data"]["current_item_id"] == world.items["closed"][2]

    assert mod.act("timer.start", seconds=30)["seq"] == 9
    peer.wait_for(lambda: peer.last_seq == 9, what="the next live event")
    time.sleep(0.3)
    assert peer.seqs() == list(range(1, 10))  # no gap, no duplicate

    # Reconnecting when nothing was missed: no events, same place.
    peer.disconnect()
    peer.reconnect()
    assert peer.welcomes[0]["events"] == [] and peer.welcomes[0]["seq"] == 9
    # A client that claims to be ahead of the server (say, after a restore from backup) starts afresh.
    peer.disconnect()
    peer.last_seq = 10**6
    peer.reconnect()
    assert "events" not in peer.welcomes[0] and peer.welcomes[0]["snapshot"]["seq"] == 9
    # `sync` answers the same way on a live connection.
    synced = peer.call("sync", {"since": 6})
    assert synced["ok"] is True and [e["seq"] for e in synced["events"]] == [7, 8, 9] and synced["seq"] == 9


def test_a_client_too_far_behind_gets_a_snapshot(world, login, connect):
    closed_live = world.sessions["closed_live"]
    mod = connect(login("moderator"), closed_live)
    peer = connect(login("participant"), closed_live)
    mod.act("agenda.next")
    start = mod.act("timer.start", seconds=60)["seq"]
    peer.wait_for(lambda: peer.last_seq == start, what="timer")
    peer.disconnect()

    payloads = [{"cid": f"bulk-{i:05d}-{uuid.uuid4().hex[:8]}", "seconds": 10} for i in range(501)]
    acks = pipeline(mod, "timer.extend", payloads)
    assert all(a["ok"] for a in acks), [a for a in acks if not a["ok"]][:3]
    assert sorted(a["seq"] for a in acks) == list(range(start + 1, start + 502))  # unique and contiguous

    latest = start + 501
    peer.reconnect()  # since=start: 501 behind
    welcome = peer.welcomes[0]
    assert "events" not in welcome
    assert welcome["seq"] == welcome["snapshot"]["seq"] == latest == peer.last_seq
    assert welcome["snapshot"]["timer"]["running"] is True

    exactly_500 = connect(login("observer"), closed_live, since=latest - 500).welcomes[0]
    assert [e["seq"] for e in exactly_500["events"]] == list(range(latest - 499, latest + 1))
    assert "snapshot" not in exactly_500


# --- idempotency -------------------------------------------------------------------------------------------


def test_the_same_client_id_twice_is_applied_once(data, world, login, connect):
    closed_live = world.sessions["closed_live"]
    mod = connect(login("moderator"), closed_live)
    peer = connect(login("participant"), closed_live)
    cid = "retry-" + uuid.uuid4().hex
    first = mod.call("agenda.next", {"cid": cid})
    again = mod.call("agenda.next", {"cid": cid})
    assert first == again == {"ok": True, "seq": 1}
    assert mod.act("timer.start", seconds=60)["seq"] == 2
    assert mod.call("agenda.next", {"cid": cid}) == first  # still the original result later on

    peer.wait_for(lambda: peer.last_seq == 2, what="events")
    time.sleep(0.3)
    assert peer.seqs() == [1, 2]
    assert peer.events[0]["data"]["current_item_id"] == world.items["closed_live"][0]  # moved once, not twice
    with data.app_context():
        rows = db.session.execute(db.select(SessionEvent).filter_by(session_id=closed_live)).scalars().all()
        assert [(r.seq, r.client_id) for r in rows if r.client_id == cid] == [(1, cid)]
        assert len(rows) == 2


# --- refusals ----------------------------------------------------------------------------------------------


def test_participants_may_not_run_the_session(world, login, connect):
    closed = world.sessions["closed"]
    mod = connect(login("moderator"), closed)
    for kind in ("participant", "observer", "note_taker", "invitee"):
        client = connect(login(kind), closed)
        assert client.welcomes[0]["you"]["moderator"] is False
        for event, payload in MODERATOR_ACTIONS.items():
            ack = client.act(event, **payload)
            assert ack == {"ok": False, "error": {"code": "not_allowed", "message": ENGLISH["not_allowed"]}}, event
    time.sleep(0.3)
    assert mod.events == [] and mod.act("session.start")["seq"] == 1


@pytest.mark.parametrize(
    ("event", "payload"),
    [
        ("agenda.next", ["cid", "abcdefgh"]),
        ("agenda.next", "abcdefgh12"),
        ("agenda.next", 42),
        ("agenda.next", None),
        ("agenda.next", {}),
        ("agenda.next", {"cid": "short"}),
        ("agenda.next", {"cid": "x" * 65}),
        ("agenda.next", {"cid": "has space!"}),
        ("agenda.next", {"cid": 12345678}),
        ("agenda.next", {"cid": "abcdefgh12", "extra": 1}),
        ("agenda.set_current", {"cid": "abcdefgh12"}),
        ("agenda.set_current", {"cid": "abcdefgh12", "item_id": "7"}),
        ("agenda.set_current", {"cid": "abcdefgh12", "item_id": True}),
        ("agenda.set_current", {"cid": "abcdefgh12", "item_id": 1.5}),
        ("agenda.set_current", {"cid": "abcdefgh12", "item_id": -3}),
        ("timer.extend", {"cid": "abcdefgh12", "seconds": 5}),
        ("timer.extend", {"cid": "abcdefgh12", "seconds": 3601}),
        ("timer.extend", {"cid": "abcdefgh12", "seconds": None}),
        ("timer.start", {"cid": "abcdefgh12", "seconds": [60]}),
        ("room.set_guest_policy", {"cid": "abcdefgh12", "policy": "everyone"}),
        ("room.set_guest_policy", {"cid": "abcdefgh12", "policy": "open", "capacity": 0}),
        ("lobby.admit", {"cid": "abcdefgh12", "guest_id": {"id": 1}}),
        ("sync", {}),
        ("sync", {"since": -1}),
        ("sync", {"since": "3"}),
        ("sync", [1]),
        ("no.such.event", {"cid": "abcdefgh12"}),
        ("admin.delete_everything", None),
    ],
)
def test_bad_shapes_are_refused_as_invalid(world, login, connect, event, payload):
    mod = connect(login("moderator"), world.sessions["closed_live"])
    assert mod.call(event, payload) == {"ok": False, "error": {"code": "invalid", "message": ENGLISH["invalid"]}}


def test_impossible_steps_oversize_payloads_not_live_and_not_found(world, login, connect):
    closed = world.sessions["closed"]
    mod = connect(login("moderator"), closed)
    # Before the session starts.
    for event, payload in [("timer.start", {}), ("agenda.next", {}), ("session.end", {}), ("timer.extend", {})]:
        payload = payload or ({"seconds": 60} if event == "timer.extend" else {})
        ack = mod.act(event, **payload)
        assert ack == {"ok": False, "error": {"code": "not_live", "message": ENGLISH["not_live"]}}, event
    # Over 8 KiB, whatever else is wrong with it.
    big = {"cid": "abcdefgh12", "item_id": 1, "note": "x" * (8 * 1024)}
    assert mod.call("agenda.set_current", big)["error"] == {"code": "too_large", "message": ENGLISH["too_large"]}
    assert error_of(mod.call("agenda.next", {"cid": "abcdefgh12", "pad": "é" * 9000})) == "too_large"

    assert mod.act("session.start")["ok"]
    assert error_of(mod.act("session.start")) == "invalid"  # live already
    assert error_of(mod.act("timer.pause")) == "invalid"  # nothing running
    assert error_of(mod.act("timer.extend", seconds=60)) == "invalid"
    for item_id in (999_999, world.items["open"][0]):  # unknown, and another session's item
        ack = mod.act("agenda.set_current", item_id=item_id)
        assert ack == {"ok": False, "error": {"code": "not_found", "message": ENGLISH["not_found"]}}
    assert error_of(mod.act("lobby.admit", guest_id=999_999)) == "not_found"
    assert error_of(mod.act("lobby.turn_away", guest_id=999_999)) == "not_found"
    assert mod.act("agenda.set_current", item_id=world.items["closed"][2])["ok"]
    assert error_of(mod.act("agenda.next")) == "not_found"
    mod.wait_for(lambda: len(mod.events) >= 2, what="the two events")
    assert [e["seq"] for e in mod.events] == [1, 2]  # nothing refused was applied
    assert mod.act("session.end")["ok"]
    assert error_of(mod.act("timer.start", seconds=60)) == "not_live"


def _french(english: str) -> str:
    catalog = Translations.load(str(BASE_DIR / "translations"), ["fr"])
    return catalog.gettext(english)


def test_refusals_are_in_the_language_of_the_person(server, data, world, connect):
    with data.app_context():
        for kind in ("participant", "outsider"):
            db.session.get(User, world.users[kind]).locale = "fr"
        db.session.commit()
    peer = connect(http_session(server, world.emails["participant"]), world.sessions["closed_live"])
    ack = peer.act("agenda.next")
    _, error = refused(server, http_session(server, world.emails["outsider"]), world.sessions["closed"])
    french = _french(ENGLISH["not_allowed"])
    assert french != ENGLISH["not_allowed"], "no French text in the catalog"
    assert ack["error"] == error == {"code": "not_allowed", "message": french}
    # Someone else in the same room still reads English.
    other = connect(http_session(server, world.emails["observer"]), world.sessions["closed_live"])
    assert other.act("agenda.next")["error"]["message"] == ENGLISH["not_allowed"]


def flood(client: Client, event: str, payload: dict, times: int = 60) -> list[str]:
    """Send the same action again and again until the server closes the connection; the codes returned."""
    codes = []
    for _ in range(times):
        if not client.connected:
            break
        try:
            ack = client.call(event, {**payload, "cid": uuid.uuid4().hex} if "cid" in payload else payload, timeout=1)
        except socketio.exceptions.TimeoutError:
            continue  # the connection was closed with this call unanswered (checked at the top)
        except socketio.exceptions.BadNamespaceError:
            break
        codes.append("ok" if ack.get("ok") else ack["error"]["code"])
    client.wait_disconnected()
    return codes


def test_flooding_is_refused_then_disconnected_while_others_carry_on(tmp_path_factory):
    flood_server = start_server(tmp_path_factory.mktemp("flood"), LIVE_RATE=2, LIVE_BURST=4, LIVE_MODERATOR_FACTOR=1)
    clients = []

    def client(browser, session_id):
        clients.append(Client(flood_server, browser, session_id))
        return clients[-1]

    try:
        world = build_world(flood_server, {"live": {"mode": "closed", "status": "live"}})
        live = world.sessions["live"]
        browser = http_session(flood_server, world.emails["moderator"])
        flooder, by_sync, by_junk = client(browser, live), client(browser, live), client(browser, live)
        calm = client(http_session(flood_server, world.emails["participant"]), live)

        codes = flood(flooder, "timer.extend", {"cid": "", "seconds": 60})
        assert codes[:4] == ["invalid"] * 4  # the burst is let through (and judged: no timer runs)
        assert codes[4:] and set(codes[4:]) <= {"rate_limited", "invalid"} and "rate_limited" in codes
        assert not flooder.connected
        assert calm.connected and by_sync.connected
        assert error_of(calm.act("agenda.next")) == "not_allowed"  # an answer, not rate_limited

        # Catch-up requests and unknown events count as well.
        assert "rate_limited" in flood(by_sync, "sync", {"since": 0})
        assert "rate_limited" in flood(by_junk, "junk.event", {})
        assert calm.connected
        # An event literally named "*" whose payload is another connection's sid makes Flask-SocketIO run the
        # catch-all as that connection: it must not be charged for it, let alone closed.
        spoofer = client(browser, live)
        for _ in range(30):
            assert error_of(spoofer.call("*", calm.client.get_sid("/"), timeout=2)) == "invalid"
        assert calm.connected and error_of(calm.act("agenda.next")) == "not_allowed"
        # Another connection of the same person starts with its own allowance.
        assert client(browser, live).act("agenda.next")["ok"]
    finally:
        for c in clients:
            c.disconnect()
        flood_server.stop()


# --- who may connect ---------------------------------------------------------------------------------------


def test_strangers_are_refused_a_closed_session_and_learn_nothing(server, data, world, login):
    closed = world.sessions["closed"]
    secrets = session_texts(data, closed)
    attempts = {
        "anonymous": None,
        "outsider": login("outsider"),
        "member of another exchange": login("other"),
        "guest of another session": guest_session(server, world.codes["open"]),
    }
    for who, browser in attempts.items():
        for session_id in (closed, world.sessions["closed_live"]):
            client = assert_refused(server, browser, session_id, "not_allowed")
            recorded = json.dumps(client.received)
            assert not [s for s in secrets if s in recorded], who
    guest = attempts["guest of another session"]
    assert_refused(server, guest, world.sessions["open_live"], "not_allowed")  # their token is for "open" only
    assert_refused(server, login("coordinator"), 2**31 - 1, "not_allowed")  # no such session
    for auth in ({}, {"session": "1"}, {"session": closed, "since": -1}, {"session": 0}):
        client = Client(server, login("coordinator"), closed, connect=False)
        client.client.connect(
            server.url, headers=cookie_header(client.http), auth=auth, transports=["websocket"], wait=False
        )
        client.wait_for(lambda c=client: c.of("connect_error"), what="refusal")
        assert [e["data"] for e in client.of("connect_error")] == [{"code": "invalid", "message": ENGLISH["invalid"]}]
        client.disconnect()


def test_every_member_and_the_invitee_may_enter_a_closed_session(world, login, connect):
    for kind in (*ROLES, "invitee"):
        client = connect(login(kind), world.sessions["closed"])
        you = client.welcomes[0]["you"]
        assert you["id"] == f"u:{world.users[kind]}"
        assert you["role"] == (kind if kind in ROLES else "participant")
        assert you["moderator"] is (kind in ("coordinator", "moderator"))
        assert client.welcomes[0]["snapshot"]["session"]["id"] == world.sessions["closed"]
        assert ("lobby" in client.welcomes[0]) is you["moderator"]  # the waiting list is for moderators


def test_drafts_are_for_coordinators_and_moderators_only(server, world, login, connect):
    draft = world.sessions["draft"]
    for kind in ("coordinator", "moderator"):
        assert connect(login(kind), draft).welcomes[0]["snapshot"]["session"]["status"] == "draft"
    for kind in ("note_taker", "participant", "observer", "invitee", "outsider"):
        assert_refused(server, login(kind), draft, "not_allowed")


def test_open_sessions_admit_members_and_named_guests(server, world, login, connect):
    open_ = world.sessions["open"]
    member = connect(login("participant"), open_).welcomes[0]["you"]
    assert member["role"] == "participant" and member["id"] == f"u:{world.users['participant']}"
    # Anyone else, signed in or not, comes in as a guest once they have given a name.
    outsider = login("outsider")
    assert_refused(server, outsider, open_, "not_allowed")
    assert_refused(server, None, open_, "not_allowed")
    signed_in_guest(server, outsider, world.codes["open"], "Outsider With A Name")
    you = connect(outsider, open_).welcomes[0]["you"]
    assert you["role"] == "guest" and you["id"].startswith("g:") and you["name"] == "Outsider With A Name"
    guest = connect(guest_session(server, world.codes["open"]), open_).welcomes[0]
    assert guest["you"]["role"] == "guest" and guest["snapshot"]["session"]["id"] == open_
    other = connect(signed_in_guest(server, login("other"), world.codes["open"]), open_)
    # A signed-in guest's connections still end when that browser signs out.
    logout(server, other.http)
    other.wait_for(lambda: other.of("revoked") == [{"code": "signed_out"}], what="revoked")
    other.wait_disconnected()


def test_a_connection_from_another_site_is_refused(server, world, login, connect):
    browser = login("moderator")
    closed = world.sessions["closed"]
    for transports in (["websocket"], ["polling"]):
        client, error = refused(server, browser, closed, transports=transports, origin="http://evil.example")
        assert isinstance(error, str)  # refused at the handshake, before any Socket.IO connection
        assert "snapshot" not in json.dumps(client.received)
        same_origin = connect(browser, closed, transports=transports, origin=server.url)
        assert same_origin.welcomes[0]["you"]["moderator"] is True


# --- access changes take effect at once --------------------------------------------------------------------


def test_signing_out_closes_that_browsers_connections_only(server, world, login, connect):
    closed = world.sessions["closed"]
    mod = connect(login("moderator"), closed)
    laptop, phone = login("participant"), login("participant")
    on_laptop, also_on_laptop, on_phone = connect(laptop, closed), connect(laptop, closed), connect(phone, closed)

    logout(server, laptop)
    for client in (on_laptop, also_on_laptop):
        client.wait_for(lambda c=client: c.of("revoked"), what="revoked")
        assert client.of("revoked") == [{"code": "signed_out"}]
        client.wait_disconnected()
    assert on_phone.connected and on_phone.of("revoked") == []
    heard = len(on_laptop.received)
    seq = mod.act("session.start")["seq"]
    on_phone.wait_for(lambda: on_phone.last_seq == seq, what="event on the other browser")
    time.sleep(0.5)
    assert len(on_laptop.received) == heard  # nothing further reaches the signed-out browser
    assert_refused(server, laptop, closed, "not_allowed")  # its cookie no longer signs anyone in


def test_a_removed_member_is_disconnected_and_cannot_come_back(server, data, world, login, connect):
    closed = world.sessions["closed"]
    mod = connect(login("moderator"), closed)
    browser = login("participant")
    peer = connect(browser, closed)
    coordinator = login("coordinator")
    members = f"/exchanges/{world.exchange_id}/members"
    response = post_form(
        server, coordinator, members, f"{members}/{membership_id(data, world, 'participant')}/remove", {}
    )
    assert response.status_code == 302

    peer.wait_for(lambda: peer.of("revoked"), what="revoked")
    assert peer.of("revoked") == [{"code": "removed"}]
    peer.wait_disconnected()
    heard = len(peer.received)
    mod.act("session.start")
    time.sleep(0.5)
    assert len(peer.received) == heard
    client = assert_refused(server, browser, closed, "not_allowed")
    assert not [s for s in session_texts(data, closed) if s in json.dumps(client.received)]
    # An open session takes them back as anyone else: as a guest, once named.
    assert_refused(server, browser, world.sessions["open"], "not_allowed")
    signed_in_guest(server, browser, world.codes["open"])
    assert connect(browser, world.sessions["open"]).welcomes[0]["you"]["role"] == "guest"


def test_a_role_change_disconnects_and_the_new_role_applies(server, data, world, login, connect):
    closed = world.sessions["closed"]
    browser = login("moderator")
    demoted = connect(browser, closed)
    watcher = connect(login("participant"), closed)
    assert demoted.act("session.start")["ok"]
    members = f"/exchanges/{world.exchange_id}/members"
    response = post_form(
        server,
        login("coordinator"),
        members,
        f"{members}/{membership_id(data, world, 'moderator')}",
        {"role": "participant", "side": "providing"},
    )
    assert response.status_code == 302

    demoted.wait_for(lambda: demoted.of("revoked"), what="revoked")
    assert demoted.of("revoked") == [{"code": "role_changed"}]
    demoted.wait_disconnected()
    assert watcher.connected
    heard = len(demoted.received)
    time.sleep(0.3)
    assert len(demoted.received) == heard
    demoted.reconnect()
    assert demoted.welcomes[0]["you"]["moderator"] is False and demoted.welcomes[0]["you"]["role"] == "participant"
    assert "lobby" not in demoted.welcomes[0]
    for event, payload in MODERATOR_ACTIONS.items():
        assert error_of(demoted.act(event, **payload)) == "not_allowed", event


# --- guests: the lobby, the policy, capacity ---------------------------------------------------------------


@pytest.fixture
def lobby_world(server):
    return build_world(
        server,
        {
            "lobby": {"mode": "open", "status": "live", "guest_policy": "lobby"},
            "small": {"mode": "open", "status": "live", "capacity": 2},
        },
    )


def test_a_guest_waits_in_the_lobby_until_admitted(server, lobby_world, connect):
    world, room = lobby_world, lobby_world.sessions["lobby"]
    mod = connect(http_session(server, world.emails["moderator"]), room)
    browser = guest_session(server, world.codes["lobby"], "Wanjiru Waiting")
    guest = connect(browser, room)
    welcome = guest.welcomes[0]
    assert set(welcome) == {"you", "lobby"}
    assert welcome["lobby"] == {"position": 1, "waiting": 1}
    guest_id = int(welcome["you"]["id"][2:])
    mod.wait_for(
        lambda: {"waiting": [{"guest_id": guest_id, "name": "Wanjiru Waiting"}]} in mod.of("lobby"), what="the lobby"
    )

    # Nothing of the room reaches the lobby: no events, no presence, no ticks, no answers to sync.
    assert mod.act("agenda.next")["ok"] and mod.act("timer.start", seconds=60)["ok"]
    assert error_of(guest.call("sync", {"since": 0})) == "not_allowed"
    assert error_of(guest.act("timer.pause")) == "not_allowed"
    time.sleep(1.5)
    assert set(guest.kinds()) <= {"welcome", "lobby"}, guest.received
    assert guest.events == []
    present = {p["id"] for p in mod.of("presence") for p in p["joined"]}
    assert welcome["you"]["id"] not in present

    assert mod.act("lobby.admit", guest_id=guest_id) == {"ok": True, "admitted": 1}
    guest.wait_for(lambda: guest.of("admitted"), what="admitted")
    guest.disconnect()
    guest.reconnect()
    inside = guest.welcomes[0]
    assert inside["snapshot"]["current_item_id"] == world.items["lobby"][0]
    assert inside["snapshot"]["timer"]["running"] is True
    assert welcome["you"]["id"] in {p["id"] for p in inside["presence"]}
    mod.wait_for(lambda: {"waiting": []} in mod.of("lobby"), what="an empty lobby")


def test_a_guest_turned_away_is_disconnected_and_cannot_return(server, lobby_world, connect):
    world, room = lobby_world, lobby_world.sessions["lobby"]
    mod = connect(http_session(server, world.emails["moderator"]), room)
    first = connect(guest_session(server, world.codes["lobby"], "First"), room)
    browser = guest_session(server, world.codes["lobby"], "Second")
    second = connect(browser, room)
    assert second.welcomes[0]["lobby"] == {"position": 2, "waiting": 2}
    second_id = int(second.welcomes[0]["you"]["id"][2:])

    assert mod.act("lobby.turn_away", guest_id=second_id) == {"ok": True}
    second.wait_for(lambda: second.of("revoked"), what="revoked")
    assert second.of("revoked") == [{"code": "turned_away"}]
    second.wait_disconnected()
    assert first.connected
    assert_refused(server, browser, room, "not_allowed")
    assert mod.act("lobby.admit_all") == {"ok": True, "admitted": 1}
    first.wait_for(lambda: first.of("admitted"), what="admitted")


def test_with_no_guests_the_join_form_refuses_and_waiting_guests_are_told(server, lobby_world, connect):
    world, room = lobby_world, lobby_world.sessions["lobby"]
    waiting = guest_session(server, world.codes["lobby"], "Early")
    mod = connect(http_session(server, world.emails["moderator"]), room)
    peer = connect(http_session(server, world.emails["participant"]), room)
    ack = mod.act("room.set_guest_policy", policy="none")
    assert ack["ok"]
    peer.wait_for(lambda: peer.events, what="policy event")
    assert peer.events[-1] == {
        "seq": ack["seq"],
        "prev": 0,
        "type": "room.policy",
        "data": {"guest_policy": "none", "capacity": None},
    }

    response = join(server, requests.Session(), world.codes["lobby"], "Late")
    assert response.status_code == 200 and ENGLISH["no_guests"] in response.text
    assert_refused(server, waiting, room, "no_guests")  # joined before; may no longer wait


def test_capacity_refuses_a_third_person_but_not_moderators(server, data, lobby_world, connect):
    world, small = lobby_world, lobby_world.sessions["small"]
    browsers = {kind: http_session(server, world.emails[kind]) for kind in ("participant", "note_taker", "observer")}
    tab1 = connect(browsers["participant"], small)
    tab2 = connect(browsers["participant"], small)  # a second tab of someone present is not a second person
    connect(browsers["note_taker"], small)
    client = assert_refused(server, browsers["observer"], small, "room_full")
    assert not [s for s in session_texts(data, small) if s in json.dumps(client.received)]
    mod = connect(http_session(server, world.emails["moderator"]), small)  # moderators always get in
    assert mod.welcomes[0]["you"]["moderator"] is True
    response = join(server, requests.Session(), world.codes["small"], "Late")
    assert response.status_code == 200 and ENGLISH["room_full"] in response.text

    tab1.disconnect()
    assert_refused(server, browsers["observer"], small, "room_full")  # the other tab still holds the place
    tab2.disconnect()
    mod.disconnect()
    assert connect(browsers["observer"], small).welcomes[0]["you"]["role"] == "observer"


# --- transports and robustness -----------------------------------------------------------------------------


def test_long_polling_works_end_to_end(server, world, login, connect):
    closed = world.sessions["closed"]
    mod = connect(login("moderator"), closed, transports=["polling"])
    peer = connect(login("participant"), closed, transports=["polling"])
    assert mod.client.transport() == "polling" and peer.client.transport() == "polling"
    mod.wait_for(
        lambda: f"u:{world.users['participant']}" in ids_in(mod.of("presence"), "joined"),
        timeout=PRESENCE_WAIT,
        what="presence",
    )
    assert [mod.act("session.start")["seq"], mod.act("agenda.next")["seq"]] == [1, 2]
    peer.wait_for(lambda: peer.last_seq == 2, what="events over polling")
    assert error_of(peer.act("agenda.next")) == "not_allowed"
    assert error_of(peer.call("agenda.next", ["not", "an", "object"])) == "invalid"
    peer.disconnect()
    mod.act("timer.start", seconds=60)
    peer.reconnect()
    assert [e["seq"] for e in peer.welcomes[0]["events"]] == [3]
    assert peer.seqs() == [1, 2, 3]


def test_forged_connect_and_disconnect_events_change_nothing(server, world, login, connect):
    closed = world.sessions["closed"]
    browser = login("participant")
    peer = connect(browser, closed)
    mod = connect(login("moderator"), closed)
    for event, payload in (("disconnect", {}), ("connect", {"session": world.sessions["open"]})):
        assert peer.call(event, payload, timeout=3) == {
            "ok": False,
            "error": {"code": "invalid", "message": ENGLISH["invalid"]},
        }
    assert error_of(peer.act("agenda.next")) == "not_allowed"  # still known to the server: judged, not dropped
    seq = mod.act("session.start")["seq"]
    peer.wait_for(lambda: peer.last_seq == seq, what="event")
    logout(server, browser)  # and still reachable by revocation
    peer.wait_for(lambda: peer.of("revoked"), what="revoked")
    peer.wait_disconnected()


def test_the_server_survives_bad_input(server, world, login, connect):
    closed_live = world.sessions["closed_live"]
    mod = connect(login("moderator"), closed_live)
    victim = connect(login("participant"), closed_live)
    junk = [
        ("agenda.next", b"\x00\xff binary"),
        ("agenda.next", {"cid": "abcdefgh12", "nested": [[[[[[[[[[{}]]]]]]]]]]}),
        ("timer.start", {"cid": "abcdefgh12", "seconds": 10**30}),
        ("timer.extend", {"cid": "abcdefgh12", "seconds": float("inf")}),
        ("sync", {"since": 10**20}),
        ("room.set_guest_policy", {"cid": "abcdefgh12", "policy": "open\u0000"}),
        ("agenda.next", "x" * 100_000),
        ("", {}),
        ("message", {}),
        ("x" * 5000, {}),
        ("agenda.next", ({"cid": "abcdefgh12"}, "a second argument")),
        ("sync", ({"since": 0}, {"since": 1})),
    ]
    for event, payload in junk:
        ack = victim.call(event, payload, timeout=5)
        assert ack["ok"] is False and ack["error"]["code"] in {"invalid", "too_large", "not_allowed"}, (event, ack)
    for event, payload in junk:
        ack = mod.call(event, payload, timeout=5)
        assert ack["ok"] is False and ack["error"]["code"] in {"invalid", "too_large"}, (event, ack)
    # A message over the transport's limit (1 MB) ends that connection, and only that one.
    victim.client.emit("agenda.next", {"cid": "abcdefgh12", "pad": "x" * 1_100_000})
    victim.wait_disconnected(timeout=10)
    assert mod.connected
    assert requests.get(server.url + "/healthz", timeout=5).ok
    assert mod.act("agenda.next") == {"ok": True, "seq": 1}
    assert connect(login("observer"), closed_live).welcomes[0]["seq"] == 1


def test_editing_the_agenda_on_its_page_reaches_the_live_room(server, world, login, connect):
    """Planners edit the agenda over HTTP; the room gets it as a sequenced event, and late joiners too."""
    session_id, items = world.sessions["closed_live"], world.items["closed_live"]
    coordinator = login("coordinator")
    peer = connect(login("participant"), session_id)
    assert connect(login("moderator"), session_id).act("agenda.set_current", item_id=items[2])["ok"]
    peer.wait_for(lambda: any(e["type"] == "agenda.current" for e in peer.events), what="current item")

    response = post_form(
        server,
        coordinator,
        f"/agenda/{items[0]}/edit",
        f"/agenda/{items[0]}/edit",
        {"title": "Opening, renamed live", "minutes": "12"},
    )
    assert response.status_code == 302
    changed = peer.wait_for(lambda: [e for e in peer.events if e["type"] == "agenda.changed"], what="agenda.changed")
    agenda = changed[-1]["data"]["agenda"]
    assert agenda[0]["title"] == "Opening, renamed live" and agenda[0]["minutes"] == 12
    assert changed[-1]["data"]["current_item_id"] == items[2]  # the room stays where it was

    # Deleting the current item clears it (and its countdown) for everyone.
    post_form(server, coordinator, f"/sessions/{session_id}/agenda", f"/agenda/{items[2]}/delete", {})
    cleared = peer.wait_for(
        lambda: [e for e in peer.events if e["type"] == "agenda.changed" and e["data"]["current_item_id"] is None],
        what="current item cleared",
    )
    assert [i["id"] for i in cleared[-1]["data"]["agenda"]] == items[:2]
    late = connect(login("observer"), session_id)
    snapshot = late.welcomes[0]["snapshot"]
    assert snapshot["current_item_id"] is None and snapshot["agenda"][0]["title"] == "Opening, renamed live"


def test_sigterm_takes_the_workers_connections_out_of_presence(tmp_path_factory):
    """An orderly stop clears this worker's presence rows at once (on PostgreSQL too, where the signal arrives
    in the event loop and the database call must run in a green thread)."""
    stopping = start_server(tmp_path_factory.mktemp("stopping"))
    world = build_world(stopping, {"live": {"mode": "closed", "status": "live"}})
    client = Client(stopping, http_session(stopping, world.emails["participant"]), world.sessions["live"])
    app = server_app(stopping)
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(LiveConnection.sid))).scalar() == 1
    stopping.proc.terminate()
    assert stopping.proc.wait(10) == 0
    client.disconnect()
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(LiveConnection.sid))).scalar() == 0
    assert "Traceback" not in stopping.log.read_text()


def test_an_idle_server_stops_at_once_on_sigterm(tmp_path_factory):
    """Nothing connected, nothing happening: the signal alone must end the process."""
    idle = start_server(tmp_path_factory.mktemp("idle"))
    time.sleep(1)  # let the event loop settle into waiting
    idle.proc.terminate()
    assert idle.proc.wait(5) == 0
