"""The one wrapper every client action goes through: flood control, payload check, permission, ack."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from flask import current_app, request
from pydantic import BaseModel
from sqlalchemy import bindparam
from sqlalchemy.orm import lazyload

from ..extensions import db, prepared, socketio
from ..sessions.models import ExchangeSession
from .access import Viewer, resolve
from .flood import flood
from .protocol import Refused, parse, refusal, success


@dataclass
class Connection:
    """What this worker remembers about one of its sockets (identity is re-checked on every action)."""

    session_id: int
    person: str
    moderator: bool
    lobby: bool


connections: dict[str, Connection] = {}
# Features that keep per-socket state register a function here; the disconnect handler calls each with the sid.
disconnect_hooks: list[Callable[[str], None]] = []


def current_viewer(conn: Connection) -> tuple[ExchangeSession, Viewer]:
    """Re-check, from the database, that this person may still be here, and with what rights."""
    session = db.session.execute(_session_statement(), {"id": conn.session_id}).scalar_one_or_none()
    try:
        viewer = resolve(session)
    except Refused:
        socketio.server.disconnect(request.sid, namespace="/")
        raise Refused("not_allowed") from None
    if viewer.person != conn.person or viewer.lobby != conn.lobby:
        # Signed in as someone else, or admitted from the lobby, since connecting: start afresh.
        socketio.server.disconnect(request.sid, namespace="/")
        raise Refused("not_allowed")
    return session, viewer


@prepared
def _session_statement():
    # The agenda is loaded only by the actions that need it (it is selectin-loaded by default).
    return (
        db.select(ExchangeSession)
        .options(lazyload(ExchangeSession.agenda_items))
        .filter(ExchangeSession.id == bindparam("id"))
    )


def check_flood(sid: str, kind: str = "live") -> None:
    """Raises Refused('rate_limited'); a connection that keeps going after being told is closed.

    kind "live" uses LIVE_RATE/LIVE_BURST; kind "notes" NOTES_RATE/NOTES_BURST (typing is faster than acting).
    Moderators run the room (approving a busy queue is many actions a second), so their bucket is larger.
    """
    cfg = current_app.config
    prefix = kind.upper()
    conn = connections.get(sid)
    factor = cfg["LIVE_MODERATOR_FACTOR"] if conn is not None and conn.moderator else 1
    if not flood.allow(sid, cfg[f"{prefix}_RATE"] * factor, cfg[f"{prefix}_BURST"] * factor, kind):
        if flood.abusive(sid, kind):
            socketio.server.disconnect(sid, namespace="/")
        raise Refused("rate_limited")


def live_action(
    name: str,
    schema: type[BaseModel],
    moderator: bool = False,
    *,
    parser: Callable[[type[BaseModel], Any], BaseModel] = parse,
    flood_kind: str = "live",
):
    """Register a Socket.IO handler for `name` that always answers with an acknowledgement.

    The wrapped function receives (session, viewer, payload) and returns an event, a dict for the
    acknowledgement, or None. `parser` checks shape and size (binary payloads bring their own); `flood_kind`
    picks the rate limit.
    """

    def decorator(fn: Callable):
        @wraps(fn)
        def handler(payload=None, *extra):
            sid = request.sid
            conn = connections.get(sid)
            try:
                if conn is None:
                    raise Refused("not_allowed")
                check_flood(sid, flood_kind)
                if extra:  # one object per action; without this a second argument goes unanswered
                    raise Refused("invalid")
                data = parser(schema, payload)
                session, viewer = current_viewer(conn)
                if conn.lobby or (moderator and not viewer.moderator):
                    raise Refused("not_allowed")
                result = fn(session, viewer, data)
            except Refused as refused:
                db.session.rollback()
                return refusal(refused.code, **refused.params)
            except Exception:  # noqa: BLE001 - the connection stays up and the client is told
                db.session.rollback()
                current_app.logger.exception("live action %s failed", name)
                return refusal("server_error")
            if result is None:
                return success()
            if isinstance(result, dict):
                return success(**result)
            return success(seq=result.seq)

        socketio.on_event(name, handler)
        return handler

    return decorator
