"""Quick polls: a single- or multiple-choice question put to the room, answered once, results shown when chosen.

Answers are not sequenced events (a thousand answers would be a thousand events): they are rows, and the
results go out coalesced, at most once a second per poll and worker, to whoever may see them then.
In an anonymous poll the voter row holds only a keyed hash (to answer once) and the choices no voter.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from flask import current_app

from ..extensions import db, socketio
from ..realtime.access import Viewer
from ..realtime.protocol import Refused
from ..realtime.services import Out, broadcast, commit_events, mods_room, room
from ..sessions.models import ExchangeSession, Status
from ..timeutil import utcnow
from .models import Poll, PollChoice, PollVoter
from .moderation import log
from .services import tell_person

MAX_QUESTION_CHARS = 300
MAX_CHOICE_CHARS = 120
MAX_CHOICES = 10
RESULTS_INTERVAL = 1.0  # seconds between two results messages for one poll, per worker


def results_room(poll_id: int) -> str:
    """Sockets of people who answered a poll whose results show after answering."""
    return f"q:{poll_id}"


def voter_key(poll: Poll, person: str) -> str:
    if not poll.anonymous:
        return person
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, f"poll:{poll.id}:{person}".encode(), hashlib.sha256).hexdigest()


def results(poll: Poll) -> dict:
    """Counts and voters read in one statement: two would see different answers under PostgreSQL's read committed."""
    counts = [0] * len(poll.choices)
    voters_count = db.select(db.func.count(PollVoter.id)).filter_by(poll_id=poll.id).scalar_subquery()
    rows = db.session.execute(
        db.select(PollChoice.choice, db.func.count(PollChoice.id), voters_count)
        .filter_by(poll_id=poll.id)
        .group_by(PollChoice.choice)
    ).all()
    for choice, count, _voters in rows:
        if 0 <= choice < len(counts):
            counts[choice] = count
    # A voter's row and choices are committed together: no choices, no voters.
    return {"counts": counts, "voters": rows[0][2] if rows else 0}


def has_answered(poll: Poll, person: str) -> bool:
    key = voter_key(poll, person)
    return db.session.execute(db.select(PollVoter.id).filter_by(poll_id=poll.id, voter_key=key)).first() is not None


def results_visible(poll: Poll, moderator: bool, answered: bool) -> bool:
    if moderator or poll.status == Poll.CLOSED or poll.show_results == Poll.SHOW_LIVE:
        return True
    return poll.show_results == Poll.SHOW_AFTER_ANSWER and answered


def poll_wire(poll: Poll, with_results: bool = False) -> dict:
    wire = {
        "id": poll.id,
        "item_id": poll.agenda_item_id,
        "question": poll.question,
        "choices": poll.choices,
        "multiple": poll.multiple,
        "anonymous": poll.anonymous,
        "show_results": poll.show_results,
        "status": poll.status,
    }
    if with_results:
        wire["results"] = results(poll)
    return wire


def session_polls(session: ExchangeSession, moderator: bool) -> list[Poll]:
    query = db.select(Poll).filter(Poll.session_id == session.id)
    if not moderator:
        query = query.filter(Poll.status != Poll.DRAFT)
    return list(db.session.execute(query.order_by(Poll.id)).scalars())


def snapshot(session: ExchangeSession, viewer: Viewer) -> list[dict]:
    return [
        poll_wire(p, results_visible(p, viewer.moderator, has_answered(p, viewer.person)))
        for p in session_polls(session, viewer.moderator)
    ]


def my_answers(session: ExchangeSession, person: str) -> list[dict]:
    """The polls this person answered; their choices too when the poll is named (anonymous ones keep none)."""
    answered = []
    for poll in session_polls(session, moderator=False):
        voter = db.session.execute(
            db.select(PollVoter).filter_by(poll_id=poll.id, voter_key=voter_key(poll, person))
        ).scalar_one_or_none()
        if voter is None:
            continue
        mine = {"id": poll.id}
        if not poll.anonymous:
            mine["choices"] = sorted(
                db.session.execute(db.select(PollChoice.choice).filter_by(voter_id=voter.id)).scalars()
            )
        answered.append(mine)
    return answered


