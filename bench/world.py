"""The people and the session a benchmark needs: rows written straight into the server's database, and
identities obtained through the real HTTP routes (the login form and /join/<code>, with their CSRF tokens)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

PASSWORD = "bench-password-" + "x" * 8  # noqa: S105 (a throwaway account in a throwaway database)
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


@dataclass
class World:
    session_id: int
    join_code: str
    moderator_email: str


_apps: dict = {}


def _app(database_url: str):
    """One app per database URL for the whole benchmark (building one takes a couple of seconds)."""
    if database_url not in _apps:
        from config import TestingConfig
        from workspace import create_app

        config = TestingConfig()
        config.SQLALCHEMY_DATABASE_URI = database_url
        _apps[database_url] = create_app(config)
    return _apps[database_url]


def build_world(database_url: str, title: str = "Bench lecture") -> World:
    """An exchange with its coordinator, and one open, live session that admits guests at once."""
    from workspace.agenda.models import AgendaItem
    from workspace.auth.models import User
    from workspace.exchanges.models import Exchange, Membership
    from workspace.extensions import db
    from workspace.sessions.models import ExchangeSession
    from workspace.timeutil import utcnow

    app = _app(database_url)
    tag = secrets.token_hex(3)
    with app.app_context():
        moderator = User(email=f"moderator-{tag}@bench.baraza", display_name=f"Moderator {tag}", timezone="UTC")
        moderator.set_password(PASSWORD)
        exchange = Exchange(
            title=f"Bench exchange {tag}",
            seeking_country="KE",
            providing_countries=["CO", "PT"],
            working_languages=["en"],
            created_by_id=None,
        )
        db.session.add_all([moderator, exchange])
        db.session.flush()
        exchange.created_by_id = moderator.id
        db.session.add(Membership(exchange=exchange, user=moderator, role="coordinator", side="facilitator"))
        session = ExchangeSession(
            exchange=exchange,
            title=f"{title} {tag}",
            mode="open",
            status="live",
            starts_at=utcnow() - timedelta(minutes=5),
            duration_minutes=120,
            online_url="https://meet.example.org/bench",
            guest_policy="open",
        )
        session.agenda_items.append(AgendaItem(position=0, title="Questions from the public", minutes=60))
        db.session.add(session)
        db.session.commit()
        world = World(session.id, session.join_code, moderator.email)
        db.session.remove()
        db.engine.dispose()
    return world


def public_sequence(database_url: str, session_id: int) -> list[int]:
    """Every sequence number everyone in the room may see, from the database: the ground truth."""
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT seq FROM session_events WHERE session_id = :s AND audience = 'all' ORDER BY seq"),
                {"s": session_id},
            )
            return [r[0] for r in rows]
    finally:
        engine.dispose()


def _csrf(html: str) -> str:
    match = CSRF.search(html)
    if not match:
        raise RuntimeError("no CSRF token in the page")
    return match.group(1) or match.group(2)


def _session_cookie(response) -> str:
    morsel = response.cookies.get("session")
    if morsel is None:
        raise RuntimeError(f"no session cookie from {response.url} ({response.status})")
    return f"session={morsel.value}"


async def login(http, base: str, email: str, password: str = PASSWORD) -> str:
    """Sign in through the login form; returns the Cookie header for the signed-in session."""
    async with http.get(base + "/login") as r:
        token, cookie = _csrf(await r.text()), _session_cookie(r)
    data = {"email": email, "password": password, "csrf_token": token}
    async with http.post(base + "/login", data=data, headers={"Cookie": cookie}, allow_redirects=False) as r:
        if r.status != 302:
            raise RuntimeError(f"login failed: {r.status}")
        return _session_cookie(r)


async def join_guests(http, base: str, code: str, names: list[str]) -> list[str]:
    """Join as guests through POST /join/<code>; returns one Cookie header per guest.

    One GET gives the form's CSRF token and a fresh cookie; each POST made with that (guest-less) cookie
    creates a new guest, exactly as a new browser would, and answers with that guest's own cookie.
    """
    async with http.get(f"{base}/join/{code}") as r:
        token, cookie = _csrf(await r.text()), _session_cookie(r)
    cookies = []
    for name in names:
        data = {"display_name": name, "csrf_token": token}
        async with http.post(f"{base}/join/{code}", data=data, headers={"Cookie": cookie}, allow_redirects=False) as r:
            if r.status != 302:
                raise RuntimeError(f"guest join failed: {r.status}")
            cookies.append(_session_cookie(r))
    return cookies
