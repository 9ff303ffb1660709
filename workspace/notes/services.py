"""Operations on a session's notes, shared by routes and socket events: access, settings, versions,
restoring, publishing with notices and emails, follow-up actions."""

from __future__ import annotations

from datetime import date

from flask import abort, url_for
from flask_login import current_user

from .. import permissions
from ..auth.models import User
from ..exchanges.models import Membership
from ..extensions import db, socketio
from ..mail import send_email
from ..realtime.access import Viewer
from ..realtime.protocol import Refused
from ..sessions.models import ExchangeSession, SessionInvitee, Status
from ..sessions.services import get_session
from ..timeutil import utcnow
from . import crdt, room, store
from .models import Editors, FollowUpAction, NoteContributor, NoteDoc, NotesNotice, NoteSummary, NoteVersion


def access(session: ExchangeSession, viewer: Viewer) -> str:
    """'edit' or 'read' for a connection in the room; Refused('not_allowed') for anyone else.

    Guests (and signed-in outsiders, who are guests in an open session's room) follow only published notes.
    """
    if viewer.guest_id is not None:
        if session.is_open and permissions.notes_published(session):
            return "read"
        raise Refused("not_allowed")
    if not permissions.can_read_notes(current_user, session):
        raise Refused("not_allowed")
    return "edit" if permissions.can_edit_notes(current_user, session) else "read"


def editors(session: ExchangeSession) -> str:
    return permissions.note_editors(session)


def notes_session(session_id: int, need: str = "read") -> ExchangeSession:
    """The session for a notes page: 404 where the notes must not be revealed, 403 for a missing right."""
    session = get_session(session_id)
    if need == "summary":
        if not permissions.can_read_summary(current_user, session):
            abort(404)
        return session
    if not permissions.can_read_notes(current_user, session):
        abort(404)
    if need == "edit" and not permissions.can_edit_notes(current_user, session):
        abort(403)
    if need == "moderate" and not permissions.can_publish_notes(current_user, session):
        abort(403)
    return session


def set_editors(session: ExchangeSession, value: str) -> None:
    if value not in Editors.LABELS:
        raise Refused("invalid")
    doc = store.ensure_doc(session)
    doc.editors = value
    db.session.commit()
    # Open editors re-join to learn whether they may still type (the server refuses either way).
    socketio.emit("notes.access", {"editors": value}, to=room.notes_room(session.id))


# --- versions ---------------------------------------------------------------------------------------------


def versions(session: ExchangeSession) -> list[NoteVersion]:
    return list(
        db.session.execute(
            db.select(NoteVersion).filter_by(session_id=session.id).order_by(NoteVersion.created_at.desc())
        ).scalars()
    )


def get_version(session: ExchangeSession, version_id: int) -> NoteVersion:
    version = db.session.get(NoteVersion, version_id)
    if version is None or version.session_id != session.id:
        abort(404)
    return version


def save_version(session: ExchangeSession, name: str, author: str) -> NoteVersion:
    store.ensure_doc(session)
    state = store.load_doc(session.id).get_update()
    version = NoteVersion(session_id=session.id, name=name.strip()[:120], state=state, created_by_name=author[:80])
    db.session.add(version)
    db.session.commit()
    return version


def version_delta(version: NoteVersion) -> list[dict]:
    return crdt.delta_of(crdt.doc_from(version.state, strict=False))


def restore_version(session: ExchangeSession, version: NoteVersion, person: str, name: str) -> int:
    """Turn the current document into the version's content with one ordinary update, synced to everyone."""
    store.ensure_doc(session)
    current = store.load_doc(session.id)
    before = current.get_state()
    text = crdt.text_of(current)
    with current.transaction():
        text.clear()
        at = 0
        for op in version_delta(version):
            text.insert(at, op["insert"], op.get("attributes") or {})
            at += len(op["insert"].encode())  # pycrdt's offsets are UTF-8 bytes
    update = current.get_update(before)
    seq = store.append(session.id, update, person, name)
    cached = room.rooms.get(session.id)
    if cached is not None:
        room.catch_up(cached)
    socketio.emit("notes.update", update, to=room.notes_room(session.id))
    return seq


# --- publishing -------------------------------------------------------------------------------------------


def participants(session: ExchangeSession) -> list[User]:
    """Everyone with an account who belongs to the session: the exchange's members and its invitees."""
    members = db.select(Membership.user_id).filter_by(exchange_id=session.exchange_id)
    invitees = db.select(SessionInvitee.user_id).filter_by(session_id=session.id)
    return list(
        db.session.execute(
            db.select(User).filter(db.or_(User.id.in_(members), User.id.in_(invitees))).order_by(User.id)
        ).scalars()
    )


