"""Guests of open sessions: the policy, the lobby where they wait, and the session's capacity."""

from __future__ import annotations

from ..extensions import db, socketio
from ..realtime import presence
from ..realtime.access import revoke_guest
from ..realtime.protocol import Refused
from ..realtime.services import mods_room, person_room
from .models import ExchangeSession, Guest, GuestPolicy


def status_for_new_guest(session: ExchangeSession) -> str:
    """What a guest who just gave their name becomes; raises Refused when guests may not come in."""
    if session.guest_policy == GuestPolicy.NONE:
        raise Refused("no_guests")
    if session.capacity and presence.count_present(session.id) >= session.capacity:
        raise Refused("room_full")
    return Guest.WAITING if session.guest_policy == GuestPolicy.LOBBY else Guest.ADMITTED


def check_capacity(session: ExchangeSession, viewer) -> None:
    """Moderators always get in; others only while there is room (a second tab of someone present is fine)."""
    if not session.capacity or viewer.moderator or viewer.lobby:
        return
    if presence.is_present(session.id, viewer.person):
        return
    if presence.count_present(session.id) >= session.capacity:
        raise Refused("room_full")


def _waiting(session: ExchangeSession) -> list[Guest]:
    return list(
        db.session.execute(
            db.select(Guest).filter_by(session_id=session.id, status=Guest.WAITING).order_by(Guest.created_at, Guest.id)
        ).scalars()
    )


def waiting_wire(session: ExchangeSession) -> list[dict]:
    return [{"guest_id": g.id, "name": g.display_name} for g in _waiting(session)]


def position(session: ExchangeSession, guest_id: int | None) -> dict:
    ids = [g.id for g in _waiting(session)]
    return {"position": ids.index(guest_id) + 1 if guest_id in ids else None, "waiting": len(ids)}


def notify(session: ExchangeSession) -> None:
    """Moderators see the queue; each waiting guest sees their place in it."""
    waiting = _waiting(session)
    socketio.emit(
        "lobby", {"waiting": [{"guest_id": g.id, "name": g.display_name} for g in waiting]}, to=mods_room(session.id)
    )
    for place, guest in enumerate(waiting, start=1):
        socketio.emit(
            "lobby", {"position": place, "waiting": len(waiting)}, to=person_room(session.id, f"g:{guest.id}")
        )


def _guest(session: ExchangeSession, guest_id: int) -> Guest:
    guest = db.session.get(Guest, guest_id)
    if guest is None or guest.session_id != session.id:
        raise Refused("not_found")
    return guest


def admit(session: ExchangeSession, guest_ids: list[int] | None = None) -> int:
    """Admit the named guests (all waiting ones when None); each is told to come in."""
    guests = [_guest(session, gid) for gid in guest_ids] if guest_ids is not None else _waiting(session)
    admitted = [g for g in guests if g.status == Guest.WAITING]
    for guest in admitted:
        guest.status = Guest.ADMITTED
    db.session.commit()
    for guest in admitted:
        socketio.emit("admitted", {}, to=person_room(session.id, f"g:{guest.id}"))
    notify(session)
    return len(admitted)


def turn_away(session: ExchangeSession, guest_id: int) -> None:
    guest = _guest(session, guest_id)
    guest.status = Guest.REJECTED
    db.session.commit()
    revoke_guest(guest.id, "turned_away")
    notify(session)
