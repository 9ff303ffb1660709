"""Sessions of an exchange (named ExchangeSession: `Session` collides with SQLAlchemy and Flask)."""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..timeutil import utcnow

JOIN_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are read aloud
JOIN_CODE_LENGTH = 8


def new_join_code() -> str:
    return "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(JOIN_CODE_LENGTH))


def normalise_join_code(raw: str) -> str:
    return "".join(ch for ch in (raw or "").upper() if ch.isalnum())[:32]


class Method:
    LABELS = {
        "diagnostic": _l("Diagnostic meeting"),
        "workshop": _l("Workshop"),
        "round_table": _l("Round table"),
        "focus_group": _l("Focus group"),
        "webinar": _l("Webinar or open forum"),
        "coaching": _l("Coaching / mentoring"),
        "visit": _l("Exchange visit"),
        "feedback": _l("Feedback session"),
    }


class Phase:
    LABELS = {
        "preparation": _l("Preparation"),
        "implementation": _l("Implementation"),
        "wrap_up": _l("Wrap-up and follow-up"),
    }


class Mode:
    CLOSED = "closed"
    OPEN = "open"
    LABELS = {CLOSED: _l("Closed (invited peers only)"), OPEN: _l("Open (public)")}


class Status:
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    LIVE = "live"
    ENDED = "ended"
    LABELS = {DRAFT: _l("Draft"), SCHEDULED: _l("Scheduled"), LIVE: _l("Live"), ENDED: _l("Ended")}
    TRANSITIONS = {
        DRAFT: {SCHEDULED},
        SCHEDULED: {DRAFT, LIVE},
        LIVE: {ENDED},
        ENDED: set(),
    }


class InvalidTransition(ValueError):
    pass


class GuestPolicy:
    """Who may come in from an open session's link or code."""

    OPEN = "open"  # admitted at once
    LOBBY = "lobby"  # wait until a moderator admits them
    NONE = "none"  # no guests
    LABELS = {OPEN: _l("Admit guests at once"), LOBBY: _l("Hold guests in a lobby"), NONE: _l("No guests")}


class ExchangeSession(db.Model):
    __tablename__ = "exchange_sessions"

    id = db.Column(db.Integer, primary_key=True)
    exchange_id = db.Column(db.Integer, db.ForeignKey("exchanges.id", ondelete="CASCADE"), nullable=False, index=True)
    title = db.Column(db.String(200), nullable=False)
    method = db.Column(db.String(20), nullable=False, default="workshop")
    phase = db.Column(db.String(20), nullable=False, default="implementation")
    mode = db.Column(db.String(10), nullable=False, default=Mode.CLOSED)
    status = db.Column(db.String(10), nullable=False, default=Status.DRAFT)
    starts_at = db.Column(db.DateTime, nullable=False, index=True)  # naive UTC
    host_timezone = db.Column(db.String(64), nullable=False, default="UTC")
    duration_minutes = db.Column(db.Integer, nullable=False, default=90)
    online_url = db.Column(db.String(500), nullable=False, default="")
    venue = db.Column(db.String(300), nullable=False, default="")
    working_languages = db.Column(db.JSON, nullable=False, default=list)
    expected_outcomes = db.Column(db.Text, nullable=False, default="")
    join_code = db.Column(db.String(16), nullable=False, unique=True, default=new_join_code)
    guest_policy = db.Column(db.String(10), nullable=False, default=GuestPolicy.OPEN, server_default=GuestPolicy.OPEN)
    capacity = db.Column(db.Integer, nullable=True)  # people present at once; None: no limit
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    updated_at = db.Column(db.DateTime, nullable=False, default=utcnow, onupdate=utcnow)

    exchange = db.relationship("Exchange", backref=db.backref("sessions", lazy="dynamic", passive_deletes=True))
    agenda_items = db.relationship(
        "AgendaItem",
        back_populates="session",
        order_by="AgendaItem.position",
        cascade="all, delete-orphan",
        lazy="selectin",
    )

    @property
    def ends_at(self):
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    @property
    def is_open(self) -> bool:
        return self.mode == Mode.OPEN

    @property
    def is_closed(self) -> bool:
        return self.mode == Mode.CLOSED

    @property
    def place_kind(self) -> str:
        if self.online_url and self.venue:
            return "hybrid"
        return "venue" if self.venue else "online"

    @property
    def display_join_code(self) -> str:
        return f"{self.join_code[:4]}-{self.join_code[4:]}"

    @property
    def agenda_minutes(self) -> int:
        return sum(item.minutes for item in self.agenda_items)

    @property
    def agenda_overrun(self) -> int:
        """Minutes by which the agenda exceeds the session's length (0 when it fits)."""
        return max(0, self.agenda_minutes - self.duration_minutes)

    def can_move_to(self, status: str) -> bool:
        return status in Status.TRANSITIONS.get(self.status, set())

    def move_to(self, status: str) -> None:
        """The only way a session's status changes; refuses anything but the allowed steps."""
        if not self.can_move_to(status):
            raise InvalidTransition(f"{self.status} -> {status}")
        self.status = status

    @property
    def method_label(self):
        return Method.LABELS.get(self.method, self.method)

    @property
    def phase_label(self):
        return Phase.LABELS.get(self.phase, self.phase)

    @property
    def mode_label(self):
        return Mode.LABELS[self.mode]

    @property
    def status_label(self):
        return Status.LABELS[self.status]


class SessionInvitee(db.Model):
    """Someone let into one closed session without being a member of the exchange."""

    __tablename__ = "session_invitees"
    __table_args__ = (db.UniqueConstraint("session_id", "user_id"),)

    id = db.Column(db.Integer, primary_key=True)
    session_id = db.Column(
        db.Integer, db.ForeignKey("exchange_sessions.id", ondelete="CASCADE"), nullable=False, index=True
    )
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    session = db.relationship(ExchangeSession)
    user = db.relationship("User")


class Guest(db.Model):
    """A person in an open session with only a display name; known by a token in their cookie."""

    __tablename__ = "guests"

    id = db.Column(db.Integer, primary_key=True)
    session_id = db.Column(
        db.Integer, db.ForeignKey("exchange_sessions.id", ondelete="CASCADE"), nullable=False, index=True
    )
    display_name = db.Column(db.String(60), nullable=False)
    token_hash = db.Column(db.String(64), nullable=False, unique=True)
    status = db.Column(db.String(10), nullable=False, default="admitted", server_default="admitted")
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    session = db.relationship(ExchangeSession)

    # Rejected: turned away from the lobby. Removed: taken out of the room by a moderator; the browser keeps
    # its token, so it cannot come straight back under a new name.
    ADMITTED, WAITING, REJECTED, REMOVED = "admitted", "waiting", "rejected", "removed"
