"""Configuration classes. The environment is read here, and only when a class is built."""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent

LANGUAGES = ["en", "fr", "es", "ar", "ru", "zh", "pt"]
RTL_LANGUAGES = {"ar"}


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    """Defaults shared by every environment; each value can come from the environment."""

    def __init__(self) -> None:
        env = os.environ
        self.SECRET_KEY = env.get("SECRET_KEY")  # generated into instance/ when absent in development
        self.SQLALCHEMY_DATABASE_URI = env.get("DATABASE_URL")  # None: SQLite in the instance folder
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
        self.SOCKETIO_ASYNC_MODE = env.get("SOCKETIO_ASYNC_MODE", "eventlet")
        self.SOCKETIO_MESSAGE_QUEUE = env.get("SOCKETIO_MESSAGE_QUEUE") or None
        # The Redis pub/sub channel: deployments (or tests) sharing one Redis must not share rooms.
        self.SOCKETIO_CHANNEL = env.get("SOCKETIO_CHANNEL", "flask-socketio")
        self.SOCKETIO_CORS_ALLOWED_ORIGINS = [o.strip() for o in env.get("ALLOWED_ORIGINS", "").split(",") if o.strip()]
        self.MAX_CONNECTIONS = int(env.get("MAX_CONNECTIONS", "4096"))
        self.MAX_CONTENT_LENGTH = int(env.get("MAX_CONTENT_LENGTH", str(1024 * 1024)))
        self.PROXY_FIX_X_FOR = int(env.get("PROXY_FIX_X_FOR", "0"))
        self.PROXY_FIX_X_PROTO = int(env.get("PROXY_FIX_X_PROTO", "0"))

        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.REMEMBER_COOKIE_SAMESITE = "Lax"
        self.REMEMBER_COOKIE_SECURE = self.SESSION_COOKIE_SECURE
        self.REMEMBER_COOKIE_DURATION = 60 * 60 * 24 * 14
        self.PREFERRED_URL_SCHEME = env.get("PREFERRED_URL_SCHEME", "https")
        self.SERVER_NAME = env.get("SERVER_NAME") or None
        self.PUBLIC_URL = env.get("PUBLIC_URL", "").rstrip("/")

        self.WTF_CSRF_TIME_LIMIT = None  # tied to the session instead; long workshops outlast an hour

        self.BABEL_DEFAULT_LOCALE = "en"
        self.BABEL_DEFAULT_TIMEZONE = "UTC"
        self.BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "translations")
        self.LANGUAGES = LANGUAGES

        self.MAIL_SERVER = env.get("MAIL_SERVER") or None
        self.MAIL_PORT = int(env.get("MAIL_PORT", "25"))
        self.MAIL_USERNAME = env.get("MAIL_USERNAME") or None
        self.MAIL_PASSWORD = env.get("MAIL_PASSWORD") or None
        self.MAIL_USE_TLS = _bool("MAIL_USE_TLS", False)
        self.MAIL_USE_SSL = _bool("MAIL_USE_SSL", False)
        self.MAIL_DEFAULT_SENDER = env.get("MAIL_DEFAULT_SENDER", "Baraza <no-reply@baraza.local>")

        self.RATELIMIT_STORAGE_URI = env.get("RATELIMIT_STORAGE_URI", "memory://")
        self.RATELIMIT_ENABLED = True
        self.RATELIMIT_HEADERS_ENABLED = True
        self.LOGIN_LIMITS = env.get("LOGIN_LIMITS", "10 per minute;50 per hour")
        self.LOGIN_ACCOUNT_LIMITS = env.get("LOGIN_ACCOUNT_LIMITS", "5 per 5 minutes;20 per hour")
        self.RESET_LIMITS = env.get("RESET_LIMITS", "5 per hour")

        self.LIVE_RATE = float(env.get("LIVE_RATE", "5"))  # actions per second per connection
        self.LIVE_BURST = float(env.get("LIVE_BURST", "20"))
        self.LIVE_MODERATOR_FACTOR = float(env.get("LIVE_MODERATOR_FACTOR", "5"))  # moderators: 5x rate and burst
        # A busy room's sequenced events go out in batches, at most this many messages a second (outbox.py).
        self.LIVE_BROADCASTS_PER_SECOND = float(env.get("LIVE_BROADCASTS_PER_SECOND", "20"))
        if not self.LIVE_BROADCASTS_PER_SECOND > 0:
            raise RuntimeError("LIVE_BROADCASTS_PER_SECOND must be a number above 0")
        self.LIVE_TICK_SECONDS = int(env.get("LIVE_TICK_SECONDS", "10"))
        # Each worker refreshes its connection rows this often; rows of a dead worker stop counting after STALE.
        self.LIVE_HEARTBEAT_SECONDS = int(env.get("LIVE_HEARTBEAT_SECONDS", "15"))
        self.LIVE_STALE_SECONDS = int(env.get("LIVE_STALE_SECONDS", "45"))
        # How long authors may still edit or withdraw a contribution.
        self.BOARD_EDIT_SECONDS = int(env.get("BOARD_EDIT_SECONDS", "300"))
        # Collective notes: limits on what clients send, and how often updates are merged and relayed.
        self.NOTES_MAX_UPDATE_BYTES = int(env.get("NOTES_MAX_UPDATE_BYTES", str(64 * 1024)))
        self.NOTES_MAX_DOC_BYTES = int(env.get("NOTES_MAX_DOC_BYTES", str(1024 * 1024)))
        self.NOTES_RATE = float(env.get("NOTES_RATE", "30"))  # notes messages per second per connection
        self.NOTES_BURST = float(env.get("NOTES_BURST", "90"))
        self.NOTES_FLUSH_SECONDS = float(env.get("NOTES_FLUSH_SECONDS", "0.05"))  # at most 20 relays a second
        # ... and at most about this many messages a second per document (a large room gets fewer, larger ones)
        self.NOTES_RELAY_DELIVERIES = float(env.get("NOTES_RELAY_DELIVERIES", "3000"))
        self.NOTES_STORE_SECONDS = float(env.get("NOTES_STORE_SECONDS", "0.02"))  # updates committed together
        # wsgi.py: full garbage collections after this many generation-1 ones (Python: 10); see docs/benchmarks.md
        self.GC_FULL_EVERY = int(env.get("GC_FULL_EVERY", "100"))
        self.NOTES_COMPACT_EVERY = int(env.get("NOTES_COMPACT_EVERY", "200"))  # updates between snapshots

        self.PASSWORD_HASH_METHOD = env.get("PASSWORD_HASH_METHOD", "scrypt")  # werkzeug: scrypt n=2^15, r=8, p=1

        self.INVITATION_DAYS = int(env.get("INVITATION_DAYS", "14"))
        self.PASSWORD_RESET_MINUTES = int(env.get("PASSWORD_RESET_MINUTES", "60"))


