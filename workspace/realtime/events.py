"""Connecting to a live room, leaving it, catching up, and refusing unknown events."""

from __future__ import annotations

from flask import current_app, request
from flask_socketio import join_room
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..board import state as board_state
from ..extensions import db, socketio
from ..sessions import live, lobby
from ..sessions.models import ExchangeSession
from ..timeutil import utcnow
from . import outbox, presence
from .access import Viewer, resolve
from .actions import Connection, check_flood, connections, current_viewer, disconnect_hooks
from .flood import flood
from .models import LiveConnection
from .protocol import Refused, Sync, messages, parse, refusal
from .services import events_since, last_seq, mods_room, person_room, room, viewers_room


class ConnectAuth(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)
    session: int = Field(ge=1, le=2**31)
    since: int | None = Field(default=None, ge=0, le=2**31)


def _refuse_connection(code: str):
    from socketio.exceptions import ConnectionRefusedError

    message = messages().get(code, code)
    raise ConnectionRefusedError(message, {"code": code, "message": message})


def _sent_as_event() -> bool:
    """A connected client can send an event *named* "connect" or "disconnect", and Socket.IO hands it to
    those handlers; the real calls come while the socket is not yet, or no longer, connected."""
    return socketio.server.manager.is_connected(request.sid, "/")


def _refuse_event() -> dict:
    try:
        check_flood(request.sid)
    except Refused as refused:
        return refusal(refused.code)
    return refusal("invalid")


@socketio.on("connect")
def on_connect(auth=None):
    if _sent_as_event():
        return _refuse_event()
    try:
        params = ConnectAuth.model_validate(auth if isinstance(auth, dict) else {})
    except ValidationError:
        _refuse_connection("invalid")
    session = db.session.get(ExchangeSession, params.session)
    try:
        viewer = resolve(session)
        lobby.check_capacity(session, viewer)
    except Refused as refused:
        db.session.rollback()
        _refuse_connection(refused.code)
    presence.start_background(current_app)
    sid = request.sid
    presence.add(
        LiveConnection(
            sid=sid,
            session_id=session.id,
            person=viewer.person,
            user_id=viewer.user_id,
            guest_id=viewer.guest_id,
            login_hash=viewer.login_hash,
            name=viewer.name[:80],
            role=viewer.role,
            side=viewer.side,
            lobby=viewer.lobby,
            worker=presence.WORKER_ID,
        )
    )
    connections[sid] = Connection(session.id, viewer.person, viewer.moderator, viewer.lobby)
    join_room(person_room(session.id, viewer.person))
    you = {"id": viewer.person, "name": viewer.name, "role": viewer.role, "moderator": viewer.moderator}
    if viewer.lobby:
        socketio.emit("welcome", {"you": you, "lobby": lobby.position(session, viewer.guest_id)}, to=sid)
        lobby.notify(session)
        return
    outbox.flush(session.id)  # what is queued goes to the others; this socket gets it in its welcome
    join_room(room(session.id))
    # Sequenced events: moderators get every one, the others the public ones (one stream each: outbox.py).
    join_room(mods_room(session.id) if viewer.moderator else viewers_room(session.id))
    socketio.emit("welcome", {"you": you, **catch_up(session, params.since, viewer, sid)}, to=sid)


def catch_up(session: ExchangeSession, since: int | None, viewer: Viewer, sid: str) -> dict:
    """Exactly the missed events when a client says where it was; a fresh snapshot otherwise.

    Private state (one's own pending posts, raised hand, poll answers) and poll results always come fresh.
    """
    moderator = viewer.moderator
    body = {
        "presence": presence.present(session.id),
        "server_time": live.iso(utcnow()),
        **board_state.on_catch_up(session, viewer, sid),
    }
    if moderator:
        body["lobby"] = lobby.waiting_wire(session)
    if since is not None and since <= last_seq(session.id, moderator):
        # (A client ahead of the server, say after a restore from backup, gets a snapshot.)
        events = events_since(session.id, since, moderator)
        if events is not None:
            body["events"] = [e.wire() for e in events]
            body["seq"] = events[-1].seq if events else since
            return body
    body["snapshot"] = {**live.snapshot(session, moderator), **board_state.snapshot(session, viewer)}
    body["seq"] = body["snapshot"]["seq"]
    return body


@socketio.on("disconnect")
def on_disconnect(*_reason):
    if _sent_as_event():
        return _refuse_event()
    sid = request.sid
    conn = connections.pop(sid, None)
    flood.forget(sid)
    for hook in disconnect_hooks:
        hook(sid)
    # The lobby's queue is Guest rows, not connections: leaving changes presence only.
    presence.remove(sid)
    return conn


@socketio.on("sync")
def on_sync(payload=None, *extra):
    """Ask for what was missed after `since` (after a gap, or a tick ahead of what the client has)."""
    sid = request.sid
    conn = connections.get(sid)
    try:
        if conn is None or conn.lobby:
            raise Refused("not_allowed")
        check_flood(sid)
        if extra:
            raise Refused("invalid")
        data = parse(Sync, payload)
        session, viewer = current_viewer(conn)
        return {"ok": True, **catch_up(session, data.since, viewer, sid)}
    except Refused as refused:
        db.session.rollback()
        return refusal(refused.code)


@socketio.on("*")
def on_unknown(event, *args):
    if not isinstance(event, str) or socketio.server.manager.is_connected(event, "/"):
        # An event literally named "*": Flask-SocketIO then reads the sender's sid as the event name and the
        # payload as the sid, so request.sid need not be the sender's. Answer without touching that socket.
        return refusal("invalid")
    return _refuse_event()
