"""Sessions: planning, status, visibility lists, join codes and guests."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import abort
from flask import session as cookie_session
from flask_login import current_user
from sqlalchemy import bindparam, or_

from .. import permissions
from ..exchanges.models import Exchange, Membership
from ..extensions import db, prepared
from ..timeutil import utcnow
from ..tokens import hash_token, new_token
from .models import (
    ExchangeSession,
    Guest,
    InvalidTransition,
    Mode,
    SessionInvitee,
    Status,
    new_join_code,
    normalise_join_code,
)

GUEST_COOKIE_KEY = "guests"


def get_session(session_id: int, need: str = "view") -> ExchangeSession:
    """The session if the current user may `need` it: 404 when it must not be revealed, 403 otherwise."""
    session = db.session.get(ExchangeSession, session_id)
    if session is None or not permissions.can_view_session(current_user, session):
        abort(404)
    if need == "edit" and not permissions.can_edit_session(current_user, session):
        abort(403)
    return session


def sessions_of_exchange(exchange: Exchange, user) -> list[ExchangeSession]:
    rows = db.session.execute(
        db.select(ExchangeSession).filter_by(exchange_id=exchange.id).order_by(ExchangeSession.starts_at)
    ).scalars()
    return [s for s in rows if permissions.can_view_session(user, s)]


def create_session(exchange: Exchange, **fields) -> ExchangeSession:
    session = ExchangeSession(exchange=exchange, join_code=_unique_join_code(), **fields)
    db.session.add(session)
    db.session.commit()
    return session


def _unique_join_code() -> str:
    while True:
        code = new_join_code()
        if db.session.execute(db.select(ExchangeSession.id).filter_by(join_code=code)).first() is None:
            return code


def update_session(session: ExchangeSession, **fields) -> None:
    for name, value in fields.items():
        setattr(session, name, value)
    db.session.commit()


def change_status(session: ExchangeSession, target: str, actor: str | None = None) -> None:
    """Raises InvalidTransition for a step the state machine does not allow.

    Going live and ending are live-room events too, so they are sequenced and broadcast.
    """
    from . import live

    if not session.can_move_to(target):
        raise InvalidTransition(f"{session.status} -> {target}")
    if target == Status.LIVE:
        live.start(session, actor, None)
    elif target == Status.ENDED:
        live.end(session, actor, None)
    else:
        session.move_to(target)
        db.session.commit()


def delete_session(session: ExchangeSession) -> bool:
    """Only drafts can be deleted: anything published may already be in people's calendars."""
    if session.status != Status.DRAFT:
        return False
    db.session.delete(session)
    db.session.commit()
    return True


def _not_over(now: datetime):
    # A session is "upcoming" until it has ended; duration varies per row, so allow the longest.
    return or_(ExchangeSession.status == Status.LIVE, ExchangeSession.starts_at > now - timedelta(hours=24))


def public_upcoming(limit: int = 50) -> list[ExchangeSession]:
    now = utcnow()
    rows = db.session.execute(
        db.select(ExchangeSession)
        .filter(ExchangeSession.mode == Mode.OPEN)
        .filter(ExchangeSession.status.in_([Status.SCHEDULED, Status.LIVE]))
        .filter(_not_over(now))
        .order_by(ExchangeSession.starts_at)
        .limit(limit * 2)
    ).scalars()
    return [s for s in rows if s.status == Status.LIVE or s.ends_at > now][:limit]


def upcoming_for(user, limit: int = 20) -> list[ExchangeSession]:
    """Sessions of the user's exchanges and sessions they were invited to, not yet over."""
    now = utcnow()
    member_of = db.select(Membership.exchange_id).filter(Membership.user_id == user.id)
    invited_to = db.select(SessionInvitee.session_id).filter(SessionInvitee.user_id == user.id)
    rows = db.session.execute(
        db.select(ExchangeSession)
        .filter(or_(ExchangeSession.exchange_id.in_(member_of), ExchangeSession.id.in_(invited_to)))
        .filter(ExchangeSession.status != Status.ENDED)
        .filter(_not_over(now))
        .order_by(ExchangeSession.starts_at)
        .limit(limit * 2)
    ).scalars()
    visible = [
        s for s in rows if (s.status == Status.LIVE or s.ends_at > now) and permissions.can_view_session(user, s)
    ]
    return visible[:limit]


def find_by_join_code(raw: str) -> ExchangeSession | None:
    code = normalise_join_code(raw)
    if len(code) != 8:
        return None
    session = db.session.execute(db.select(ExchangeSession).filter_by(join_code=code)).scalar_one_or_none()
    if session is None or not permissions.can_join_as_guest(session):
        return None
    return session


def join_as_guest(session: ExchangeSession, display_name: str) -> Guest:
    """Create a guest and remember it in the signed cookie, so reloads and reconnects keep the identity."""
    from .lobby import status_for_new_guest

    status = status_for_new_guest(session)  # raises Refused('no_guests' | 'room_full')
    token = new_token()
    guest = Guest(session=session, display_name=display_name[:60], token_hash=hash_token(token), status=status)
    db.session.add(guest)
    db.session.commit()
    if status == Guest.WAITING:
        from .lobby import notify

        notify(session)
    tokens = dict(cookie_session.get(GUEST_COOKIE_KEY, {}))
    tokens[str(session.id)] = token
    cookie_session[GUEST_COOKIE_KEY] = tokens
    cookie_session.permanent = True
    return guest


def guest_from_token(session_id: int, token: str | None) -> Guest | None:
    if not token or len(token) > 100:
        return None
    return db.session.execute(
        _guest_statement(), {"session_id": session_id, "token_hash": hash_token(token)}
    ).scalar_one_or_none()


@prepared
def _guest_statement():
    return db.select(Guest).filter_by(session_id=bindparam("session_id"), token_hash=bindparam("token_hash"))


def current_guest(session: ExchangeSession) -> Guest | None:
    return guest_from_token(session.id, cookie_session.get(GUEST_COOKIE_KEY, {}).get(str(session.id)))


def forget_guest(session: ExchangeSession) -> None:
    tokens = dict(cookie_session.get(GUEST_COOKIE_KEY, {}))
    tokens.pop(str(session.id), None)
    cookie_session[GUEST_COOKIE_KEY] = tokens


def agenda_timeline(session: ExchangeSession) -> list[tuple]:
    """Each agenda item with the UTC time it is planned to start."""
    start = session.starts_at
    timeline = []
    for item in session.agenda_items:
        timeline.append((item, start))
        start = start + timedelta(minutes=item.minutes)
    return timeline
