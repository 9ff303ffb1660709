"""Tables of a session's collective notes: the document (snapshot + appended updates), versions, summary."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..timeutil import utcnow


class Editors:
    """Who may edit a session's notes (everyone else in the session follows them read-only)."""

    NOTE_TAKERS = "note_takers"  # note-takers, moderators and coordinators
    EVERYONE = "everyone"  # every member of the exchange and every invitee of the session
    LABELS = {NOTE_TAKERS: _l("Note-takers and moderators"), EVERYONE: _l("Everyone in the session")}


class NoteDoc(db.Model):
    """One row per session whose notes were opened: the compacted state and the append counter.

    The document is `snapshot` merged with every NoteUpdate of the session (all have seq > snapshot_seq).
    Appending locks this row, so sequence numbers are contiguous and commit in order.
    """

    __tablename__ = "note_docs"

    session_id = db.Column(db.Integer, db.ForeignKey("exchange_sessions.id", ondelete="CASCADE"), primary_key=True)
    editors = db.Column(db.String(20), nullable=False, default=Editors.NOTE_TAKERS)
    snapshot = db.Column(db.LargeBinary, nullable=False)  # a Yjs update holding the whole state at snapshot_seq
    snapshot_seq = db.Column(db.Integer, nullable=False, default=0)
    last_seq = db.Column(db.Integer, nullable=False, default=0)
    pending_bytes = db.Column(db.Integer, nullable=False, default=0)  # sum of the update sizes since the snapshot
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    updated_at = db.Column(db.DateTime, nullable=False, default=utcnow)


class NoteUpdate(db.Model):
    """A Yjs update a client sent, stored before it is acknowledged; squashed into the snapshot later."""

    __tablename__ = "note_updates"
    __table_args__ = (db.UniqueConstraint("session_id", "seq", name="uq_note_updates_session_seq"),)

    id = db.Column(db.Integer, primary_key=True)
    session_id = db.Column(
        db.Integer, db.ForeignKey("exchange_sessions.id", ondelete="CASCADE"), nullable=False, index=True
    )
    seq = db.Column(db.Integer, nullable=False)
    data = db.Column(db.LargeBinary, nullable=False)
    person = db.Column(db.String(20), nullable=True)  # "u:<id>"; None for the server's own edits
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)


class NoteContributor(db.Model):
    """Someone who edited the notes (named in exports unless the session is non-attributed)."""

    __tablename__ = "note_contributors"
    __table_args__ = (db.UniqueConstraint("session_id", "person", name="uq_note_contributors_session_person"),)

    id = db.Column(db.Integer, primary_key=True)
    session_id = db.Column(
        db.Integer, db.ForeignKey("exchange_sessions.id", ondelete="CASCADE"), nullable=False, index=True
    )
    person = db.Column(db.String(20), nullable=False)
    name = db.Column(db.String(80), nullable=False)


class NoteVersion(db.Model):
    """A named copy of the whole document, restorable."""

    __tablename__ = "note_versions"

    id = db.Column(db.Integer, primary_key=True)
    session_id = db.Column(
        db.Integer, db.ForeignKey("exchange_sessions.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name = db.Column(db.String(120), nullable=False)
    state = db.Column(db.LargeBinary, nullable=False)
    created_by_name = db.Column(db.String(80), nullable=False, default="")
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)


class NoteSummary(db.Model):
    """The published written summary: the notes as they were when a moderator published them."""

    __tablename__ = "note_summaries"

    session_id = db.Column(db.Integer, db.ForeignKey("exchange_sessions.id", ondelete="CASCADE"), primary_key=True)
    delta = db.Column(db.JSON, nullable=False)  # Quill delta ops: the source of every export
    html = db.Column(db.Text, nullable=False)  # rendered from the delta and sanitised with nh3
    contributors = db.Column(db.JSON, nullable=False, default=list)  # names, as they were when published
    published_by_name = db.Column(db.String(80), nullable=False, default="")
    published_at = db.Column(db.DateTime, nullable=False, default=utcnow)


class NotesNotice(db.Model):
    """In-app notice to one participant that a session's notes were published; gone once they read them."""

    __tablename__ = "notes_notices"
    __table_args__ = (db.UniqueConstraint("session_id", "user_id", name="uq_notes_notices_session_user"),)

    id = db.Column(db.Integer, primary_key=True)
    session_id = db.Column(
        db.Integer, db.ForeignKey("exchange_sessions.id", ondelete="CASCADE"), nullable=False, index=True
    )
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    seen_at = db.Column(db.DateTime, nullable=True)

    session = db.relationship("ExchangeSession")


class FollowUpAction(db.Model):
    """A follow-up action agreed in a session: what, who, by when, open or done."""

    __tablename__ = "follow_up_actions"

    OPEN, DONE = "open", "done"
    STATUS_LABELS = {OPEN: _l("Open"), DONE: _l("Done")}

    id = db.Column(db.Integer, primary_key=True)
    session_id = db.Column(
        db.Integer, db.ForeignKey("exchange_sessions.id", ondelete="CASCADE"), nullable=False, index=True
    )
    what = db.Column(db.String(500), nullable=False)
    who = db.Column(db.String(200), nullable=False, default="")
    due_on = db.Column(db.Date, nullable=True)
    status = db.Column(db.String(10), nullable=False, default=OPEN)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    session = db.relationship("ExchangeSession")

    @property
    def status_label(self):
        return self.STATUS_LABELS.get(self.status, self.status)
