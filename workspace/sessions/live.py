"""Running a live session: status, the current agenda item, its countdown, guest policy.

Each operation is one function, used by the socket events (and by HTTP routes where they exist);
each commits a sequenced event before it is broadcast.
"""

from __future__ import annotations

from datetime import timedelta

from ..extensions import db
from ..realtime.models import LiveState
from ..realtime.protocol import Refused
from ..realtime.services import Out, broadcast, commit_event, commit_events, last_seq, live_state
from ..timeutil import utcnow
from .models import ExchangeSession, GuestPolicy, Status


def iso(value) -> str:
    """UTC with milliseconds and a Z: what every browser's Date parses."""
    return value.isoformat(timespec="milliseconds") + "Z"


def timer_wire(state: LiveState | None) -> dict:
    if state is None or (state.timer_ends_at is None and state.timer_remaining is None):
        return {"running": False, "ends_at": None, "remaining": None}
    if state.timer_ends_at is not None:
        return {"running": True, "ends_at": iso(state.timer_ends_at), "remaining": None}
    return {"running": False, "ends_at": None, "remaining": state.timer_remaining}


def agenda_wire(session: ExchangeSession) -> list[dict]:
    return [
        {
            "id": i.id,
            "title": i.title,
            "minutes": i.minutes,
            "presenter": i.presenter,
            "expected_outcome": i.expected_outcome,
        }
        for i in session.agenda_items
    ]


def _require_live(session: ExchangeSession) -> None:
    if session.status != Status.LIVE:
        raise Refused("not_live")


def _item_ids(session: ExchangeSession) -> list[int]:
    return [i.id for i in session.agenda_items]


def _stop_timer(state: LiveState) -> None:
    state.timer_ends_at = None
    state.timer_remaining = None


def _run(session: ExchangeSession, type_: str, mutate, actor: str, cid: str):
    event, duplicate = commit_event(session.id, type_, mutate=mutate, actor=actor, client_id=cid)
    if not duplicate:
        broadcast(event)
    return event


def start(session: ExchangeSession, actor: str, cid: str):
    def mutate(state):
        if not session.can_move_to(Status.LIVE):
            raise Refused("invalid")
        session.move_to(Status.LIVE)
        if state.current_item_id is None and session.agenda_items:
            state.current_item_id = session.agenda_items[0].id
        return {"status": session.status, "current_item_id": state.current_item_id, "timer": timer_wire(state)}

    return _run(session, "session.status", mutate, actor, cid)


def end(session: ExchangeSession, actor: str, cid: str):
    """The session is over: the countdown stops, the floor closes, open polls close and the feedback form
    opens (if set to), in one transaction."""
    from ..board import polls, speakers
    from ..feedback.services import on_session_ended

    def mutate(state):
        _require_live(session)
        session.move_to(Status.ENDED)
        on_session_ended(session)
        _stop_timer(state)
        speakers.close_floor(session)
        closed = polls.close_all(session)
        status = {"status": session.status, "current_item_id": state.current_item_id, "timer": timer_wire(state)}
        return [Out("session.status", status), speakers.queue_out(session), *closed]

    events, duplicate = commit_events(session.id, mutate, actor=actor, client_id=cid)
    if not duplicate:
        broadcast(*events)
    return events[0]


def set_item(session: ExchangeSession, item_id: int, actor: str, cid: str):
    def mutate(state):
        _require_live(session)
        if item_id not in _item_ids(session):
            raise Refused("not_found")
        state.current_item_id = item_id
        _stop_timer(state)
        return {"current_item_id": item_id, "timer": timer_wire(state)}

    return _run(session, "agenda.current", mutate, actor, cid)


def next_item(session: ExchangeSession, actor: str, cid: str):
    def mutate(state):
        _require_live(session)
        ids = _item_ids(session)
        if not ids:
            raise Refused("not_found")
        index = ids.index(state.current_item_id) + 1 if state.current_item_id in ids else 0
        if index >= len(ids):
            raise Refused("not_found")
        state.current_item_id = ids[index]
        _stop_timer(state)
        return {"current_item_id": state.current_item_id, "timer": timer_wire(state)}

    return _run(session, "agenda.current", mutate, actor, cid)


def _current_minutes(session: ExchangeSession, state: LiveState) -> int:
    for item in session.agenda_items:
        if item.id == state.current_item_id:
            return item.minutes
    return 0


def timer_start(session: ExchangeSession, seconds: int | None, actor: str, cid: str):
    """Start the countdown (the item's minutes unless told), or resume it when paused."""

    def mutate(state):
        _require_live(session)
        if seconds is None and state.timer_remaining is not None:
            length = state.timer_remaining
        else:
            length = seconds or _current_minutes(session, state) * 60
        if length <= 0:
            raise Refused("invalid")
        state.timer_ends_at = utcnow() + timedelta(seconds=length)
        state.timer_remaining = None
        return {"timer": timer_wire(state)}

    return _run(session, "timer", mutate, actor, cid)


def timer_pause(session: ExchangeSession, actor: str, cid: str):
    def mutate(state):
        _require_live(session)
        if state.timer_ends_at is None:
            raise Refused("invalid")
        state.timer_remaining = max(0, int((state.timer_ends_at - utcnow()).total_seconds()))
        state.timer_ends_at = None
        return {"timer": timer_wire(state)}

    return _run(session, "timer", mutate, actor, cid)


def timer_extend(session: ExchangeSession, seconds: int, actor: str, cid: str):
    def mutate(state):
        _require_live(session)
        if state.timer_ends_at is not None:
            state.timer_ends_at = max(state.timer_ends_at, utcnow()) + timedelta(seconds=seconds)
        elif state.timer_remaining is not None:
            state.timer_remaining += seconds
        else:
            raise Refused("invalid")
        return {"timer": timer_wire(state)}

    return _run(session, "timer", mutate, actor, cid)


def set_guest_policy(session: ExchangeSession, policy: str, capacity: int | None, actor: str, cid: str):
    def mutate(state):
        if not session.is_open and policy != GuestPolicy.NONE:
            raise Refused("invalid")
        session.guest_policy = policy
        session.capacity = capacity
        return {"guest_policy": policy, "capacity": capacity}

    return _run(session, "room.policy", mutate, actor, cid)


def agenda_changed(session: ExchangeSession) -> None:
    """Tell a live room that the planners edited the agenda (called after the HTTP edit is saved)."""
    if db.session.get(LiveState, session.id) is None:
        return  # never opened live: nobody to tell, nothing to replay

    def mutate(state):
        if state.current_item_id not in _item_ids(session):
            state.current_item_id = None
            _stop_timer(state)
        return {"agenda": agenda_wire(session), "current_item_id": state.current_item_id, "timer": timer_wire(state)}

    event, _dup = commit_event(session.id, "agenda.changed", mutate=mutate)
    broadcast(event)


def snapshot(session: ExchangeSession, moderator: bool) -> dict:
    state = db.session.get(LiveState, session.id)
    return {
        "seq": last_seq(session.id, moderator),
        "server_time": iso(utcnow()),
        "session": {
            "id": session.id,
            "title": session.title,
            "status": session.status,
            "mode": session.mode,
            "guest_policy": session.guest_policy,
            "capacity": session.capacity,
            "duration_minutes": session.duration_minutes,
            "starts_at": iso(session.starts_at),
        },
        "agenda": agenda_wire(session),
        "current_item_id": state.current_item_id if state else None,
        "timer": timer_wire(state),
    }


def ensure_state(session: ExchangeSession) -> None:
    live_state(session.id)
    db.session.commit()
