"""Who is in the room. Connections are rows shared by all workers; changes are coalesced per room.

A person with several tabs (or several workers) counts once. A worker refreshes its rows every
HEARTBEAT seconds; rows of a worker that died stop counting after STALE seconds and are cleaned up
(LIVE_HEARTBEAT_SECONDS and LIVE_STALE_SECONDS in the configuration).
"""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

from flask import current_app

from ..extensions import db, socketio
from ..timeutil import utcnow
from .models import LiveConnection

WORKER_ID = uuid.uuid4().hex[:16]
HEARTBEAT = 15
STALE = 45
FLUSH_EVERY = 1.0  # presence broadcasts per room at most once a second

_lock = threading.Lock()
_pending: dict[int, dict] = {}  # session_id -> {"joined": {person: info}, "left": set()}
_started = False


def _fresh_after():
    return utcnow() - timedelta(seconds=current_app.config.get("LIVE_STALE_SECONDS", STALE))


def present(session_id: int) -> list[dict]:
    """Who is in the room, as sent to clients: one entry per person (their earliest connection), lobby left out.

    Columns, not ORM objects: every arrival in a room of 1,000 reads this list, and building 1,000 mapped
    objects was most of the cost of a welcome.
    """
    c = LiveConnection.__table__.c
    query = (
        db.select(c.person, c.name, c.role, c.side, c.guest_id)
        .where(c.session_id == session_id, c.seen_at > _fresh_after(), c.lobby.is_(False))
        .order_by(c.connected_at)
    )
    people: dict[str, dict] = {}
    for person, name, role, side, guest_id in db.session.execute(query):
        if person not in people:
            people[person] = {"id": person, "name": name, "role": role, "side": side, "guest": guest_id is not None}
    return list(people.values())


def count_present(session_id: int) -> int:
    return db.session.execute(
        db.select(db.func.count(db.distinct(LiveConnection.person))).filter(
            LiveConnection.session_id == session_id,
            LiveConnection.seen_at > _fresh_after(),
            LiveConnection.lobby.is_(False),
        )
    ).scalar()


def is_present(session_id: int, person: str, except_sid: str | None = None) -> bool:
    """In the room through some connection. A lobby connection does not count: a guest just admitted
    reconnects, and their old lobby socket may still be there when the new one arrives (the room must still
    be told they joined)."""
    query = db.select(LiveConnection.sid).filter(
        LiveConnection.session_id == session_id,
        LiveConnection.person == person,
        LiveConnection.seen_at > _fresh_after(),
        LiveConnection.lobby.is_(False),
    )
    if except_sid:
        query = query.filter(LiveConnection.sid != except_sid)
    return db.session.execute(query.limit(1)).first() is not None


def add(conn: LiveConnection) -> None:
    from .services import commit_keeping_state  # the welcome that follows reuses the session it has loaded

    already = is_present(conn.session_id, conn.person)
    db.session.add(conn)
    commit_keeping_state()
    if not already and not conn.lobby:
        _queue(conn.session_id, joined=conn.public())


def remove(sid: str) -> LiveConnection | None:
    conn = db.session.get(LiveConnection, sid)
    if conn is None:
        return None
    db.session.delete(conn)
    db.session.commit()
    if not conn.lobby and not is_present(conn.session_id, conn.person):
        _queue(conn.session_id, left=conn.person)
    return conn


def _queue(session_id: int, joined: dict | None = None, left: str | None = None) -> None:
    with _lock:
        pending = _pending.setdefault(session_id, {"joined": {}, "left": set()})
        if joined:
            pending["left"].discard(joined["id"])
            pending["joined"][joined["id"]] = joined
        if left:
            if left in pending["joined"]:
                pending["joined"].pop(left)
            else:
                pending["left"].add(left)


def flush() -> None:
    """Send each room's accumulated joins and leaves as one message."""
    from .services import room

    with _lock:
        batch = dict(_pending)
        _pending.clear()
    for session_id, change in batch.items():
        if change["joined"] or change["left"]:
            socketio.emit(
                "presence",
                {
                    "joined": list(change["joined"].values()),
                    "left": sorted(change["left"]),
                    "count": count_present(session_id),
                },
                to=room(session_id),
            )


def heartbeat() -> None:
    """Keep this worker's rows fresh, and clear rows left behind by a worker that died."""
    now = utcnow()
    db.session.execute(db.update(LiveConnection).filter_by(worker=WORKER_ID).values(seen_at=now))
    stale = list(
        db.session.execute(db.select(LiveConnection).filter(LiveConnection.seen_at <= _fresh_after())).scalars()
    )
    for conn in stale:
        db.session.delete(conn)
    db.session.commit()
    for conn in stale:
        if not conn.lobby and not is_present(conn.session_id, conn.person):
            _queue(conn.session_id, left=conn.person)


def start_background(app) -> None:
    """Once per worker process: the presence flusher, the heartbeat and the sequence tick."""
    global _started
    with _lock:
        if _started:
            return
        _started = True
    socketio.start_background_task(_loop, app._get_current_object() if hasattr(app, "_get_current_object") else app)


def _loop(app) -> None:
    from .ticks import tick

    beats = 0
    while True:
        socketio.sleep(FLUSH_EVERY)
        beats += 1
        try:
            with app.app_context():
                flush()
                if beats % app.config.get("LIVE_HEARTBEAT_SECONDS", HEARTBEAT) == 0:
                    heartbeat()
                if beats % app.config["LIVE_TICK_SECONDS"] == 0:
                    tick()
        except Exception:  # noqa: BLE001 - the loop must survive a database hiccup
            app.logger.exception("presence loop failed; retrying")
            with app.app_context():
                db.session.rollback()


def forget_worker() -> None:
    """On an orderly shutdown: this worker's connections stop counting at once, not after STALE seconds."""
    rows = list(db.session.execute(db.select(LiveConnection).filter_by(worker=WORKER_ID)).scalars())
    for conn in rows:
        db.session.delete(conn)
    db.session.commit()
