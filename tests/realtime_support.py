"""Helpers for tests that talk to a real server process over real sockets.

`World` writes people, an exchange and sessions straight into the live server's database;
`http_session` signs in through the real login form (with its CSRF token); `LiveClient` is a
python-socketio client that records everything it receives.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

import requests
import socketio

from config import TestingConfig
from workspace import create_app
from workspace.agenda.models import AgendaItem
from workspace.auth.models import User
from workspace.exchanges.models import Exchange, Membership
from workspace.extensions import db
from workspace.sessions.models import ExchangeSession, SessionInvitee
from workspace.timeutil import utcnow

PASSWORD = "live test password"
# Unsequenced server messages a LiveClient records as they come (events and welcomes are kept apart as well).
RECORDED = ("presence", "tick", "lobby", "admitted", "revoked", "personal", "poll.results", "connect_error")
ROLES = ("coordinator", "moderator", "note_taker", "participant", "observer")


def server_app(server):
    """An app bound to the live server's database, for setting up and checking rows."""
    config = TestingConfig()
    config.SQLALCHEMY_DATABASE_URI = server.env["DATABASE_URL"]
    return create_app(config)


@dataclass
class World:
    """Everyone and everything a live test needs, by name. Ids only: rows live in the server's database."""

    users: dict[str, int] = field(
        default_factory=dict
    )  # kind -> user id ("coordinator", ..., "outsider", "other", "invitee")
    emails: dict[str, str] = field(default_factory=dict)
    exchange_id: int = 0
    sessions: dict[str, int] = field(default_factory=dict)  # "closed", "open", "draft", "closed_live", "open_live"
    codes: dict[str, str] = field(default_factory=dict)  # session name -> join code
    items: dict[str, list[int]] = field(default_factory=dict)  # session name -> agenda item ids


def build_world(server, sessions: dict[str, dict] | None = None) -> World:
    """Members with every role, an outsider, a coordinator of another exchange, an invitee of `closed`."""
    sessions = sessions or {
        "closed": {"mode": "closed", "status": "scheduled"},
        "open": {"mode": "open", "status": "scheduled"},
        "draft": {"mode": "closed", "status": "draft"},
        "closed_live": {"mode": "closed", "status": "live"},
        "open_live": {"mode": "open", "status": "live"},
    }
    world = World()
    app = server_app(server)
    tag = uuid.uuid4().hex[:6]
    with app.app_context():

        def user(kind):
            email = f"{kind}-{tag}@example.org"
            u = User(email=email, display_name=f"{kind.replace('_', ' ').title()} {tag}", timezone="UTC")
            u.set_password(PASSWORD)
            db.session.add(u)
            db.session.flush()
            world.users[kind], world.emails[kind] = u.id, email
            return u

        people = {kind: user(kind) for kind in (*ROLES, "outsider", "other", "invitee")}
        exchange = Exchange(
            title=f"Exchange {tag}",
            seeking_country="KE",
            providing_countries=["CO"],
            working_languages=["en"],
            created_by_id=people["coordinator"].id,
        )
        other_exchange = Exchange(
            title=f"Other {tag}", seeking_country="PT", providing_countries=["BR"], working_languages=["pt"]
        )
        db.session.add_all([exchange, other_exchange])
        for role in ROLES:
            db.session.add(
                Membership(
                    exchange=exchange,
                    user=people[role],
                    role=role,
                    side="providing" if role == "moderator" else "seeking",
                )
            )
        db.session.add(Membership(exchange=other_exchange, user=people["other"], role="coordinator", side="seeking"))
        made = {}
        for name, spec in sessions.items():
            s = ExchangeSession(
                exchange=exchange,
                title=f"{name} session {tag}",
                mode=spec["mode"],
                status=spec["status"],
                starts_at=utcnow() + timedelta(hours=1),
                duration_minutes=60,
                online_url="https://meet.example.org/x",
                guest_policy=spec.get("guest_policy", "open"),
                capacity=spec.get("capacity"),
            )
            for position, title in enumerate(("Opening", "Case study", "Questions")):
                s.agenda_items.append(AgendaItem(position=position, title=f"{title} {name} {tag}", minutes=10))
            db.session.add(s)
            made[name] = s
        db.session.flush()
        if "closed" in made:
            db.session.add(SessionInvitee(session=made["closed"], user=people["invitee"]))
        db.session.commit()
        world.exchange_id = exchange.id
        for name, s in made.items():
            world.sessions[name] = s.id
            world.codes[name] = s.join_code
            world.items[name] = [i.id for i in s.agenda_items]
    return world


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    assert match, "no CSRF token in the page"
    return match.group(1)