def join_results_rooms(session: ExchangeSession, viewer: Viewer, sid: str) -> None:
    """A socket (re)connecting gets the results of polls it already answered, as they change."""
    for poll in session_polls(session, moderator=False):
        after_answer = poll.status == Poll.OPEN and poll.show_results == Poll.SHOW_AFTER_ANSWER
        if after_answer and has_answered(poll, viewer.person):
            socketio.server.enter_room(sid, results_room(poll.id), namespace="/")


# --- moderators ----------------------------------------------------------------------------------------------------


def _clean_question(question: str, choices: list[str]) -> tuple[str, list[str]]:
    question = question.strip()
    cleaned = [c.strip() for c in choices]
    if not question or any(not c for c in cleaned):
        raise Refused("empty")
    if len(question) > MAX_QUESTION_CHARS:
        raise Refused("too_long", limit=MAX_QUESTION_CHARS)
    if any(len(c) > MAX_CHOICE_CHARS for c in cleaned):
        raise Refused("too_long", limit=MAX_CHOICE_CHARS)
    if not 2 <= len(cleaned) <= MAX_CHOICES or len(set(cleaned)) != len(cleaned):
        raise Refused("poll_choices")
    return question, cleaned


def create(
    session: ExchangeSession,
    viewer: Viewer,
    question: str,
    choices: list[str],
    multiple: bool,
    anonymous: bool,
    show_results: str,
    item_id: int | None,
    open_now: bool,
    cid: str,
):
    """A poll prepared in advance (a draft only moderators see) or asked on the spot (open at once)."""
    question, choices = _clean_question(question, choices)
    if show_results not in (Poll.SHOW_LIVE, Poll.SHOW_AFTER_ANSWER, Poll.SHOW_AFTER_CLOSE):
        raise Refused("invalid")

    def mutate(state):
        if session.status == Status.ENDED:
            raise Refused("board_closed")
        if item_id is not None and item_id not in {i.id for i in session.agenda_items}:
            raise Refused("not_found")
        poll = Poll(
            session_id=session.id,
            agenda_item_id=item_id,
            question=question,
            choices=choices,
            multiple=multiple,
            anonymous=anonymous,
            show_results=show_results,
            created_by=viewer.person,
        )
        db.session.add(poll)
        db.session.flush()
        if open_now:
            _open(session, poll)
            log(session, viewer, "poll_open", detail=question)
            return [Out("poll", {"poll": poll_wire(poll, poll.show_results == Poll.SHOW_LIVE)})]
        return [Out("poll", {"poll": poll_wire(poll)}, "mods")]

    events, duplicate = commit_events(session.id, mutate, actor=viewer.person, client_id=cid)
    if not duplicate:
        broadcast(*events)
    return events[0]


def _get(session: ExchangeSession, poll_id: int) -> Poll:
    poll = db.session.get(Poll, poll_id)
    if poll is None or poll.session_id != session.id:
        raise Refused("not_found")
    return poll


def _open(session: ExchangeSession, poll: Poll) -> None:
    if session.status != Status.LIVE:
        raise Refused("not_live")
    poll.status, poll.opened_at = Poll.OPEN, utcnow()


def open_poll(session: ExchangeSession, viewer: Viewer, poll_id: int, cid: str):
    def mutate(state):
        poll = _get(session, poll_id)
        if poll.status != Poll.DRAFT:
            raise Refused("invalid")
        _open(session, poll)
        log(session, viewer, "poll_open", detail=poll.question)
        return [Out("poll", {"poll": poll_wire(poll, poll.show_results == Poll.SHOW_LIVE)})]

    events, duplicate = commit_events(session.id, mutate, actor=viewer.person, client_id=cid)
    if not duplicate:
        broadcast(*events)
    return events[0]


def _close(poll: Poll) -> Out:
    poll.status, poll.closed_at = Poll.CLOSED, utcnow()
    return Out("poll", {"poll": poll_wire(poll, with_results=True)})  # closed: results for everyone


def close_poll(session: ExchangeSession, viewer: Viewer, poll_id: int, cid: str):
    def mutate(state):
        poll = _get(session, poll_id)
        if poll.status != Poll.OPEN:
            raise Refused("invalid")
        log(session, viewer, "poll_close", detail=poll.question)
        return [_close(poll)]

    events, duplicate = commit_events(session.id, mutate, actor=viewer.person, client_id=cid)
    if not duplicate:
        broadcast(*events)
    return events[0]


def close_all(session: ExchangeSession) -> list[Out]:
    """When the session ends (inside its transaction)."""
    polls = db.session.execute(db.select(Poll).filter_by(session_id=session.id, status=Poll.OPEN)).scalars()
    return [_close(p) for p in polls]


