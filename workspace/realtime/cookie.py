"""The signed cookie, decoded once per live connection instead of once per socket event.

Flask-SocketIO runs every event of a connection in a request context made from the same WSGI environ, the one
of the connection's handshake, and Flask opens the session for each: verify the signature, decode the JSON.
The cookie cannot change during a connection, so what it decoded to is kept in that environ, and every event
gets its own copy of it (a handler that changed its copy changes nothing for the next event, as before).
"""

from __future__ import annotations

import copy

from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

_CACHE_KEY = "baraza.cookie_session"


class ConnectionCookieSessionInterface(SecureCookieSessionInterface):
    def open_session(self, app, request):
        environ = request.environ
        raw = request.cookies.get(self.get_cookie_name(app))
        cached = environ.get(_CACHE_KEY)
        if cached is not None and cached[0] == raw:
            return SecureCookieSession(copy.deepcopy(cached[1]))
        session = super().open_session(app, request)
        if raw is not None:
            # (A cookie that does not verify opens as an empty session, and would again: that is kept too.)
            environ[_CACHE_KEY] = (raw, copy.deepcopy(dict(session)))
        return session
