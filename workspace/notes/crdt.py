"""pycrdt behind a guard: untrusted bytes never crash a worker or reach the database unchecked.

pycrdt raises ValueError/RuntimeError on bad updates, and a Rust panic can surface as an exception that is
not a subclass of Exception (pyo3's PanicException): catch BaseException, but let the process stop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from pycrdt import Doc, Text

from ..realtime.protocol import Refused

T = TypeVar("T")
TEXT = "quill"  # the Y.Text y-quill binds to (assets/notes.js uses the same name)

try:  # eventlet's and gevent's greenlets end with GreenletExit: never swallow it
    from greenlet import GreenletExit
except ImportError:  # pragma: no cover
    GreenletExit = SystemExit

PASS_THROUGH = (KeyboardInterrupt, SystemExit, GreenletExit)


def guarded(fn: Callable[..., T], *args, code: str = "notes_malformed") -> T:
    """Run one pycrdt call on untrusted input; any failure becomes Refused(code)."""
    try:
        return fn(*args)
    except PASS_THROUGH:
        raise
    except BaseException:  # noqa: BLE001 - includes pyo3's PanicException
        raise Refused(code) from None


def new_doc() -> Doc:
    # One worker thread under eventlet; the in-process threaded test server may touch a room from two threads.
    return Doc(allow_multithreading=True)


def doc_from(*updates: bytes, strict: bool = True) -> Doc:
    """A document from updates. Not strict: an update that fails is skipped (and logged), not fatal."""
    doc = new_doc()
    for update in updates:
        if not update:
            continue
        try:
            guarded(doc.apply_update, update)
        except Refused:
            if strict:
                raise
            from flask import current_app

            current_app.logger.error("notes: a stored update could not be applied; skipped")
    return doc


def text_of(doc: Doc) -> Text:
    return doc.get(TEXT, type=Text)


def delta_of(doc: Doc) -> list[dict]:
    """The document as Quill delta ops ({insert, attributes?}), text inserts only."""
    ops = []
    for value, attrs in text_of(doc).diff():
        if not isinstance(value, str):
            continue  # embeds (images, formulas) are not part of the notes
        op: dict = {"insert": value}
        if attrs:
            op["attributes"] = {k: _plain(v) for k, v in attrs.items()}
        ops.append(op)
    return ops


def _plain(value):
    """Yjs numbers arrive as floats: header 2.0 is header 2."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def plain_text(doc: Doc) -> str:
    return str(text_of(doc))
