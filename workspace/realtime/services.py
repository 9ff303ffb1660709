"""Sequenced, durable session events: write first, then broadcast; replay from any point."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.exc import IntegrityError

from ..extensions import db, socketio
from .models import LiveState, SessionEvent

REPLAY_LIMIT = 500  # further behind than this, a client gets a fresh snapshot instead


def room(session_id: int) -> str:
    return f"s:{session_id}"


def mods_room(session_id: int) -> str:
    return f"m:{session_id}"


def person_room(session_id: int, person: str) -> str:
    return f"p:{session_id}:{person}"


def live_state(session_id: int, lock: bool = False) -> LiveState:
    query = db.select(LiveState).filter_by(session_id=session_id)
    if lock:
        query = query.with_for_update()
    state = db.session.execute(query).scalar_one_or_none()
    if state is None:
        state = LiveState(session_id=session_id, last_seq=0, last_public_seq=0)
        db.session.add(state)
        db.session.flush()
    return state


def find_by_client_id(session_id: int, client_id: str) -> SessionEvent | None:
    return db.session.execute(
        db.select(SessionEvent).filter_by(session_id=session_id, client_id=client_id)
    ).scalar_one_or_none()


def commit_event(
    session_id: int,
    type_: str,
    mutate: Callable[[LiveState], dict] | None = None,
    data: dict | None = None,
    actor: str | None = None,
    client_id: str | None = None,
    audience: str = "all",
) -> tuple[SessionEvent, bool]:
    """Apply `mutate` to the live state and store the event in one transaction.

    Returns (event, duplicate). A client id seen before returns the stored event and changes nothing.
    `mutate` may raise Refused; nothing is written then.
    """
    for _attempt in range(5):
        if client_id:
            existing = find_by_client_id(session_id, client_id)
            if existing is not None:
                return existing, True
        state = live_state(session_id, lock=True)
        event_data = mutate(state) if mutate else None
        seq = state.last_seq + 1
        prev = state.last_public_seq if audience == "all" else state.last_seq
        state.last_seq = seq
        if audience == "all":
            state.last_public_seq = seq
        event = SessionEvent(
            session_id=session_id,
            seq=seq,
            prev=prev,
            audience=audience,
            type=type_,
            data=event_data if event_data is not None else (data or {}),
            actor=actor,
            client_id=client_id,
        )
        db.session.add(event)
        try:
            db.session.commit()
        except IntegrityError:
            # Another worker took this seq (SQLite has no row lock) or the same client id: try again.
            db.session.rollback()
            continue
        return event, False
    raise RuntimeError("could not assign a sequence number")


def broadcast(event: SessionEvent) -> None:
    target = room(event.session_id) if event.audience == "all" else mods_room(event.session_id)
    socketio.emit("event", event.wire(), to=target)


def events_since(session_id: int, since: int, moderator: bool) -> list[SessionEvent] | None:
    """Events after `since` the viewer may see, in order; None when too far behind to replay."""
    query = db.select(SessionEvent).filter(SessionEvent.session_id == session_id, SessionEvent.seq > since)
    if not moderator:
        query = query.filter(SessionEvent.audience == "all")
    events = list(db.session.execute(query.order_by(SessionEvent.seq).limit(REPLAY_LIMIT + 1)).scalars())
    if len(events) > REPLAY_LIMIT:
        return None
    return events


def last_seq(session_id: int, moderator: bool) -> int:
    state = db.session.get(LiveState, session_id)
    if state is None:
        return 0
    return state.last_seq if moderator else state.last_public_seq