def http_session(server, email: str, password: str = PASSWORD) -> requests.Session:
    """Signed in through the real login form."""
    s = requests.Session()
    page = s.get(server.url + "/login").text
    r = s.post(
        server.url + "/login",
        data={"email": email, "password": password, "csrf_token": _csrf(page)},
        allow_redirects=False,
    )
    assert r.status_code == 302, f"login failed: {r.status_code}"
    return s


def guest_session(server, join_code: str, name: str = "Guest Visitor") -> requests.Session:
    """Joined an open session as a guest through the real join form."""
    s = requests.Session()
    page = s.get(f"{server.url}/join/{join_code}").text
    r = s.post(
        f"{server.url}/join/{join_code}", data={"display_name": name, "csrf_token": _csrf(page)}, allow_redirects=False
    )
    assert r.status_code == 302, f"guest join failed: {r.status_code}"
    return s


def logout(server, s: requests.Session) -> None:
    page = s.get(server.url + "/profile").text
    s.post(server.url + "/logout", data={"csrf_token": _csrf(page)}, allow_redirects=False)


def cookie_header(s: requests.Session | None) -> dict:
    if s is None:
        return {}
    return {"Cookie": "; ".join(f"{c.name}={c.value}" for c in s.cookies)}


class LiveClient:
    """A python-socketio client in one session's room that records what arrives."""

    def __init__(
        self,
        server,
        http: requests.Session | None,
        session_id: int,
        since: int | None = None,
        transports=("websocket",),
        origin: str | None = None,
        connect: bool = True,
    ):
        self.server = server
        self.http = http
        self.session_id = session_id
        self.transports = list(transports)
        self.origin = origin
        self.received: list[tuple[str, object]] = []
        self.welcomes: list[dict] = []
        self.events: list[dict] = []
        self.batches: list[int] = []  # the number of events in each `events` message received
        self.lock = threading.RLock()
        self.client = socketio.Client(reconnection=False)
        for name in RECORDED:
            self.client.on(name, self._recorder(name))
        self.client.on("welcome", self._on_welcome)
        self.client.on("events", self._on_events)
        self.last_seq = since
        if connect:
            self.connect(since)

    def _recorder(self, name):
        def record(data=None):
            with self.lock:
                self.received.append((name, data))

        return record

    def _on_welcome(self, data):
        with self.lock:
            self.welcomes.append(data)
            self.received.append(("welcome", data))
            for event in data.get("events", []):
                self.events.append(event)
            self.last_seq = data.get("seq", self.last_seq)

    def _on_events(self, batch):
        """A batch of sequenced events (one `events` message): recorded one by one, as ("event", data)."""
        with self.lock:
            self.batches.append(len(batch))
            for data in batch:
                self.received.append(("event", data))
                self.events.append(data)
                self.last_seq = max(self.last_seq or 0, data["seq"])

    def connect(self, since: int | None = None) -> None:
        headers = cookie_header(self.http)
        if self.origin:
            headers["Origin"] = self.origin
        auth = {"session": self.session_id}
        if since is not None:
            auth["since"] = since
        self.client.connect(self.server.url, headers=headers, auth=auth, transports=self.transports, wait_timeout=10)
        self.wait_for(lambda: self.welcomes, what="welcome")

    def reconnect(self) -> None:
        """A fresh socket that says where this client was."""
        self.client = self._fresh_client()
        self.welcomes.clear()
        self.connect(self.last_seq)

    def _fresh_client(self):
        client = socketio.Client(reconnection=False)
        for name in RECORDED:
            client.on(name, self._recorder(name))
        client.on("welcome", self._on_welcome)
        client.on("events", self._on_events)
        return client

    def call(self, event: str, payload=None, timeout: float = 10):
        return self.client.call(event, payload, timeout=timeout)

    def act(self, event: str, **payload):
        """An action with a fresh client id."""
        payload.setdefault("cid", uuid.uuid4().hex)
        return self.call(event, payload)

    def disconnect(self) -> None:
        if self.client.connected:
            self.client.disconnect()

    @property
    def connected(self) -> bool:
        return self.client.connected

    def of_type(self, type_: str) -> list[dict]:
        """The `data` of every sequenced event of this type received so far (live or replayed), in order."""
        with self.lock:
            return [e["data"] for e in self.events if e["type"] == type_]

    def of(self, name: str) -> list:
        with self.lock:
            return [data for kind, data in self.received if kind == name]

    def wait_for(self, predicate, timeout: float = 10, what: str = "condition"):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                value = predicate()
            if value:
                return value
            time.sleep(0.02)
        raise AssertionError(f"timed out waiting for {what}; received: {self.received[-10:]}")
