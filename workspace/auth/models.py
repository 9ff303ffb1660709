"""Accounts and the server-side login sessions that make logout real."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask_login import UserMixin
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..timeutil import utcnow


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id = db.Column(db.Integer, primary_key=True)
    email = db.Column(db.String(254), nullable=False, unique=True, index=True)
    password_hash = db.Column(db.String(255), nullable=False)
    display_name = db.Column(db.String(80), nullable=False)
    organisation = db.Column(db.String(120), nullable=False, default="")
    country = db.Column(db.String(2), nullable=True)
    locale = db.Column(db.String(8), nullable=True)
    timezone = db.Column(db.String(64), nullable=False, default="UTC")
    gender = db.Column(db.String(60), nullable=True)  # self-described, optional
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    # Set per request by the user loader: the login session this request belongs to.
    login_token = None

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def get_id(self) -> str | None:
        """Flask-Login stores the login-session token, not the user id, so the server can revoke it."""
        return self.login_token

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class LoginSession(db.Model):
    """One signed-in browser. Revoking it ends that browser's session (and its live sockets)."""

    __tablename__ = "login_sessions"

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    token_hash = db.Column(db.String(64), nullable=False, unique=True)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    last_seen_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    revoked_at = db.Column(db.DateTime, nullable=True)
    user_agent = db.Column(db.String(200), nullable=False, default="")

    user = db.relationship(User, backref=db.backref("login_sessions", lazy="dynamic", passive_deletes=True))

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class PasswordReset(db.Model):
    __tablename__ = "password_resets"

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    token_hash = db.Column(db.String(64), nullable=False, unique=True)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    expires_at = db.Column(db.DateTime, nullable=False)
    used_at = db.Column(db.DateTime, nullable=True)

    user = db.relationship(User)

    def usable(self, now: datetime | None = None) -> bool:
        return self.used_at is None and (now or utcnow()) < self.expires_at
