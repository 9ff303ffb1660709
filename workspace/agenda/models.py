from __future__ import annotations

from ..extensions import db


class AgendaItem(db.Model):
    __tablename__ = "agenda_items"

    id = db.Column(db.Integer, primary_key=True)
    session_id = db.Column(
        db.Integer, db.ForeignKey("exchange_sessions.id", ondelete="CASCADE"), nullable=False, index=True
    )
    position = db.Column(db.Integer, nullable=False, default=0)
    title = db.Column(db.String(200), nullable=False)
    description = db.Column(db.Text, nullable=False, default="")
    minutes = db.Column(db.Integer, nullable=False, default=15)
    presenter = db.Column(db.String(120), nullable=False, default="")
    expected_outcome = db.Column(db.Text, nullable=False, default="")

    session = db.relationship("ExchangeSession", back_populates="agenda_items")