def delete_draft(session: ExchangeSession, viewer: Viewer, poll_id: int, cid: str):
    def mutate(state):
        poll = _get(session, poll_id)
        if poll.status != Poll.DRAFT:
            raise Refused("invalid")
        db.session.delete(poll)
        return [Out("poll", {"poll": {"id": poll_id, "deleted": True}}, "mods")]

    events, duplicate = commit_events(session.id, mutate, actor=viewer.person, client_id=cid)
    if not duplicate:
        broadcast(*events)
    return events[0]


# --- answering -----------------------------------------------------------------------------------------------------


def answer(session: ExchangeSession, viewer: Viewer, poll_id: int, choices: list[int], sid: str, cid: str) -> dict:
    """Once per person. Returns what the acknowledgement carries (the results when this person may see them).

    The same answer sent again (same cid, after a lost acknowledgement) gets the same kind of answer, not a
    refusal; another answer from the same person is refused.
    """
    poll = _get(session, poll_id)
    key = voter_key(poll, viewer.person)
    earlier = db.session.execute(db.select(PollVoter.client_id).filter_by(poll_id=poll.id, voter_key=key)).first()
    if earlier is not None:
        if earlier.client_id != cid:
            raise Refused("already_answered")
        return _answered(poll, viewer)
    if poll.status != Poll.OPEN:
        raise Refused("poll_closed")
    picked = sorted(set(choices))
    if not picked or len(picked) != len(choices) or (not poll.multiple and len(picked) != 1):
        raise Refused("invalid")
    if picked[0] < 0 or picked[-1] >= len(poll.choices):
        raise Refused("not_found")
    voter = PollVoter(
        poll_id=poll.id,
        voter_key=key,
        person=None if poll.anonymous else viewer.person,
        name=None if poll.anonymous else viewer.name[:80],
        client_id=cid,
    )
    db.session.add(voter)
    db.session.flush()
    for choice in picked:
        db.session.add(PollChoice(poll_id=poll.id, choice=choice, voter_id=None if poll.anonymous else voter.id))
    try:
        db.session.commit()
    except Exception:  # the unique constraint: the same person answering from two tabs at once
        db.session.rollback()
        raise Refused("already_answered") from None
    tell_person(session, viewer)
    if poll.show_results == Poll.SHOW_AFTER_ANSWER:
        socketio.server.enter_room(sid, results_room(poll.id), namespace="/")
    schedule_results(poll)
    return _answered(poll, viewer)


def _answered(poll: Poll, viewer: Viewer) -> dict:
    if results_visible(poll, viewer.moderator, answered=True):
        return {"results": results(poll)}
    return {}


# --- results, coalesced --------------------------------------------------------------------------------------------

_last_sent: dict[int, float] = {}
_scheduled: set[int] = set()


def _targets(poll: Poll) -> list[str]:
    if poll.show_results == Poll.SHOW_LIVE:
        return [room(poll.session_id)]
    if poll.show_results == Poll.SHOW_AFTER_ANSWER:
        return [mods_room(poll.session_id), results_room(poll.id)]
    return [mods_room(poll.session_id)]


def emit_results(poll: Poll) -> None:
    _last_sent[poll.id] = time.monotonic()
    socketio.emit("poll.results", {"id": poll.id, **results(poll)}, to=_targets(poll))


def schedule_results(poll: Poll) -> None:
    """Send now if the last message for this poll is old enough; otherwise once, a moment later."""
    wait = _last_sent.get(poll.id, 0) + RESULTS_INTERVAL - time.monotonic()
    if wait <= 0 and poll.id not in _scheduled:
        emit_results(poll)
        return
    if poll.id in _scheduled:
        return
    _scheduled.add(poll.id)
    socketio.start_background_task(_send_later, current_app._get_current_object(), poll.id, max(wait, 0.05))


def _send_later(app, poll_id: int, wait: float) -> None:
    socketio.sleep(wait)
    # Before reading, not after: an answer committed while this one reads (the read yields to other greenlets)
    # must schedule a message of its own, or the last message would miss it and the counts stay stale.
    _scheduled.discard(poll_id)
    with app.app_context():
        try:
            poll = db.session.get(Poll, poll_id)
            if poll is not None and poll.status == Poll.OPEN:
                emit_results(poll)
        finally:
            db.session.remove()
