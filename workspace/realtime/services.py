"""Sequenced, durable session events: write first, then broadcast; replay from any point."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import bindparam
from sqlalchemy.exc import IntegrityError

from ..extensions import db, prepared
from ..timeutil import utcnow
from . import outbox
from .models import LiveState, SessionEvent
from .protocol import Refused
from .rooms import mods_room, person_room, room, viewers_room  # noqa: F401 - the rooms' names, imported from here

REPLAY_LIMIT = 500  # further behind than this, a client gets a fresh snapshot instead


@prepared
def _live_state_statement():
    return db.select(LiveState).filter(LiveState.session_id == bindparam("session_id"))


@prepared
def _locked_live_state_statement():
    return _live_state_statement().with_for_update()


@prepared
def _insert_events_statement():
    return db.insert(SessionEvent.__table__)


def live_state(session_id: int, lock: bool = False) -> LiveState:
    query = _locked_live_state_statement() if lock else _live_state_statement()
    state = db.session.execute(query, {"session_id": session_id}).scalar_one_or_none()
    if state is None:
        state = LiveState(session_id=session_id, last_seq=0, last_public_seq=0)
        db.session.add(state)
        db.session.flush()
    return state


def find_by_client_id(session_id: int, client_id: str) -> SessionEvent | None:
    return db.session.execute(
        db.select(SessionEvent).filter_by(session_id=session_id, client_id=client_id)
    ).scalar_one_or_none()


def commit_keeping_state() -> None:
    """Commit without expiring what the session has loaded.

    A live action commits, then broadcasts what it wrote and tells the author: by default the commit would
    expire every object, and each first touch afterwards (the session, its agenda, the board, every stored
    event) would be read back from the database, while the whole room waits (SQLite blocks the event loop).
    The values kept are the ones this transaction just read or wrote.
    """
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


class LazyState:
    """The session's LiveState, read and locked on first use.

    Most mutations (the board's) never look at the live state: for them the row is locked only once their own
    statements are done, just before the sequence numbers are taken. On PostgreSQL that lock is what puts a
    session's actions one after another, and each statement inside it is a round trip the others wait for.
    """

    def __init__(self, session_id: int) -> None:
        self._session_id = session_id
        self._state: LiveState | None = None

    def get(self) -> LiveState:
        if self._state is None:
            self._state = live_state(self._session_id, lock=True)
        return self._state

    def __getattr__(self, name: str):
        return getattr(self.get(), name)

    def __setattr__(self, name: str, value) -> None:
        if name.startswith("_"):
            super().__setattr__(name, value)
        else:
            setattr(self.get(), name, value)


class NoChange(Exception):
    """Raised by a mutation that finds nothing to do (a second vote, say): nothing is written or sent."""


@dataclass
class Out:
    """One event a mutation wants written: its type, data and audience ("all" or "mods")."""

    type: str
    data: dict
    audience: str = "all"


def commit_events(
    session_id: int,
    mutate: Callable[[LazyState], list[Out]],
    actor: str | None = None,
    client_id: str | None = None,
) -> tuple[list[SessionEvent], bool]:
    """Apply `mutate` to the live state and store the events it returns, in one transaction.

    Returns (events, duplicate). A client id seen before returns the event stored with it and changes
    nothing; NoChange from `mutate` returns ([], False). `mutate` may raise Refused; nothing is written then.
    Several events let one change say different things to moderators and to everyone (names under
    non-attribution, say) with consecutive sequence numbers.
    """
    # A retry is recognised by its client id. Retries are rare, so the id is looked up only when the action
    # does not go through as new: refused, nothing to change, or the unique constraint on the id at commit.
    for _attempt in range(5):
        lazy = LazyState(session_id)
        try:
            outs = mutate(lazy)
        except (NoChange, Refused) as outcome:
            db.session.rollback()
            existing = find_by_client_id(session_id, client_id) if client_id else None
            if existing is not None:
                return [existing], True
            if isinstance(outcome, NoChange):
                return [], False
            raise
        state = lazy.get()
        rows = []
        now = utcnow()
        for index, out in enumerate(outs):
            seq = state.last_seq + 1
            prev = state.last_public_seq if out.audience == "all" else state.last_seq
            state.last_seq = seq
            if out.audience == "all":
                state.last_public_seq = seq
            rows.append(
                {
                    "session_id": session_id,
                    "seq": seq,
                    "prev": prev,
                    "audience": out.audience,
                    "type": out.type,
                    "data": out.data,
                    "actor": actor,
                    "client_id": client_id if index == 0 else None,
                    "created_at": now,
                }
            )
        # Written as a table statement: the events are never read back in this transaction, and the unit of work
        # made them cost more than the rest of most actions. What the caller gets are unsaved copies of the rows.
        events = [SessionEvent(**row) for row in rows]
        try:
            if rows:
                db.session.execute(_insert_events_statement(), rows)
            commit_keeping_state()
        except IntegrityError:
            # The same client id (a retry: answer with what it got the first time), or another worker took
            # this seq (SQLite has no row lock): try again.
            db.session.rollback()
            existing = find_by_client_id(session_id, client_id) if client_id else None
            if existing is not None:
                return [existing], True
            continue
        return events, False
    raise RuntimeError("could not assign a sequence number")


def commit_event(
    session_id: int,
    type_: str,
    mutate: Callable[[LazyState], dict] | None = None,
    data: dict | None = None,
    actor: str | None = None,
    client_id: str | None = None,
    audience: str = "all",
) -> tuple[SessionEvent, bool]:
    """One event: `mutate` (optional) changes the live state and returns the event's data."""

    def one(state: LiveState) -> list[Out]:
        event_data = mutate(state) if mutate else None
        return [Out(type_, event_data if event_data is not None else (data or {}), audience)]

    events, duplicate = commit_events(session_id, one, actor=actor, client_id=client_id)
    return events[0], duplicate


def broadcast(*events: SessionEvent) -> None:
    """Send stored events, in order, each to its audience (batched per room: see outbox.py)."""
    by_session: dict[int, list[tuple[str, dict]]] = {}
    for event in events:
        by_session.setdefault(event.session_id, []).append((event.audience, event.wire()))
    for session_id, batch in by_session.items():
        outbox.send(session_id, batch)


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
