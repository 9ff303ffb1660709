"""Durable session events, the live state they advance, and who is connected where."""

from __future__ import annotations

from ..extensions import db
from ..timeutil import utcnow


class LiveState(db.Model):
    """One row per session that has been opened live: its sequence counters and live agenda state."""

    __tablename__ = "live_states"

    session_id = db.Column(db.Integer, db.ForeignKey("exchange_sessions.id", ondelete="CASCADE"), primary_key=True)
    last_seq = db.Column(db.Integer, nullable=False, default=0)
    last_public_seq = db.Column(db.Integer, nullable=False, default=0)
    current_item_id = db.Column(db.Integer, db.ForeignKey("agenda_items.id", ondelete="SET NULL"), nullable=True)
    # Countdown for the current item: running when ends_at is set, paused when remaining is set.
    timer_ends_at = db.Column(db.DateTime, nullable=True)
    timer_remaining = db.Column(db.Integer, nullable=True)  # seconds, while paused
    updated_at = db.Column(db.DateTime, nullable=False, default=utcnow, onupdate=utcnow)


class SessionEvent(db.Model):
    """A state change, stored with its per-session sequence number before anyone is told of it."""

    __tablename__ = "session_events"
    __table_args__ = (
        db.UniqueConstraint("session_id", "seq", name="uq_session_events_session_seq"),
        db.UniqueConstraint("session_id", "client_id", name="uq_session_events_session_client"),
    )

    id = db.Column(db.Integer, primary_key=True)
    session_id = db.Column(
        db.Integer, db.ForeignKey("exchange_sessions.id", ondelete="CASCADE"), nullable=False, index=True
    )
    seq = db.Column(db.Integer, nullable=False)
    prev = db.Column(db.Integer, nullable=False)  # previous seq visible to the same audience
    audience = db.Column(db.String(10), nullable=False, default="all")  # "all" or "mods"
    type = db.Column(db.String(40), nullable=False)
    data = db.Column(db.JSON, nullable=False, default=dict)
    actor = db.Column(db.String(20), nullable=True)  # "u:<id>" or "g:<id>"
    client_id = db.Column(db.String(64), nullable=True)  # the idempotency key the client sent
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    def wire(self) -> dict:
        return {"seq": self.seq, "prev": self.prev, "type": self.type, "data": self.data}


class LiveConnection(db.Model):
    """One open socket. Shared by all worker processes, so presence and revocation work across them."""

    __tablename__ = "live_connections"

    sid = db.Column(db.String(64), primary_key=True)
    session_id = db.Column(
        db.Integer, db.ForeignKey("exchange_sessions.id", ondelete="CASCADE"), nullable=False, index=True
    )
    person = db.Column(db.String(20), nullable=False, index=True)  # "u:<id>" or "g:<id>"
    user_id = db.Column(db.Integer, nullable=True, index=True)
    guest_id = db.Column(db.Integer, nullable=True, index=True)
    login_hash = db.Column(db.String(64), nullable=True, index=True)
    name = db.Column(db.String(80), nullable=False)
    role = db.Column(db.String(20), nullable=False)
    side = db.Column(db.String(20), nullable=True)
    lobby = db.Column(db.Boolean, nullable=False, default=False)
    worker = db.Column(db.String(40), nullable=False, index=True)
    connected_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    seen_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    def public(self) -> dict:
        return {
            "id": self.person,
            "name": self.name,
            "role": self.role,
            "side": self.side,
            "guest": self.guest_id is not None,
        }
