"""Persistence of a notes document: appended updates, compacted into a snapshot; loading it back.

Every accepted update is committed before it is acknowledged. Appends lock the NoteDoc row (PostgreSQL)
or are serialised by SQLite's single writer, so sequence numbers are contiguous and become visible in order;
a reader that sees a gap knows a compaction ran meanwhile and reads again.
"""

from __future__ import annotations

import time

from flask import current_app
from pycrdt import merge_updates
from sqlalchemy.exc import IntegrityError, OperationalError

from ..extensions import db
from ..realtime.protocol import Refused
from ..sessions.models import ExchangeSession
from ..timeutil import utcnow
from . import crdt
from .models import NoteContributor, NoteDoc, NoteUpdate


def max_update_bytes() -> int:
    return current_app.config["NOTES_MAX_UPDATE_BYTES"]


def max_doc_bytes() -> int:
    return current_app.config["NOTES_MAX_DOC_BYTES"]


def check_update(update: bytes) -> None:
    """Size, then that the bytes decode as a Yjs update (on a scratch document, never the real one)."""
    if len(update) > max_update_bytes():
        raise Refused("notes_too_large")
    if len(update) < 2:
        raise Refused("notes_malformed")
    crdt.doc_from(update)


def ensure_doc(session: ExchangeSession, template: bytes | None = None) -> NoteDoc:
    """The session's document, created from the agenda template the first time anyone opens the notes."""
    doc = db.session.get(NoteDoc, session.id)
    if doc is not None:
        return doc
    if template is None:
        from .template import agenda_template

        template = agenda_template(session)
    db.session.add(NoteDoc(session_id=session.id, snapshot=template, snapshot_seq=0, last_seq=0))
    try:
        db.session.commit()
    except IntegrityError:  # opened at the same moment elsewhere: theirs is the one
        db.session.rollback()
    return db.session.get(NoteDoc, session.id)


def _counters(session_id: int) -> tuple[int, int, int]:
    """Lock the document's row and read its counters and the snapshot's size, without loading the snapshot.

    Every keystroke comes through here: reading a snapshot of up to NOTES_MAX_DOC_BYTES each time would make
    typing cost grow with the document.
    """
    row = db.session.execute(
        db.select(NoteDoc.last_seq, NoteDoc.pending_bytes, db.func.length(NoteDoc.snapshot))
        .filter_by(session_id=session_id)
        .with_for_update()
    ).one()
    return row[0], row[1], row[2] or 0


def append(session_id: int, update: bytes, person: str | None, name: str | None, known: bool = False) -> int:
    """Store one update and return its sequence number; raises Refused('notes_too_large') past the limit.

    `known`: the caller already knows this person is among the document's contributors (the room remembers),
    which saves a query on every keystroke.
    """
    try:
        seqs, _size = append_many(session_id, [(update, person, name, known)])
    except Refused:  # the bound says the document may be full
        return _append_near_the_limit(session_id, update, person, name)
    return seqs[0]


