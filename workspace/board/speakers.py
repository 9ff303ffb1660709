"""The speaker queue: raised hands, the floor, a fair order, and who spoke how much.

The fair floor can alternate between knowledge-seeking and knowledge-providing peers and put people who
have not spoken yet first; speaking counts and time by side, country and gender (where given) are kept
so balance can be seen, live by moderators and afterwards in the session's report.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import timedelta

from ..exchanges.models import Side
from ..extensions import db
from ..realtime.access import Viewer
from ..realtime.protocol import Refused
from ..realtime.services import NoChange, Out, broadcast, commit_events
from ..sessions.live import iso
from ..sessions.models import ExchangeSession, Status
from ..timeutil import utcnow
from .models import Board, Restriction, SpeakerTurn
from .services import get_board, restricted, tell_person

SIDES = (Side.SEEKING, Side.PROVIDING)  # what the queue alternates between


def fair_order(
    waiting: Iterable[SpeakerTurn],
    spoken: dict[str, int],
    last_side: str | None,
    alternate: bool,
    new_first: bool,
) -> list[SpeakerTurn]:
    """The waiting hands in the order they will get the floor.

    First come, first served; with `new_first`, people who have not spoken yet go before those who have;
    with `alternate`, the next seeking/providing peer is from the other side than the last one, when
    someone from that side is waiting (facilitators and guests keep their place and do not change sides).
    """
    base = sorted(waiting, key=lambda t: (t.raised_at, t.id))
    if new_first:
        base.sort(key=lambda t: spoken.get(t.person, 0) > 0)  # stable: keeps arrival order within each group
    if not alternate:
        return base
    ordered = []
    side = last_side
    while base:
        pick = base[0]
        wanted = _other(side)
        if pick.side in SIDES and wanted and pick.side != wanted:
            pick = next((t for t in base if t.side == wanted), pick)
        base.remove(pick)
        ordered.append(pick)
        if pick.side in SIDES:
            side = pick.side
    return ordered


def _other(side: str | None) -> str | None:
    if side == Side.SEEKING:
        return Side.PROVIDING
    if side == Side.PROVIDING:
        return Side.SEEKING
    return None


def _turns(session: ExchangeSession, *statuses: str) -> list[SpeakerTurn]:
    query = db.select(SpeakerTurn).filter(SpeakerTurn.session_id == session.id)
    if statuses:
        query = query.filter(SpeakerTurn.status.in_(statuses))
    return list(db.session.execute(query.order_by(SpeakerTurn.id)).scalars())


def ordered_queue(session: ExchangeSession, board: Board) -> tuple[SpeakerTurn | None, list[SpeakerTurn]]:
    turns = _turns(session)
    speaking = next((t for t in turns if t.status == SpeakerTurn.SPEAKING), None)
    spoken: dict[str, int] = defaultdict(int)
    last = None
    for t in turns:
        if t.started_at is not None:
            spoken[t.person] += 1
            if last is None or t.started_at >= last.started_at:
                last = t
    waiting = [t for t in turns if t.status == SpeakerTurn.WAITING]
    order = fair_order(waiting, spoken, last.side if last else None, board.alternate_sides, board.new_speakers_first)
    return speaking, order


def _turn_wire(t: SpeakerTurn) -> dict:
    return {"id": t.id, "person": t.person, "name": t.name, "side": t.side}


def queue_wire(session: ExchangeSession) -> dict:
    """Everyone sees who speaks, for how long, and who comes next."""
    board = get_board(session)
    speaking, order = ordered_queue(session, board)
    current = None
    if speaking is not None:
        current = {**_turn_wire(speaking), "started_at": iso(speaking.started_at), "ends_at": None}
        if speaking.time_limit:
            current["ends_at"] = iso(speaking.started_at + timedelta(seconds=speaking.time_limit))
    return {"speaking": current, "waiting": [_turn_wire(t) for t in order]}


def queue_out(session: ExchangeSession) -> Out:
    return Out("speakers", queue_wire(session))


def my_hand(session: ExchangeSession, person: str) -> dict | None:
    """Asked on every catch-up and private update: one indexed row, not the whole queue."""
    turn = db.session.execute(
        db.select(SpeakerTurn.id, SpeakerTurn.status).filter(
            SpeakerTurn.session_id == session.id,
            SpeakerTurn.person == person,
            SpeakerTurn.status.in_((SpeakerTurn.WAITING, SpeakerTurn.SPEAKING)),
        )
    ).first()
    return {"id": turn.id, "status": turn.status} if turn else None


def stats(session: ExchangeSession) -> dict:
    """Turns and seconds spoken, by side, by country and by gender (only as people gave it)."""
    now = utcnow()
    total = {"turns": 0, "seconds": 0}
    groups: dict[str, dict[str, dict[str, int]]] = {"side": {}, "country": {}, "gender": {}}
    genders: dict[str, str] = {}
    for t in _turns(session):
        if t.started_at is None:
            continue
        seconds = int(((t.ended_at or now) - t.started_at).total_seconds())
        total["turns"] += 1
        total["seconds"] += seconds
        # As given, but "Woman" and "woman " are one group, shown as first written.
        gender = " ".join((t.gender or "").split())
        gender = genders.setdefault(gender.casefold(), gender)
        for group, key in (("side", t.side), ("country", t.country), ("gender", gender)):
            bucket = groups[group].setdefault(key or "", {"turns": 0, "seconds": 0})
            bucket["turns"] += 1
            bucket["seconds"] += seconds
    return {"total": total, **{f"by_{name}": values for name, values in groups.items()}}


def _stats_out(session: ExchangeSession) -> Out:
    return Out("speakers.stats", {"stats": stats(session)}, "mods")


def _require_live(session: ExchangeSession) -> None:
    if session.status != Status.LIVE:
        raise Refused("not_live")


def _commit(session: ExchangeSession, viewer: Viewer, mutate, cid: str, tell: Iterable[str] = ()):
    events, duplicate = commit_events(session.id, mutate, actor=viewer.person, client_id=cid)
    if events and not duplicate:
        broadcast(*events)
        for person in set(tell):
            tell_person(session, person)
    return events[0] if events else None


def raise_hand(session: ExchangeSession, viewer: Viewer, cid: str):
    def mutate(state):
        _require_live(session)
        if not viewer.moderator and restricted(session.id, viewer.person, Restriction.MUTED):
            raise Refused("muted")
        if my_hand(session, viewer.person) is not None:
            raise NoChange
        db.session.add(
            SpeakerTurn(
                session_id=session.id,
                person=viewer.person,
                name=viewer.name[:80],
                side=viewer.side,
                country=viewer.country,
                gender=viewer.gender,
            )
        )
        db.session.flush()
        return [queue_out(session)]

    return _commit(session, viewer, mutate, cid, tell=[viewer.person])


def lower_hand(session: ExchangeSession, viewer: Viewer, turn_id: int | None, cid: str):
    """Lower one's own hand (or end one's own turn); moderators may lower anyone's."""

    def mutate(state):
        turn = None
        if turn_id is None:
            turn = next(
                (t for t in _turns(session, SpeakerTurn.WAITING, SpeakerTurn.SPEAKING) if t.person == viewer.person),
                None,
            )
            if turn is None:
                raise NoChange
        else:
            turn = db.session.get(SpeakerTurn, turn_id)
            if turn is None or turn.session_id != session.id:
                raise Refused("not_found")
            if turn.person != viewer.person and not viewer.moderator:
                raise Refused("not_allowed")
            if turn.status not in (SpeakerTurn.WAITING, SpeakerTurn.SPEAKING):
                raise NoChange
        outs = []
        if turn.status == SpeakerTurn.SPEAKING:
            turn.status, turn.ended_at = SpeakerTurn.DONE, utcnow()
            outs.append(_stats_out(session))
        else:
            turn.status = SpeakerTurn.LOWERED
        tell.append(turn.person)
        db.session.flush()
        return [queue_out(session), *outs]

    tell: list[str] = []
    return _commit(session, viewer, mutate, cid, tell=tell)


