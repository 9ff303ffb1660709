"""The signed cookie is decoded once per live connection (workspace/realtime/cookie.py).

Every socket event of a connection runs in a request context made from the handshake's WSGI environ; these
tests make contexts from one environ the same way.
"""

from __future__ import annotations

import flask
from flask.sessions import SecureCookieSessionInterface
from werkzeug.test import EnvironBuilder


def _environ(app, cookie: str) -> dict:
    name = app.config["SESSION_COOKIE_NAME"]
    return EnvironBuilder(path="/socket.io/", headers={"Cookie": f"{name}={cookie}"}).get_environ()


def _signed(app, data: dict) -> str:
    return app.session_interface.get_signing_serializer(app).dumps(data)


def test_a_connections_cookie_is_verified_once_and_each_event_gets_its_own_copy(app, monkeypatch):
    opened = []
    original = SecureCookieSessionInterface.open_session

    def counting(self, app_, request):
        opened.append(request.cookies.get(app_.config["SESSION_COOKIE_NAME"]))
        return original(self, app_, request)

    monkeypatch.setattr(SecureCookieSessionInterface, "open_session", counting)
    environ = _environ(app, _signed(app, {"_user_id": "token", "guests": {"7": "guest-token"}}))

    for _event in range(3):
        with app.request_context(environ):
            assert flask.session["_user_id"] == "token"
            assert flask.session["guests"] == {"7": "guest-token"}
            flask.session["guests"]["7"] = "changed by a handler"  # must not reach the next event
    assert len(opened) == 1

    # Another connection (another environ) verifies its own cookie.
    with app.request_context(_environ(app, _signed(app, {"_user_id": "other"}))):
        assert flask.session["_user_id"] == "other"
    assert len(opened) == 2


def test_a_cookie_that_does_not_verify_opens_empty_every_time(app):
    forged = _signed(app, {"_user_id": "token"})[:-2] + "xx"
    environ = _environ(app, forged)
    for _event in range(2):
        with app.request_context(environ):
            assert dict(flask.session) == {}
