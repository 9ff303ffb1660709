"""Each worker's in-memory notes rooms: a cache of the document, who is in it here, and the relay buffer.

The database is the authority. A room catches up from it (updates with a higher seq, or a newer snapshot)
before answering a join and after storing an update, so a worker also sees what clients of other workers
wrote. Updates are relayed through a per-document buffer flushed at most every NOTES_FLUSH_SECONDS, merged
with pycrdt's merge_updates: a burst of keystrokes from many typists costs one broadcast per flush.
Rooms with no client here are dropped, and their document compacted.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from pycrdt import Doc

from ..extensions import socketio
from . import crdt, store


def notes_room(session_id: int) -> str:
    return f"n:{session_id}"


@dataclass
class Room:
    session_id: int
    doc: Doc
    seq: int = -1  # the last stored update applied (-1: nothing yet)
    members: dict[str, int] = field(default_factory=dict)  # sid -> the client's Yjs clientID
    buffer: list[tuple[str, bytes]] = field(default_factory=list)
    flushing: bool = False
    last_flush: float = 0.0
    lock: threading.RLock = field(default_factory=threading.RLock)
    contributors: set[str] = field(default_factory=set)  # people known to be recorded as contributors
    writes: list[PendingWrite] = field(default_factory=list)  # updates waiting for the next group commit
    writing: bool = False
    size: int = -1  # the stored document's size bound after the last group commit (-1: not known)


@dataclass
class PendingWrite:
    update: bytes
    person: str | None
    name: str | None
    known: bool  # already recorded as a contributor
    done: Any  # an event of the async mode in use, set once stored (or failed)
    seq: int | None = None
    error: BaseException | None = None


rooms: dict[int, Room] = {}
member_of: dict[str, int] = {}  # sid -> session id


def get(session_id: int) -> Room:
    room = rooms.get(session_id)
    if room is None:
        room = rooms[session_id] = Room(session_id=session_id, doc=crdt.new_doc())
    catch_up(room)
    return room


def catch_up(room: Room) -> None:
    """Apply what the database has beyond room.seq (a newer snapshot first, if compaction passed us)."""
    from ..extensions import db

    with room.lock:
        for _attempt in range(10):
            got = store.updates_after(room.session_id, room.seq)
            if got is not None:
                break
            db.session.rollback()
        else:
            return
        updates, last, snapshot, _snapshot_seq = got
        for update in ([snapshot] if snapshot else []) + updates:
            try:
                crdt.guarded(room.doc.apply_update, update)
            except Exception:  # noqa: BLE001 - stored updates were checked; never let one block the room
                current_app.logger.exception("notes %s: a stored update did not apply", room.session_id)
        room.seq = max(room.seq, last)


def drop(session_id: int) -> None:
    """Forget the cached document (after a failure, say): the next use rebuilds it from the database."""
    rooms.pop(session_id, None)


def join(room: Room, sid: str, client_id: int | None) -> None:
    room.members[sid] = client_id or 0
    member_of[sid] = room.session_id


def leave(sid: str) -> None:
    """Called on disconnect: tell the others to drop this client's cursor; an empty room is compacted."""
    session_id = member_of.pop(sid, None)
    room = rooms.get(session_id) if session_id is not None else None
    if room is None:
        return
    client_id = room.members.pop(sid, None)
    if client_id:
        socketio.emit("notes.gone", {"client_id": client_id}, to=notes_room(session_id), skip_sid=sid)
    if not room.members:
        rooms.pop(session_id, None)
        socketio.start_background_task(_compact_in_background, current_app._get_current_object(), session_id)


def write(room: Room, update: bytes, person: str | None, name: str | None, known: bool) -> int:
    """Store an update and return its sequence number, once it is committed (stored before acknowledged).

    Updates are committed in groups: the first one waits NOTES_STORE_SECONDS for the others typed meanwhile
    (30 people typing are 150 updates a second), and one transaction stores them all. A transaction per
    keystroke was most of what typing cost the server.
    """
    from ..extensions import db

    # Hand this request's database connection back while waiting: thirty typists waiting at once would hold
    # every connection of the pool, and the commit they wait for needs one.
    db.session.close()
    pending = PendingWrite(update, person, name, known, socketio.server.eio.create_event())
    with room.lock:  # (under the threading async mode the writer may be taking the batch right now)
        room.writes.append(pending)
        start = not room.writing
        room.writing = True
    if start:
        socketio.start_background_task(_write, current_app._get_current_object(), room)
    if not pending.done.wait(30):
        raise RuntimeError("a notes update was not stored in time")
    if pending.error is not None:
        raise pending.error
    return pending.seq


