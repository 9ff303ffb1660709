"""Public events go out together: at most LIVE_BROADCASTS_PER_SECOND messages a second to a room's viewers.

Sending one message to one socket is most of what a broadcast costs (about 40-90 µs of server CPU each, the
framework's own floor), so in a busy room the public events of the last 50 ms travel to everyone who is not a
moderator as one `events` message: in a lecture of 300 at 30 contributions a second a participant gets about
20 messages a second instead of 36. A quiet room loses nothing to this: the first event after a pause goes
out at once, in the action that made it. Moderators (a handful of sockets, and the ones who act on what they
see) get every event at once, in order, through their own room.

Events are stored before they are queued here, so the outbox holds nothing that is not in the database: a
worker that dies with events queued leaves its clients a gap that the next `tick` makes them fetch.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from flask import Flask, current_app

from ..extensions import socketio
from .rooms import mods_room, viewers_room


@dataclass
class _Box:
    pending: list[dict] = field(default_factory=list)  # public events' wire forms, in order
    last_sent: float = 0.0  # time.monotonic() of the last send
    scheduled: bool = False


_boxes: dict[int, _Box] = {}
_lock = threading.Lock()  # the threading mode's handlers run in parallel; under eventlet it never waits


def send(session_id: int, events: list[tuple[str, dict]]) -> None:
    """A change's events (audience, wire): to moderators now, the public ones to everyone else now or soon."""
    if not events:
        return
    socketio.emit("events", [wire for _, wire in events], to=mods_room(session_id))
    public = [wire for audience, wire in events if audience == "all"]
    if not public:
        return
    app = current_app._get_current_object()
    interval = 1.0 / app.config["LIVE_BROADCASTS_PER_SECOND"]
    with _lock:
        box = _boxes.setdefault(session_id, _Box())
        box.pending.extend(public)
        if box.scheduled:
            return
        wait = box.last_sent + interval - time.monotonic()
        if wait > 0:
            box.scheduled = True
        else:
            batch = _take(box)
    if wait > 0:
        socketio.start_background_task(_send_later, app, session_id, wait)
    else:
        _emit(session_id, batch)


def flush(session_id: int) -> None:
    """Send what is queued now: before a socket joins the room, so its welcome is the only copy it gets."""
    with _lock:
        box = _boxes.get(session_id)
        batch = _take(box) if box is not None and box.pending else []
    _emit(session_id, batch)


def _take(box: _Box) -> list[dict]:
    batch, box.pending = box.pending, []
    box.last_sent = time.monotonic()
    box.scheduled = False
    return batch


def _send_later(app: Flask, session_id: int, wait: float) -> None:
    socketio.sleep(wait)
    with _lock:
        box = _boxes[session_id]
        if not box.scheduled:  # flushed meanwhile; a later event scheduled its own send
            return
        batch = _take(box)
    with app.app_context():
        _emit(session_id, batch)


def _emit(session_id: int, batch: list[dict]) -> None:
    if batch:
        socketio.emit("events", batch, to=viewers_room(session_id))
