"""Who is this connection, may they be in this room, and taking people out when access changes."""

from __future__ import annotations

from dataclasses import dataclass

from flask import session as cookie_session
from flask_login import current_user

from .. import permissions
from ..extensions import db, socketio
from ..sessions.models import ExchangeSession, Guest, GuestPolicy
from ..sessions.services import GUEST_COOKIE_KEY, guest_from_token
from ..tokens import hash_token
from .models import LiveConnection
from .protocol import Refused


@dataclass
class Viewer:
    person: str
    name: str
    role: str
    side: str | None
    moderator: bool
    user_id: int | None = None
    guest_id: int | None = None
    login_hash: str | None = None
    lobby: bool = False
    country: str | None = None
    gender: str | None = None  # only what the person chose to give in their profile


def resolve(session: ExchangeSession | None) -> Viewer:
    """The identity comes from the signed-in session or the guest token in the cookie, never from the client."""
    if session is None:
        raise Refused("not_allowed")
    user = current_user
    signed_in = bool(user and user.is_authenticated)
    if signed_in and permissions.is_session_participant(user, session):
        if not permissions.can_view_session(user, session):
            raise Refused("not_allowed")
        if permissions.removed_from_room(f"u:{user.id}", session):
            raise Refused("removed")
        member = permissions.membership(user, session.exchange_id)
        return Viewer(
            person=f"u:{user.id}",
            name=user.display_name,
            role=member.role if member else "participant",
            side=member.side if member else None,
            moderator=permissions.can_moderate(user, session),
            user_id=user.id,
            login_hash=hash_token(user.login_token) if user.login_token else None,
            country=user.country,
            gender=user.gender or None,
        )
    # Everyone else, signed in or not, is in an open session's room as a guest, under its guest policy.
    token = (cookie_session.get(GUEST_COOKIE_KEY) or {}).get(str(session.id))
    guest = guest_from_token(session.id, token) if session.is_open else None
    if guest is None or guest.status == Guest.REJECTED or not permissions.can_view_session(None, session):
        raise Refused("not_allowed")
    if guest.status == Guest.REMOVED:
        raise Refused("removed")
    waiting = guest.status == Guest.WAITING
    if waiting and session.guest_policy == GuestPolicy.NONE:
        raise Refused("no_guests")
    return Viewer(
        person=f"g:{guest.id}",
        name=guest.display_name,
        role="guest",
        side=None,
        moderator=False,
        guest_id=guest.id,
        lobby=waiting,
        # A signed-in guest's connections still end when that browser signs out.
        user_id=user.id if signed_in else None,
        login_hash=hash_token(user.login_token) if signed_in and user.login_token else None,
    )


def _disconnect(rows: list[LiveConnection], code: str) -> None:
    for row in rows:
        socketio.emit("revoked", {"code": code}, to=row.sid)
        socketio.server.disconnect(row.sid, namespace="/")


def _rows(*criteria) -> list[LiveConnection]:
    return list(db.session.execute(db.select(LiveConnection).filter(*criteria)).scalars())


def revoke_login(login_token: str | None, code: str = "signed_out") -> None:
    """A browser signed out (or its password changed): its live connections end now."""
    if login_token and socketio.server is not None:
        _disconnect(_rows(LiveConnection.login_hash == hash_token(login_token)), code)


def revoke_user_everywhere(user_id: int, keep_login_token: str | None = None, code: str = "signed_out") -> None:
    if socketio.server is None:
        return
    rows = _rows(LiveConnection.user_id == user_id)
    keep = hash_token(keep_login_token) if keep_login_token else None
    _disconnect([r for r in rows if r.login_hash != keep], code)


def revoke_user_in_exchange(user_id: int, exchange_id: int, code: str = "access_changed") -> None:
    """Removed from an exchange or given another role: reconnecting re-evaluates what they may see."""
    if socketio.server is None:
        return
    session_ids = db.select(ExchangeSession.id).filter_by(exchange_id=exchange_id)
    _disconnect(_rows(LiveConnection.user_id == user_id, LiveConnection.session_id.in_(session_ids)), code)


def revoke_person(session_id: int, person: str, code: str) -> None:
    """Someone removed from one room by a moderator."""
    if socketio.server is not None:
        _disconnect(_rows(LiveConnection.session_id == session_id, LiveConnection.person == person), code)


def revoke_guest(guest_id: int, code: str = "turned_away") -> None:
    if socketio.server is not None:
        _disconnect(_rows(LiveConnection.guest_id == guest_id), code)
