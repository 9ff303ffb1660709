"""The steps create_app runs, one function each."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask, render_template
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from .extensions import babel, csrf, db, limiter, login_manager, migrate, socketio


def _instance_secret_key(app: Flask) -> str:
    """Generated once per installation and kept in instance/ (development only)."""
    path = Path(app.instance_path) / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip()


def register_defaults(app: Flask) -> None:
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret_key(app)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + str(Path(app.instance_path) / "baraza.sqlite3")
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("postgres://"):
        app.config["SQLALCHEMY_DATABASE_URI"] = "postgresql://" + uri[len("postgres://") :]
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # A file has no connection to lose: the ping was a statement more on every socket event.
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options.pop("pool_pre_ping", None)
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    if app.config["PROXY_FIX_X_FOR"] or app.config["PROXY_FIX_X_PROTO"]:
        app.wsgi_app = ProxyFix(
            app.wsgi_app, x_for=app.config["PROXY_FIX_X_FOR"], x_proto=app.config["PROXY_FIX_X_PROTO"]
        )


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """WAL lets readers and a writer work at once; foreign keys make ON DELETE real."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def register_extensions(app: Flask) -> None:
    from .i18n import select_locale, select_timezone
    from .realtime import wirejson
    from .realtime.cookie import ConnectionCookieSessionInterface

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"), render_as_batch=True)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    app.session_interface = ConnectionCookieSessionInterface()
    origins = app.config["SOCKETIO_CORS_ALLOWED_ORIGINS"] or None  # None: same origin only
    # Socket handlers declared before the first server exists are kept by Flask-SocketIO and given to every
    # server init_app makes; declared later, they would reach only the first app's server (a second app in
    # the same process, as in the tests, would answer no event at all).
    from . import agenda, auth, board, exchanges, feedback, home, notes, sessions  # noqa: F401
    from .realtime import events  # noqa: F401

    socketio.init_app(
        app,
        async_mode=app.config["SOCKETIO_ASYNC_MODE"],
        message_queue=app.config["SOCKETIO_MESSAGE_QUEUE"],
        channel=app.config["SOCKETIO_CHANNEL"],
        cors_allowed_origins=origins,
        manage_session=False,
        json=wirejson,
        serializer=wirejson.Packet,
    )
    from .auth import services as auth_services

    auth_services.register_login_manager(login_manager)


def register_blueprints(app: Flask) -> None:
    from .agenda import bp as agenda_bp
    from .auth import bp as auth_bp
    from .board import bp as board_bp
    from .exchanges import bp as exchanges_bp
    from .feedback import bp as feedback_bp
    from .home import bp as home_bp
    from .notes import bp as notes_bp
    from .sessions import bp as sessions_bp

    for bp in (home_bp, auth_bp, exchanges_bp, sessions_bp, agenda_bp, board_bp, feedback_bp, notes_bp):
        app.register_blueprint(bp)
    from .realtime import events  # noqa: F401  (connect, disconnect, sync)


def register_security(app: Flask) -> None:
    from .security import apply_security_headers

    app.after_request(apply_security_headers)


def register_errorhandlers(app: Flask) -> None:
    def render_error(error):
        code = getattr(error, "code", 500) or 500
        return render_template("errors/error.html", code=code), code

    for code in (400, 403, 404, 405, 413, 429, 500):
        app.register_error_handler(code, render_error)

    from flask_wtf.csrf import CSRFError

    app.register_error_handler(CSRFError, lambda e: (render_template("errors/error.html", code="csrf"), 400))


def register_template_helpers(app: Flask) -> None:
    from . import templating

    templating.init_app(app)


def register_commands(app: Flask) -> None:
    from . import commands

    commands.init_app(app)
