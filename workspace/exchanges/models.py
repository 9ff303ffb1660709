"""The peer-learning exchange, its members and the invitations that bring them in."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..timeutil import utcnow
from ..tokens import new_token


class Role:
    COORDINATOR = "coordinator"
    MODERATOR = "moderator"
    NOTE_TAKER = "note_taker"
    PARTICIPANT = "participant"
    OBSERVER = "observer"

    LABELS = {
        COORDINATOR: _l("Coordinator"),
        MODERATOR: _l("Moderator"),
        NOTE_TAKER: _l("Note-taker"),
        PARTICIPANT: _l("Participant"),
        OBSERVER: _l("Observer"),
    }
    ALL = tuple(LABELS)


class Side:
    SEEKING = "seeking"
    PROVIDING = "providing"
    FACILITATOR = "facilitator"

    LABELS = {
        SEEKING: _l("Knowledge-seeking"),
        PROVIDING: _l("Knowledge-providing"),
        FACILITATOR: _l("Facilitator"),
    }
    ALL = tuple(LABELS)


class Exchange(db.Model):
    __tablename__ = "exchanges"

    id = db.Column(db.Integer, primary_key=True)
    title = db.Column(db.String(200), nullable=False)
    goal = db.Column(db.Text, nullable=False, default="")
    seeking_country = db.Column(db.String(2), nullable=False)
    providing_countries = db.Column(db.JSON, nullable=False, default=list)
    working_languages = db.Column(db.JSON, nullable=False, default=list)
    created_by_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    memberships = db.relationship("Membership", back_populates="exchange", cascade="all, delete-orphan")


class Membership(db.Model):
    __tablename__ = "memberships"
    __table_args__ = (db.UniqueConstraint("exchange_id", "user_id"),)

    id = db.Column(db.Integer, primary_key=True)
    exchange_id = db.Column(db.Integer, db.ForeignKey("exchanges.id", ondelete="CASCADE"), nullable=False, index=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    role = db.Column(db.String(20), nullable=False, default=Role.PARTICIPANT)
    side = db.Column(db.String(20), nullable=False, default=Side.SEEKING)
    joined_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    # Capability for the subscribable calendar feed; removing the member revokes it.
    feed_token = db.Column(db.String(64), nullable=False, unique=True, default=new_token)

    exchange = db.relationship(Exchange, back_populates="memberships")
    user = db.relationship("User", lazy="joined")

    @property
    def role_label(self):
        return Role.LABELS[self.role]

    @property
    def side_label(self):
        return Side.LABELS[self.side]


class Invitation(db.Model):
    """An emailed, single-use link into an exchange, or into one closed session only."""

    __tablename__ = "invitations"

    id = db.Column(db.Integer, primary_key=True)
    exchange_id = db.Column(db.Integer, db.ForeignKey("exchanges.id", ondelete="CASCADE"), nullable=False, index=True)
    session_id = db.Column(db.Integer, db.ForeignKey("exchange_sessions.id", ondelete="CASCADE"), nullable=True)
    email = db.Column(db.String(254), nullable=False)
    role = db.Column(db.String(20), nullable=False, default=Role.PARTICIPANT)
    side = db.Column(db.String(20), nullable=False, default=Side.SEEKING)
    token_hash = db.Column(db.String(64), nullable=False, unique=True)
    invited_by_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    expires_at = db.Column(db.DateTime, nullable=False)
    accepted_at = db.Column(db.DateTime, nullable=True)
    accepted_by_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"), nullable=True)

    exchange = db.relationship(Exchange)
    session = db.relationship("ExchangeSession")
    invited_by = db.relationship("User", foreign_keys=[invited_by_id])

    @property
    def role_label(self):
        return Role.LABELS[self.role]

    def usable(self, now: datetime | None = None) -> bool:
        return self.accepted_at is None and (now or utcnow()) < self.expires_at