class DevelopmentConfig(Config):
    def __init__(self) -> None:
        super().__init__()
        self.DEBUG = _bool("FLASK_DEBUG", False)
        self.SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
        self.REMEMBER_COOKIE_SECURE = self.SESSION_COOKIE_SECURE
        self.PREFERRED_URL_SCHEME = os.environ.get("PREFERRED_URL_SCHEME", "http")


class TestingConfig(Config):
    def __init__(self) -> None:
        super().__init__()
        self.TESTING = True
        self.SECRET_KEY = "test-secret-key-not-for-production"  # noqa: S105 (tests only)
        self.SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL") or "sqlite://"
        self.SESSION_COOKIE_SECURE = False
        self.REMEMBER_COOKIE_SECURE = False
        self.PREFERRED_URL_SCHEME = "http"
        self.WTF_CSRF_ENABLED = False
        self.PASSWORD_HASH_METHOD = "scrypt:1024:8:1"  # noqa: S105 (same scheme, cheaper work factor: tests only)
        self.RATELIMIT_STORAGE_URI = "memory://"
        self.MAIL_SERVER = None
        # In-process tests are not monkey patched; the live-server fixture runs wsgi.py with eventlet.
        self.SOCKETIO_ASYNC_MODE = "threading"


class ProductionConfig(Config):
    def __init__(self) -> None:
        super().__init__()
        if not self.SECRET_KEY:
            raise RuntimeError("SECRET_KEY must be set in production")


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_from_env() -> Config:
    """Pick the class named by BARAZA_ENV (development by default)."""
    return CONFIGS[os.environ.get("BARAZA_ENV", "development")]()
