"""The one place that answers "may this person do this to that?".

Routes and socket handlers call these functions; nothing else decides access.
`user` is a User, Flask-Login's anonymous user, or None.
"""

from __future__ import annotations

from flask import g, has_request_context
from sqlalchemy import bindparam
from sqlalchemy.orm import lazyload

from .exchanges.models import Exchange, Membership, Role
from .extensions import db, prepared
from .sessions.models import ExchangeSession, SessionInvitee, Status

PLANNER_ROLES = {Role.COORDINATOR, Role.MODERATOR}


def _user_id(user) -> int | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user.id


def _request_cache(name: str) -> dict:
    """Answers kept for the rest of this request (or socket event); nothing is kept outside one."""
    return g.setdefault(f"_permissions_{name}", {}) if has_request_context() else {}


def membership(user, exchange: Exchange | int) -> Membership | None:
    """The user's membership of the exchange (or of the exchange with this id), cached for the request.

    Questions about a session pass `session.exchange_id`: loading the exchange itself only to ask this was a
    query on every live action and every keystroke of the notes.
    """
    uid = _user_id(user)
    if uid is None:
        return None
    exchange_id = exchange if isinstance(exchange, int) else exchange.id
    cache = _request_cache("memberships")
    key = (uid, exchange_id)
    if key not in cache:
        cache[key] = db.session.execute(
            _membership_statement(), {"user_id": uid, "exchange_id": exchange_id}
        ).scalar_one_or_none()
    return cache[key]


@prepared
def _membership_statement():
    # Without the user it joins by default: the question is only about the membership.
    return (
        db.select(Membership)
        .options(lazyload(Membership.user))
        .filter_by(user_id=bindparam("user_id"), exchange_id=bindparam("exchange_id"))
    )


def role_in(user, exchange: Exchange | int) -> str | None:
    m = membership(user, exchange)
    return m.role if m else None


def can_view_exchange(user, exchange: Exchange | int) -> bool:
    return membership(user, exchange) is not None


def can_manage_exchange(user, exchange: Exchange | int) -> bool:
    """Edit the exchange, invite and remove members, change roles."""
    return role_in(user, exchange) == Role.COORDINATOR


def can_plan_sessions(user, exchange: Exchange | int) -> bool:
    """Create and edit sessions and their agendas."""
    return role_in(user, exchange) in PLANNER_ROLES


def is_session_invitee(user, session: ExchangeSession) -> bool:
    uid = _user_id(user)
    if uid is None:
        return False
    return db.session.execute(_invitee_statement(), {"user_id": uid, "session_id": session.id}).first() is not None


@prepared
def _invitee_statement():
    return db.select(SessionInvitee.id).filter_by(user_id=bindparam("user_id"), session_id=bindparam("session_id"))


def can_view_session(user, session: ExchangeSession) -> bool:
    """Drafts: planners only. Open: everyone. Closed: members and people invited to it."""
    if session.status == Status.DRAFT:
        return can_plan_sessions(user, session.exchange_id)
    if session.is_open:
        return True
    return can_view_exchange(user, session.exchange_id) or is_session_invitee(user, session)


def is_session_participant(user, session: ExchangeSession) -> bool:
    """A member of the exchange or someone invited to this session: in the room under their own name.

    Everyone else comes into an open session's room as a guest, under the session's guest policy.
    """
    return can_view_exchange(user, session.exchange_id) or is_session_invitee(user, session)


def can_edit_session(user, session: ExchangeSession) -> bool:
    return can_plan_sessions(user, session.exchange_id)


def can_join_as_guest(session: ExchangeSession) -> bool:
    return session.is_open and session.status in (Status.SCHEDULED, Status.LIVE)


def is_publicly_listed(session: ExchangeSession) -> bool:
    return session.is_open and session.status in (Status.SCHEDULED, Status.LIVE)


def can_moderate(user, session: ExchangeSession) -> bool:
    """Run the live session: start and end it, move through the agenda, the timer, the lobby."""
    return can_plan_sessions(user, session.exchange_id)


