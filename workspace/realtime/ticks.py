"""A small periodic message with the room's last sequence number.

Broadcasts are at most once (a Redis restart can drop one); a client that sees a tick ahead of what it
has asks for the missing events, so nothing stays lost even when no further event follows.
"""

from __future__ import annotations

from ..extensions import db, socketio
from .models import LiveConnection, LiveState
from .presence import WORKER_ID
from .services import mods_room, room


def tick() -> None:
    session_ids = (
        db.session.execute(db.select(LiveConnection.session_id).filter_by(worker=WORKER_ID).distinct()).scalars().all()
    )
    if not session_ids:
        return
    states = db.session.execute(db.select(LiveState).filter(LiveState.session_id.in_(session_ids))).scalars()
    for state in states:
        socketio.emit("tick", {"seq": state.last_public_seq}, to=room(state.session_id))
        if state.last_seq != state.last_public_seq:
            socketio.emit("tick", {"seq": state.last_seq}, to=mods_room(state.session_id))
