"""Accounts: registration, sign-in with revocable login sessions, password reset, profile."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, url_for
from sqlalchemy import bindparam
from werkzeug.security import generate_password_hash

from ..extensions import db, prepared
from ..mail import send_email
from ..timeutil import utcnow
from ..tokens import hash_token, new_token
from .models import LoginSession, PasswordReset, User

_dummy_hashes: dict[str, str] = {}


def _dummy_hash() -> str:
    """Checked against when the email is unknown, so a miss costs the same time as a wrong password."""
    method = current_app.config["PASSWORD_HASH_METHOD"]
    if method not in _dummy_hashes:
        _dummy_hashes[method] = generate_password_hash("not-a-real-password", method=method)
    return _dummy_hashes[method]


class EmailTaken(ValueError):
    pass


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.execute(db.select(User).filter_by(email=normalise_email(email))).scalar_one_or_none()


def register_user(email: str, password: str, display_name: str, locale: str | None, timezone: str) -> User:
    if find_user_by_email(email):
        raise EmailTaken(email)
    user = User(
        email=normalise_email(email),
        display_name=display_name.strip(),
        locale=locale,
        timezone=timezone,
    )
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def authenticate(email: str, password: str) -> User | None:
    user = find_user_by_email(email)
    if user is None:
        from werkzeug.security import check_password_hash

        check_password_hash(_dummy_hash(), password)
        return None
    return user if user.check_password(password) else None


def start_login_session(user: User, user_agent: str = "") -> str:
    """Record a new signed-in browser; its token is what Flask-Login keeps in the cookie."""
    token = new_token()
    db.session.add(LoginSession(user=user, token_hash=hash_token(token), user_agent=user_agent[:200]))
    db.session.commit()
    user.login_token = token
    return token


def load_user(token: str) -> User | None:
    """The user of a signed-in browser, if its login session is still open (one query: this runs on every
    request and every live action, and is how a sign-out elsewhere takes effect at once)."""
    if not token or len(token) > 100:
        return None
    found = db.session.execute(_open_login_statement(), {"token_hash": hash_token(token)}).one_or_none()
    if found is None:
        return None
    user, login_id, last_seen_at = found
    now = utcnow()
    if now - last_seen_at > timedelta(minutes=5):
        db.session.execute(db.update(LoginSession.__table__).filter_by(id=login_id).values(last_seen_at=now))
        db.session.commit()
    user.login_token = token
    return user


@prepared
def _open_login_statement():
    return (
        db.select(User, LoginSession.id, LoginSession.last_seen_at)
        .join(LoginSession, LoginSession.user_id == User.id)
        .filter(LoginSession.token_hash == bindparam("token_hash"), LoginSession.revoked_at.is_(None))
    )


def end_login_session(token: str | None) -> None:
    if not token:
        return
    login = db.session.execute(db.select(LoginSession).filter_by(token_hash=hash_token(token))).scalar_one_or_none()
    if login and login.revoked_at is None:
        login.revoked_at = utcnow()
        db.session.commit()


def revoke_all_login_sessions(user: User, keep_token: str | None = None) -> None:
    """Sign out every other browser, live connections included."""
    from ..realtime.access import revoke_user_everywhere

    keep = hash_token(keep_token) if keep_token else None
    for login in user.login_sessions.filter_by(revoked_at=None):
        if login.token_hash != keep:
            login.revoked_at = utcnow()
    db.session.commit()
    revoke_user_everywhere(user.id, keep_login_token=keep_token)


def request_password_reset(email: str) -> None:
    """Email a single-use link if the account exists; say nothing either way to the requester."""
    user = find_user_by_email(email)
    if user is None:
        return
    token = new_token()
    minutes = current_app.config["PASSWORD_RESET_MINUTES"]
    db.session.add(
        PasswordReset(user=user, token_hash=hash_token(token), expires_at=utcnow() + timedelta(minutes=minutes))
    )
    db.session.commit()
    send_email(
        user.email,
        "email/password_reset_subject.txt",
        "email/password_reset.txt",
        locale=user.locale,
        user=user,
        minutes=minutes,
        link=url_for("auth.reset_password", token=token, _external=True),
    )


def find_password_reset(token: str) -> PasswordReset | None:
    if not token or len(token) > 100:
        return None
    reset = db.session.execute(db.select(PasswordReset).filter_by(token_hash=hash_token(token))).scalar_one_or_none()
    return reset if reset and reset.usable() else None


def reset_password(reset: PasswordReset, new_password: str) -> User:
    """Set the password, spend the link, and sign out every browser."""
    user = reset.user
    user.set_password(new_password)
    reset.used_at = utcnow()
    db.session.commit()
    revoke_all_login_sessions(user)
    return user


def change_password(user: User, new_password: str) -> None:
    """Other browsers are signed out; this one stays signed in."""
    user.set_password(new_password)
    db.session.commit()
    revoke_all_login_sessions(user, keep_token=user.login_token)


def update_profile(user: User, **fields) -> None:
    for name in ("display_name", "organisation", "country", "locale", "timezone", "gender"):
        if name in fields:
            value = fields[name]
            if isinstance(value, str):
                value = value.strip()
            setattr(user, name, value or (None if name in ("country", "gender", "locale") else value))
    db.session.commit()


def register_login_manager(login_manager) -> None:
    from flask_babel import lazy_gettext as _l

    login_manager.user_loader(load_user)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