def _append_near_the_limit(session_id: int, update: bytes, person: str | None, name: str | None) -> int:
    """The bound says the document may be full: compact to measure its real size, then append or refuse."""
    for attempt in range(8):
        try:
            last_seq, pending, snapshot_bytes = _counters(session_id)
            if snapshot_bytes + pending + len(update) > max_doc_bytes():
                if pending:
                    db.session.rollback()
                    compact(session_id)  # the bound overestimates: measure the real size once
                    last_seq, pending, snapshot_bytes = _counters(session_id)
                if snapshot_bytes + len(update) > max_doc_bytes():
                    db.session.rollback()
                    raise Refused("notes_too_large")
            seq = last_seq + 1
            db.session.execute(
                db.update(NoteDoc)
                .filter_by(session_id=session_id)
                .values(last_seq=seq, pending_bytes=pending + len(update), updated_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            db.session.add(NoteUpdate(session_id=session_id, seq=seq, data=update, person=person))
            if person and name and not _is_contributor(session_id, person):
                db.session.add(NoteContributor(session_id=session_id, person=person, name=name[:80]))
            db.session.commit()
            return seq
        except (IntegrityError, OperationalError):
            db.session.rollback()
            time.sleep(0.01 * (attempt + 1))
    raise RuntimeError("could not append a notes update")


def _is_contributor(session_id: int, person: str) -> bool:
    return (
        db.session.execute(db.select(NoteContributor.id).filter_by(session_id=session_id, person=person)).first()
        is not None
    )


def updates_after(session_id: int, after: int) -> tuple[list[bytes], int, bytes | None, int] | None:
    """(updates with seq > after, last seq, snapshot if it covers more than `after`, snapshot_seq).

    None when a compaction ran between the two reads (the caller reads again).
    """
    row = db.session.execute(
        db.select(NoteDoc.snapshot_seq, NoteDoc.last_seq).filter_by(session_id=session_id)
    ).one_or_none()
    if row is None:
        return [], after, None, 0
    snapshot_seq = row.snapshot_seq
    snapshot = None
    base = after
    if snapshot_seq > after:
        snapshot = db.session.execute(db.select(NoteDoc.snapshot).filter_by(session_id=session_id)).scalar_one()
        base = snapshot_seq
    rows = db.session.execute(
        db.select(NoteUpdate.seq, NoteUpdate.data)
        .filter(NoteUpdate.session_id == session_id, NoteUpdate.seq > base)
        .order_by(NoteUpdate.seq)
    ).all()
    seqs = [r.seq for r in rows]
    if seqs != list(range(base + 1, base + 1 + len(seqs))):
        return None
    again = db.session.execute(db.select(NoteDoc.snapshot_seq).filter_by(session_id=session_id)).scalar_one()
    if again != snapshot_seq:
        return None
    return [r.data for r in rows], (seqs[-1] if seqs else base), snapshot, snapshot_seq


def load(session_id: int) -> tuple[list[bytes], int]:
    """Everything needed to rebuild the document now: the snapshot and the updates after it, and the last seq."""
    for _attempt in range(10):
        got = updates_after(session_id, -1)
        if got is not None:
            updates, last, snapshot, _snap_seq = got
            return ([snapshot] if snapshot else []) + updates, last
        db.session.rollback()
    raise RuntimeError("the notes document kept changing while being read")


def load_doc(session_id: int):
    parts, _last = load(session_id)
    return crdt.doc_from(*parts, strict=False)


def _locked(session_id: int) -> NoteDoc:
    """The document's row, locked and read afresh (compaction needs the snapshot itself)."""
    db.session.expire_all()
    return db.session.execute(
        db.select(NoteDoc).filter_by(session_id=session_id).with_for_update().execution_options(populate_existing=True)
    ).scalar_one()


def compact(session_id: int) -> None:
    """Squash the snapshot and the updates into one snapshot, in one transaction (a no-op when up to date)."""
    for attempt in range(8):
        try:
            doc = _locked(session_id)
            if doc.last_seq == doc.snapshot_seq:
                db.session.rollback()
                return
            rows = db.session.execute(
                db.select(NoteUpdate.data)
                .filter(NoteUpdate.session_id == session_id, NoteUpdate.seq <= doc.last_seq)
                .order_by(NoteUpdate.seq)
            ).scalars()
            # Through a Doc rather than merge_updates alone, so deleted text is garbage-collected.
            merged = crdt.doc_from(doc.snapshot, *rows, strict=False).get_update()
            doc.snapshot = merged
            doc.snapshot_seq = doc.last_seq
            doc.pending_bytes = 0
            db.session.execute(
                db.delete(NoteUpdate).where(NoteUpdate.session_id == session_id, NoteUpdate.seq <= doc.last_seq)
            )
            db.session.commit()
            return
        except (IntegrityError, OperationalError):
            db.session.rollback()
            time.sleep(0.01 * (attempt + 1))
    current_app.logger.warning("notes of session %s: compaction gave up for now", session_id)


def merge(*updates: bytes) -> bytes:
    return updates[0] if len(updates) == 1 else crdt.guarded(merge_updates, *updates)


def append_many(session_id: int, items: list[tuple[bytes, str | None, str | None, bool]]) -> tuple[list[int], int]:
    """Store several updates (update, person, name, known contributor) in one transaction, in order.

    Returns their sequence numbers (consecutive) and the bound on the document's size after them (snapshot
    plus pending updates). Raises Refused('notes_too_large') when they might not all fit: the caller then
    stores them one by one, so that only the ones past the limit are refused.
    """
    total = sum(len(update) for update, *_ in items)
    for attempt in range(8):
        try:
            # One statement takes the row's lock (SQLite: the write lock), advances the counters and reads them.
            # Table statements, not the ORM's: this runs for every keystroke, and the unit of work cost more
            # than the database does here.
            docs = NoteDoc.__table__.c
            last, pending, snapshot_bytes = db.session.execute(
                db.update(NoteDoc.__table__)
                .where(docs.session_id == session_id)
                .values(
                    last_seq=docs.last_seq + len(items), pending_bytes=docs.pending_bytes + total, updated_at=utcnow()
                )
                .returning(docs.last_seq, docs.pending_bytes, db.func.length(docs.snapshot))
            ).one()
            if (snapshot_bytes or 0) + pending > max_doc_bytes():
                db.session.rollback()
                raise Refused("notes_too_large")
            first = last - len(items) + 1
            now = utcnow()
            db.session.execute(
                db.insert(NoteUpdate.__table__),
                [
                    {"session_id": session_id, "seq": first + i, "data": update, "person": person, "created_at": now}
                    for i, (update, person, _name, _known) in enumerate(items)
                ],
            )
            named = {}
            for _update, person, name, known in items:
                if person and name and not known and person not in named:
                    named[person] = name
            for person, name in named.items():
                if not _is_contributor(session_id, person):
                    db.session.add(NoteContributor(session_id=session_id, person=person, name=name[:80]))
            db.session.commit()
            return list(range(first, last + 1)), (snapshot_bytes or 0) + pending
        except (IntegrityError, OperationalError):
            db.session.rollback()
            time.sleep(0.01 * (attempt + 1))
    raise RuntimeError("could not append notes updates")
