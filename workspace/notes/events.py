"""Socket.IO events of the collective notes: the Yjs sync step, updates, awareness. Binary payloads.

Every event goes through `live_action` (flood control with the notes' own bucket, payload shape and size,
identity and access re-checked from the database, translated refusals). See docs/realtime-protocol.md.
"""

from __future__ import annotations

from typing import Annotated, Any

from flask import current_app, request
from flask_socketio import join_room
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..extensions import socketio
from ..realtime.actions import disconnect_hooks, live_action
from ..realtime.protocol import Refused
from . import crdt, room, services, store

AWARENESS_MAX_BYTES = 8 * 1024
StateVector = Annotated[bytes, Field(max_length=64 * 1024)]


class Join(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    sv: StateVector = b"\x00"
    client_id: int | None = Field(default=None, ge=0, le=2**53)


class Update(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    update: bytes
    cid: str | None = Field(default=None, max_length=64)


class Awareness(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    update: bytes = Field(max_length=AWARENESS_MAX_BYTES)


def binary(schema: type[BaseModel], payload: Any) -> BaseModel:
    """An object whose binary fields arrived as Socket.IO attachments (bytes), never lists of numbers."""
    if not isinstance(payload, dict):
        raise Refused("invalid")
    for key, value in payload.items():
        if isinstance(value, (bytes, bytearray)):
            if len(value) > current_app.config["NOTES_MAX_UPDATE_BYTES"]:
                raise Refused("notes_too_large")
        elif isinstance(value, (list, dict)) or (isinstance(value, str) and len(value) > 64):
            raise Refused("invalid")
        if not isinstance(key, str) or len(key) > 20:
            raise Refused("invalid")
    try:
        return schema.model_validate({k: bytes(v) if isinstance(v, bytearray) else v for k, v in payload.items()})
    except ValidationError:
        raise Refused("invalid") from None


def _joined(session_id: int) -> room.Room:
    if room.member_of.get(request.sid) != session_id:
        raise Refused("notes_not_joined")
    return room.rooms.get(session_id) or room.get(session_id)


@live_action("notes.join", Join, parser=binary, flood_kind="notes")
def join(session, viewer, data):
    """Sync step 1 and 2 at once: what the client lacks, and the server's state vector (it then sends its own)."""
    mode = services.access(session, viewer)
    store.ensure_doc(session)
    notes = room.get(session.id)
    with notes.lock:
        missing = crdt.guarded(notes.doc.get_update, data.sv)
        state = notes.doc.get_state()
    join_room(room.notes_room(session.id))
    room.join(notes, request.sid, data.client_id)
    return {"update": missing, "sv": state, "editable": mode == "edit", "editors": services.editors(session)}


@live_action("notes.update", Update, parser=binary, flood_kind="notes")
def update(session, viewer, data):
    """Stored before it is acknowledged; relayed, merged with others, at the room's next flush (which need not
    wait for the commit while the document is far from its size limit)."""
    notes = _joined(session.id)
    if services.access(session, viewer) != "edit":
        raise Refused("notes_read_only")
    store.check_update(data.update)
    # Into this worker's copy first: an update that decodes alone but fails against the document is refused
    # before it is stored. Whatever fails after this point drops the copy (it is rebuilt from the database).
    with notes.lock:
        try:
            crdt.guarded(notes.doc.apply_update, data.update)
        except Refused:
            room.drop(session.id)
            raise
    early = room.relays_early(notes, data.update)
    if early:
        room.relay(notes, request.sid, data.update)
    try:
        seq = room.write(notes, data.update, viewer.person, viewer.name, known=viewer.person in notes.contributors)
        notes.contributors.add(viewer.person)
    except BaseException:
        room.drop(session.id)
        raise
    with notes.lock:
        if seq == notes.seq + 1:
            notes.seq = seq
        elif seq > notes.seq:
            room.catch_up(notes)  # others (on other workers) wrote in between
    if not early:
        room.relay(notes, request.sid, data.update)
    if seq % current_app.config["NOTES_COMPACT_EVERY"] == 0:
        room.compact_soon(session.id)
    return {"seq": seq}


@live_action("notes.awareness", Awareness, parser=binary, flood_kind="notes")
def awareness(session, viewer, data):
    """Cursors and names: relayed, never stored. The server adds who sent it, so a name cannot be borrowed."""
    _joined(session.id)
    socketio.emit(
        "notes.awareness",
        {"update": data.update, "person": viewer.person, "name": viewer.name},
        to=room.notes_room(session.id),
        skip_sid=request.sid,
    )


disconnect_hooks.append(room.leave)