def contributors(session: ExchangeSession) -> list[str]:
    return list(
        db.session.execute(
            db.select(NoteContributor.name).filter_by(session_id=session.id).order_by(NoteContributor.id)
        ).scalars()
    )


def publish(session: ExchangeSession, publisher: User) -> NoteSummary:
    """The notes as they are now become the session's written summary; every participant is told."""
    if session.status != Status.ENDED:
        raise Refused("not_ended")
    store.ensure_doc(session)
    delta = crdt.delta_of(store.load_doc(session.id))
    from .render import to_html

    summary = db.session.get(NoteSummary, session.id)
    first = summary is None
    if first:
        summary = NoteSummary(session_id=session.id)
        db.session.add(summary)
    summary.delta = delta
    summary.html = to_html(delta)
    summary.contributors = contributors(session)
    summary.published_by_name = publisher.display_name
    summary.published_at = utcnow()
    people = participants(session)
    for user in people:
        notice = db.session.execute(
            db.select(NotesNotice).filter_by(session_id=session.id, user_id=user.id)
        ).scalar_one_or_none()
        if notice is None:
            db.session.add(NotesNotice(session_id=session.id, user_id=user.id))
        else:
            notice.seen_at = None
            notice.created_at = utcnow()
    db.session.commit()
    link = url_for("notes.summary", session_id=session.id, _external=True)
    for user in people:
        send_email(
            user.email,
            "email/notes_published_subject.txt",
            "email/notes_published.txt",
            locale=user.locale,
            session=session,
            link=link,
            first=first,
        )
    return summary


def unseen_notices(user) -> list[NotesNotice]:
    if not getattr(user, "is_authenticated", False):
        return []
    rows = db.session.execute(
        db.select(NotesNotice).filter_by(user_id=user.id, seen_at=None).order_by(NotesNotice.created_at.desc())
    ).scalars()
    return [n for n in rows if permissions.can_read_summary(user, n.session)]


def mark_seen(session: ExchangeSession, user) -> None:
    if not getattr(user, "is_authenticated", False):
        return
    notice = db.session.execute(
        db.select(NotesNotice).filter_by(session_id=session.id, user_id=user.id, seen_at=None)
    ).scalar_one_or_none()
    if notice is not None:
        notice.seen_at = utcnow()
        db.session.commit()


def non_attributed(session: ExchangeSession) -> bool:
    """Closed sessions whose board runs under non-attribution: exports name nobody."""
    from ..board.models import Board

    board = db.session.get(Board, session.id)
    return session.is_closed and board is not None and board.non_attribution


# --- follow-up actions ------------------------------------------------------------------------------------


def actions_of(session: ExchangeSession) -> list[FollowUpAction]:
    return list(
        db.session.execute(
            db.select(FollowUpAction).filter_by(session_id=session.id).order_by(FollowUpAction.id)
        ).scalars()
    )


def get_action(session: ExchangeSession, action_id: int) -> FollowUpAction:
    action = db.session.get(FollowUpAction, action_id)
    if action is None or action.session_id != session.id:
        abort(404)
    return action


def add_action(session: ExchangeSession, what: str, who: str, due_on: date | None) -> FollowUpAction:
    action = FollowUpAction(
        session_id=session.id, what=what.strip()[:500], who=(who or "").strip()[:200], due_on=due_on
    )
    db.session.add(action)
    db.session.commit()
    return action


def set_action_status(action: FollowUpAction, status: str) -> None:
    if status not in FollowUpAction.STATUS_LABELS:
        raise Refused("invalid")
    action.status = status
    db.session.commit()


def delete_action(action: FollowUpAction) -> None:
    db.session.delete(action)
    db.session.commit()


def actions_of_exchange(exchange, user) -> list[FollowUpAction]:
    """The exchange overview's list: actions of every session this member may see, by due date."""
    rows = db.session.execute(
        db.select(FollowUpAction)
        .join(ExchangeSession, ExchangeSession.id == FollowUpAction.session_id)
        .filter(ExchangeSession.exchange_id == exchange.id)
        .order_by(FollowUpAction.status.desc(), FollowUpAction.due_on.is_(None), FollowUpAction.due_on)
    ).scalars()
    return [a for a in rows if permissions.can_view_session(user, a.session)]


def has_doc(session: ExchangeSession) -> bool:
    return db.session.get(NoteDoc, session.id) is not None
