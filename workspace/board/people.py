"""Moderating people in a room: mute (may read, may not post or ask to speak), remove, let back in."""

from __future__ import annotations

from .. import permissions
from ..auth.models import User
from ..extensions import db
from ..realtime.access import Viewer, revoke_person
from ..realtime.protocol import Refused
from ..realtime.services import Out, broadcast, commit_events
from ..sessions.models import ExchangeSession, Guest
from .models import Restriction, SpeakerTurn
from .moderation import log
from .services import tell_person


def target(session: ExchangeSession, person: str) -> tuple[str, User | None, Guest | None]:
    """The name of someone in this session's room, from their id ("u:<id>" or "g:<id>").

    Moderators cannot be muted or removed by other moderators; people from elsewhere are not found.
    """
    kind, _, raw = person.partition(":")
    if not raw.isdigit():
        raise Refused("not_found")
    if kind == "u":
        user = db.session.get(User, int(raw))
        if user is None or not permissions.is_session_participant(user, session):
            raise Refused("not_found")
        if permissions.can_moderate(user, session):
            raise Refused("not_allowed")
        return user.display_name, user, None
    if kind == "g":
        guest = db.session.get(Guest, int(raw))
        if guest is None or guest.session_id != session.id:
            raise Refused("not_found")
        return guest.display_name, None, guest
    raise Refused("not_found")


def restrictions_wire(session: ExchangeSession) -> list[dict]:
    """For moderators: who is muted or removed, with names."""
    rows = db.session.execute(
        db.select(Restriction).filter_by(session_id=session.id).order_by(Restriction.id)
    ).scalars()
    out = []
    for row in rows:
        try:
            name = target(session, row.person)[0]
        except Refused:
            continue
        out.append({"person": row.person, "name": name, "kind": row.kind})
    removed_guests = db.session.execute(
        db.select(Guest).filter_by(session_id=session.id, status=Guest.REMOVED).order_by(Guest.id)
    ).scalars()
    out += [{"person": f"g:{g.id}", "name": g.display_name, "kind": Restriction.REMOVED} for g in removed_guests]
    return out


def _restrictions_out(session: ExchangeSession) -> Out:
    return Out("room.restrictions", {"restrictions": restrictions_wire(session)}, "mods")


def _set(session: ExchangeSession, person: str, kind: str, on: bool, by: str) -> bool:
    row = db.session.execute(
        db.select(Restriction).filter_by(session_id=session.id, person=person, kind=kind)
    ).scalar_one_or_none()
    if on and row is None:
        db.session.add(Restriction(session_id=session.id, person=person, kind=kind, created_by=by))
        return True
    if not on and row is not None:
        db.session.delete(row)
        return True
    return False


def mute(session: ExchangeSession, viewer: Viewer, person: str, on: bool, cid: str):
    def mutate(state):
        name, _user, _guest = target(session, person)
        if _set(session, person, Restriction.MUTED, on, viewer.person):
            log(session, viewer, "mute" if on else "unmute", target=person, target_name=name)
        if on:
            _lower_hand(session, person)
        db.session.flush()
        from .speakers import queue_out

        return [_restrictions_out(session), queue_out(session)]

    events, duplicate = commit_events(session.id, mutate, actor=viewer.person, client_id=cid)
    if not duplicate:
        broadcast(*events)
        tell_person(session, person)
    return events[0]


def remove(session: ExchangeSession, viewer: Viewer, person: str, cid: str):
    """Out of the room now, on every worker; a removed guest's browser keeps its token and cannot rejoin."""

    def mutate(state):
        name, _user, guest = target(session, person)
        if guest is not None:
            guest.status = Guest.REMOVED
        else:
            _set(session, person, Restriction.REMOVED, True, viewer.person)
        _lower_hand(session, person)
        log(session, viewer, "remove", target=person, target_name=name)
        db.session.flush()
        from .speakers import queue_out

        return [_restrictions_out(session), queue_out(session)]

    events, duplicate = commit_events(session.id, mutate, actor=viewer.person, client_id=cid)
    if not duplicate:
        broadcast(*events)
        revoke_person(session.id, person, "removed")
    return events[0]


def readmit(session: ExchangeSession, viewer: Viewer, person: str, cid: str):
    def mutate(state):
        name, _user, guest = target(session, person)
        if guest is not None:
            if guest.status != Guest.REMOVED:
                raise Refused("invalid")
            guest.status = Guest.ADMITTED
        elif not _set(session, person, Restriction.REMOVED, False, viewer.person):
            raise Refused("invalid")
        log(session, viewer, "readmit", target=person, target_name=name)
        db.session.flush()
        return [_restrictions_out(session)]

    events, duplicate = commit_events(session.id, mutate, actor=viewer.person, client_id=cid)
    if not duplicate:
        broadcast(*events)
    return events[0]


def _lower_hand(session: ExchangeSession, person: str) -> None:
    """Muted or removed people leave the speaker queue (and the floor)."""
    from ..timeutil import utcnow

    for turn in db.session.execute(
        db.select(SpeakerTurn).filter(
            SpeakerTurn.session_id == session.id,
            SpeakerTurn.person == person,
            SpeakerTurn.status.in_((SpeakerTurn.WAITING, SpeakerTurn.SPEAKING)),
        )
    ).scalars():
        if turn.status == SpeakerTurn.SPEAKING:
            turn.status, turn.ended_at = SpeakerTurn.DONE, utcnow()
        else:
            turn.status = SpeakerTurn.LOWERED
