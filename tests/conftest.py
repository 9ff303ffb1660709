"""Fixtures: an app with a fresh database per test, factories, an SMTP server, a live server process."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from flask.testing import FlaskClient

from config import BASE_DIR, TestingConfig
from workspace import create_app
from workspace.agenda.models import AgendaItem
from workspace.auth.models import User
from workspace.exchanges.models import Exchange, Membership
from workspace.extensions import db
from workspace.sessions.models import ExchangeSession, SessionInvitee
from workspace.timeutil import utcnow

PASSWORD = "correct horse battery"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",  # the machine refuses outside connections; don't try them
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def config():
    return TestingConfig()


class IsolatedClient(FlaskClient):
    """Each request gets its own app context (its own `g` and database session), as in production.

    The test keeps an app context pushed for its own set-up and assertions; without this, Flask
    would reuse that context for every request and leak `g` (the signed-in user) between requests.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def app(config):
    app = create_app(config)
    app.test_client_class = IsolatedClient
    with app.app_context():
        _fresh_schema()
        yield app
        db.session.remove()
        if db.engine.dialect.name == "sqlite":
            db.drop_all()


def _fresh_schema() -> None:
    """An empty database per test: SQLite in memory is rebuilt; PostgreSQL is truncated (much faster)."""
    if db.engine.dialect.name != "postgresql":
        db.drop_all()
        db.create_all()
        return
    import sqlalchemy as sa

    existing = set(sa.inspect(db.engine).get_table_names())
    if set(db.metadata.tables) - existing:
        db.drop_all()
        db.create_all()
        return
    tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class AuthActions:
    def __init__(self, client):
        self.client = client

    def login(self, email: str, password: str = PASSWORD, follow: bool = False):
        return self.client.post("/login", data={"email": email, "password": password}, follow_redirects=follow)

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def create_user(app):
    counter = iter(range(1, 10_000))

    def make(email: str | None = None, name: str | None = None, password: str = PASSWORD, **fields) -> User:
        n = next(counter)
        user = User(
            email=email or f"user{n}@example.org",
            display_name=name or f"User {n}",
            timezone=fields.pop("timezone", "UTC"),
            **fields,
        )
        user.set_password(password)
        db.session.add(user)
        db.session.commit()
        return user

    return make


@pytest.fixture
def create_exchange(app, create_user):
    def make(coordinator: User | None = None, **fields) -> Exchange:
        coordinator = coordinator or create_user()
        exchange = Exchange(
            title=fields.pop("title", "Water policy exchange"),
            goal=fields.pop("goal", "Learn how to regulate water utilities."),
            seeking_country=fields.pop("seeking_country", "KE"),
            providing_countries=fields.pop("providing_countries", ["CO", "PT"]),
            working_languages=fields.pop("working_languages", ["en", "fr"]),
            created_by_id=coordinator.id,
            **fields,
        )
        db.session.add(exchange)
        db.session.add(Membership(exchange=exchange, user=coordinator, role="coordinator", side="facilitator"))
        db.session.commit()
        return exchange

    return make


@pytest.fixture
def add_member(app):
    def make(exchange: Exchange, user: User, role: str = "participant", side: str = "seeking") -> Membership:
        member = Membership(exchange=exchange, user=user, role=role, side=side)
        db.session.add(member)
        db.session.commit()
        return member

    return make


@pytest.fixture
def create_session(app):
    def make(exchange: Exchange, mode: str = "closed", status: str = "scheduled", agenda=(), **fields):
        session = ExchangeSession(
            exchange=exchange,
            title=fields.pop("title", f"{mode.title()} round table"),
            mode=mode,
            status=status,
            starts_at=fields.pop("starts_at", utcnow().replace(microsecond=0) + timedelta(days=2)),
            host_timezone=fields.pop("host_timezone", "Africa/Nairobi"),
            duration_minutes=fields.pop("duration_minutes", 90),
            online_url=fields.pop("online_url", "https://meet.example.org/room"),
            **fields,
        )
        for position, (title, minutes) in enumerate(agenda):
            session.agenda_items.append(AgendaItem(position=position, title=title, minutes=minutes))
        db.session.add(session)
        db.session.commit()
        return session

    return make


@pytest.fixture
def invite_to_session(app):
    def make(session: ExchangeSession, user: User) -> SessionInvitee:
        invitee = SessionInvitee(session=session, user=user)
        db.session.add(invitee)
        db.session.commit()
        return invitee

    return make


@pytest.fixture
def smtp_server(config):
    """A real SMTP server (aiosmtpd) on a free port; the app under test sends to it."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    received = []

    class Collect(Message):
        def handle_message(self, message):
            received.append(message)

    port = free_port()
    controller = Controller(Collect(), hostname="127.0.0.1", port=port)
    controller.start()
    config.MAIL_SERVER = "127.0.0.1"
    config.MAIL_PORT = port
    try:
        yield received
    finally:
        controller.stop()


def message_body(message) -> str:
    part = message.get_body(("plain",)) if hasattr(message, "get_body") else None
    payload = (part or message).get_payload(decode=True)
    return payload.decode("utf-8") if isinstance(payload, bytes) else str(payload)


def first_link(text: str) -> str:
    return re.search(r"https?://\S+", text).group(0)


class LiveServer:
    """The real entry point (wsgi.py, eventlet) in a subprocess on a free port."""

    def __init__(self, tmp_path: Path, env: dict | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db_path = tmp_path / "live.sqlite3"
        self.env = {
            **os.environ,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "SECRET_KEY": "live-test-secret",
            "DATABASE_URL": os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{self.db_path}",
            "SESSION_COOKIE_SECURE": "0",
            "PREFERRED_URL_SCHEME": "http",
            "BARAZA_ENV": "development",
            **(env or {}),
        }
        self.proc = None
        self.log = tmp_path / f"server-{self.port}.log"

    def flask(self, *args: str) -> str:
        out = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "workspace", *args],
            cwd=BASE_DIR,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        )
        return out.stdout

    def start(self) -> LiveServer:
        if self.env["DATABASE_URL"].startswith("postgresql"):
            _usable_postgres(self.env["DATABASE_URL"])
        self.proc = subprocess.Popen(
            [sys.executable, "wsgi.py"],
            cwd=BASE_DIR,
            env=self.env,
            stdout=open(self.log, "w"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited:\n" + self.log.read_text())
            try:
                if requests.get(self.url + "/healthz", timeout=1).ok:
                    return self
            except requests.RequestException:
                time.sleep(0.2)
        raise RuntimeError("server did not start:\n" + self.log.read_text())

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@pytest.fixture
def live_server(tmp_path):
    server = LiveServer(tmp_path)
    if os.environ.get("TEST_DATABASE_URL"):
        _reset_postgres(os.environ["TEST_DATABASE_URL"])
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _usable_postgres(url: str) -> None:
    """The server migrates on start; in-process tests create and drop tables without Alembic. A schema that
    is not exactly "every table plus Alembic's version" is rebuilt from the migrations."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            existing = set(sa.inspect(conn).get_table_names())
            versioned = (
                "alembic_version" in existing and conn.execute(sa.text("SELECT count(*) FROM alembic_version")).scalar()
            )
    finally:
        engine.dispose()
    if not versioned or set(db.metadata.tables) - existing:
        _reset_postgres(url)


def _reset_postgres(url: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def browser():
    """One Debian chromium for the run, driven by Playwright; a missing chromium fails (CI installs it)."""
    import shutil

    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("chromium is not on PATH: install Debian's chromium package (never `playwright install`)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