def give_floor(session: ExchangeSession, viewer: Viewer, turn_id: int | None, cid: str):
    """End the current turn and give the floor to this hand, or to the next in the fair order."""

    def mutate(state):
        _require_live(session)
        board = get_board(session)
        speaking, order = ordered_queue(session, board)
        if turn_id is None:
            if not order:
                raise Refused("queue_empty")
            chosen = order[0]
        else:
            chosen = next((t for t in order if t.id == turn_id), None)
            if chosen is None:
                raise Refused("not_found")
        now = utcnow()
        if speaking is not None:
            speaking.status, speaking.ended_at = SpeakerTurn.DONE, now
            tell.append(speaking.person)
        chosen.status, chosen.started_at, chosen.time_limit = SpeakerTurn.SPEAKING, now, board.speaker_seconds
        tell.append(chosen.person)
        db.session.flush()
        return [queue_out(session), _stats_out(session)]

    tell: list[str] = []
    return _commit(session, viewer, mutate, cid, tell=tell)


def end_turn(session: ExchangeSession, viewer: Viewer, cid: str):
    """The current speaker is done and nobody is given the floor yet."""

    def mutate(state):
        speaking, _order = ordered_queue(session, get_board(session))
        if speaking is None:
            raise NoChange
        speaking.status, speaking.ended_at = SpeakerTurn.DONE, utcnow()
        tell.append(speaking.person)
        db.session.flush()
        return [queue_out(session), _stats_out(session)]

    tell: list[str] = []
    return _commit(session, viewer, mutate, cid, tell=tell)


def close_floor(session: ExchangeSession) -> None:
    """When the session ends: the speaker's turn ends and the raised hands are lowered (called in its transaction)."""
    now = utcnow()
    for t in _turns(session, SpeakerTurn.WAITING, SpeakerTurn.SPEAKING):
        if t.status == SpeakerTurn.SPEAKING:
            t.status, t.ended_at = SpeakerTurn.DONE, now
        else:
            t.status = SpeakerTurn.LOWERED