def _write(app, room: Room) -> None:
    from ..extensions import db
    from ..realtime.protocol import Refused

    socketio.sleep(app.config["NOTES_STORE_SECONDS"])
    with room.lock:
        batch, room.writes = room.writes, []
        room.writing = False
    try:
        with app.app_context():
            try:
                try:
                    seqs, room.size = store.append_many(
                        room.session_id, [(w.update, w.person, w.name, w.known) for w in batch]
                    )
                except Refused:  # near the size limit: one by one, so only what does not fit is refused
                    room.size = -1
                    for w in batch:
                        try:
                            w.seq = store.append(room.session_id, w.update, w.person, w.name, w.known)
                        except Exception as exc:  # noqa: BLE001 - told to the one who sent it
                            w.error = exc
                else:
                    for w, seq in zip(batch, seqs, strict=True):
                        w.seq = seq
                    with room.lock:  # every one of them is in the room's copy already
                        if seqs[0] == room.seq + 1:
                            room.seq = seqs[-1]
            finally:
                db.session.remove()
    except BaseException as exc:  # noqa: BLE001 - every waiting sender is told, whatever happened
        for w in batch:
            if w.seq is None and w.error is None:
                w.error = exc
    finally:
        for w in batch:
            w.done.set()


def relays_early(room: Room, update: bytes) -> bool:
    """Far from the size limit an update can go to the others before it is committed (the acknowledgement
    still waits for the commit). Near it, it waits: an update the limit refuses must not reach anyone."""
    return room.size >= 0 and room.size + len(update) <= store.max_doc_bytes() // 2


def relay(room: Room, sid: str, update: bytes) -> None:
    """Buffer an update for the room's next flush (now, if the last flush was long enough ago).

    Flushes are at least NOTES_FLUSH_SECONDS apart, and further apart in a large room, so that one document
    sends at most about NOTES_RELAY_DELIVERIES messages a second (300 readers: ten merged updates a second).
    """
    room.buffer.append((sid, update))
    if room.flushing:
        return
    room.flushing = True
    cfg = current_app.config
    interval = max(cfg["NOTES_FLUSH_SECONDS"], len(room.members) / cfg["NOTES_RELAY_DELIVERIES"])
    delay = max(0.0, room.last_flush + interval - time.monotonic())
    socketio.start_background_task(_flush, current_app._get_current_object(), room, delay)


def _flush(app, room: Room, delay: float) -> None:
    socketio.sleep(delay)
    with app.app_context():
        buffered, room.buffer = room.buffer, []
        room.flushing = False
        room.last_flush = time.monotonic()
        if not buffered:
            return
        senders = {sid for sid, _ in buffered}
        try:
            merged = store.merge(*[u for _, u in buffered])
        except Exception:  # noqa: BLE001 - every update was checked; relay them one by one rather than lose them
            app.logger.exception("notes %s: merging the relay buffer failed", room.session_id)
            for sid, update in buffered:
                socketio.emit("notes.update", update, to=notes_room(room.session_id), skip_sid=sid)
            return
        # One sender: not back to them. Several: everyone gets the merge (Yjs ignores what it already has).
        skip = next(iter(senders)) if len(senders) == 1 else None
        socketio.emit("notes.update", merged, to=notes_room(room.session_id), skip_sid=skip)


def compact_soon(session_id: int) -> None:
    socketio.start_background_task(_compact_in_background, current_app._get_current_object(), session_id)


def _compact_in_background(app, session_id: int) -> None:
    with app.app_context():
        from ..extensions import db

        try:
            store.compact(session_id)
        except Exception:  # noqa: BLE001 - compaction is an optimisation; the updates are kept
            app.logger.exception("notes %s: compaction failed", session_id)
        finally:
            db.session.remove()