def can_read_board(user, session: ExchangeSession) -> bool:
    """The board stays readable during and after the session by whoever may see the session."""
    return can_view_session(user, session)


def sees_authors(user, session: ExchangeSession, non_attribution: bool) -> bool:
    """Under non-attribution, only moderators see who wrote what (exports never name anyone then)."""
    return not non_attribution or can_moderate(user, session)


def can_review_board(user, session: ExchangeSession) -> bool:
    """Exports, poll answers, the moderation log and the report: they hold names and hidden posts."""
    return can_moderate(user, session)


def removed_from_room(person: str, session: ExchangeSession) -> bool:
    """A participant a moderator took out of this session's room (guests carry it in their status)."""
    cache = _request_cache("removed")  # asked twice per notes keystroke
    key = (person, session.id)
    if key not in cache:
        found = db.session.execute(_removed_statement(), {"session_id": session.id, "person": person}).first()
        cache[key] = found is not None
    return cache[key]


@prepared
def _removed_statement():
    from .board.models import Restriction

    return db.select(Restriction.id).filter_by(
        session_id=bindparam("session_id"), person=bindparam("person"), kind=Restriction.REMOVED
    )


def guest_may_enter(guest, session: ExchangeSession) -> bool:
    """A guest belongs to one open session and counts only once a moderator (or the policy) admitted them."""
    return guest is not None and guest.session_id == session.id and session.is_open and guest.status == "admitted"


def can_manage_feedback(user, session: ExchangeSession) -> bool:
    """Build a session's feedback form, open and close it, read its results and export them."""
    return can_plan_sessions(user, session.exchange_id)


def can_see_exchange_feedback(user, exchange: Exchange) -> bool:
    """The results of every session of an exchange side by side (the wrap-up view)."""
    return can_plan_sessions(user, exchange)


def can_answer_feedback(user, guest, session: ExchangeSession) -> bool:
    """The session's participants under their own name, and admitted guests of an open session."""
    if session.status == Status.DRAFT and not can_plan_sessions(user, session.exchange_id):
        return False
    return is_session_participant(user, session) or guest_may_enter(guest, session)


# --- collective notes --------------------------------------------------------------------------------------

NOTE_TAKING_ROLES = {Role.COORDINATOR, Role.MODERATOR, Role.NOTE_TAKER}


def notes_published(session: ExchangeSession) -> bool:
    from .notes.models import NoteSummary

    return db.session.get(NoteSummary, session.id) is not None


def note_editors(session: ExchangeSession) -> str:
    """The session's setting: "note_takers" (default) or "everyone"."""
    from .notes.models import Editors

    editors = db.session.execute(_editors_statement(), {"session_id": session.id}).scalar_one_or_none()
    return editors or Editors.NOTE_TAKERS


@prepared
def _editors_statement():
    from .notes.models import NoteDoc

    # The column alone: asked on every keystroke, and the row also holds the document's snapshot.
    return db.select(NoteDoc.editors).filter_by(session_id=bindparam("session_id"))


def can_read_notes(user, session: ExchangeSession) -> bool:
    """Follow the notes as they are written: the session's own people (members, invitees), never outsiders.

    Outsiders, guests included, read an open session's notes only once published (can_read_summary).
    """
    return can_view_session(user, session) and is_session_participant(user, session)


def can_edit_notes(user, session: ExchangeSession) -> bool:
    """Note-takers, moderators and coordinators by default; every participant when the session says so."""
    if not can_read_notes(user, session):
        return False
    if removed_from_room(f"u:{_user_id(user)}", session):
        return False
    if role_in(user, session.exchange_id) in NOTE_TAKING_ROLES:
        return True
    from .notes.models import Editors

    return note_editors(session) == Editors.EVERYONE


def can_read_summary(user, session: ExchangeSession) -> bool:
    """The published summary: closed sessions' participants; an open session's, everyone who may see it."""
    if not can_view_session(user, session) or not notes_published(session):
        return False
    return session.is_open or is_session_participant(user, session)


def can_publish_notes(user, session: ExchangeSession) -> bool:
    """Publishing, and choosing who may edit, belong to the session's moderators."""
    return can_moderate(user, session)
