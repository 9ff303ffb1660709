"""A notes peer for tests: a real Socket.IO client in a session's room with its own pycrdt document.

It plays the browser's part of docs/realtime-protocol.md ("Collective notes"): join with its state vector,
apply what the server sends, send the rest; edits are real Yjs updates made with pycrdt.
"""

from __future__ import annotations

import threading
import time

from pycrdt import Doc, Text
from realtime_support import LiveClient

NOTES_EVENTS = ("notes.update", "notes.awareness", "notes.gone", "notes.access")


class NotesPeer(LiveClient):
    def __init__(self, server, http, session_id: int, join: bool = True):
        self.doc = Doc(allow_multithreading=True)
        self.text = self.doc.get("quill", type=Text)
        self.doc_lock = threading.RLock()
        self.editable: bool | None = None
        self.relayed: list[bytes] = []
        self.awareness: list[dict] = []
        self.gone: list[dict] = []
        self.access: list[dict] = []
        super().__init__(server, http, session_id, connect=False)
        self.client = self._fresh_client()
        self.connect()
        if join:
            ack = self.join()
            assert ack["ok"], ack

    def _fresh_client(self):
        client = super()._fresh_client()
        _in_order(client)
        client.on("notes.update", self._on_update)
        client.on("notes.awareness", lambda data: self.awareness.append(data))
        client.on("notes.gone", lambda data: self.gone.append(data))
        client.on("notes.access", lambda data: self.access.append(data))
        return client

    def _on_update(self, update):
        assert isinstance(update, bytes), f"updates travel as binary, got {type(update)}"
        with self.doc_lock:
            self.relayed.append(update)
            self.doc.apply_update(update)

    # --- the sync step ------------------------------------------------------------------------------------

    def join(self) -> dict:
        with self.doc_lock:
            sv = self.doc.get_state()
        ack = self.call("notes.join", {"sv": sv, "client_id": self.doc.client_id})
        if not ack["ok"]:
            return ack
        assert isinstance(ack["update"], bytes) and isinstance(ack["sv"], bytes)
        self.editable = ack["editable"]
        with self.doc_lock:
            self.doc.apply_update(ack["update"])
            missing = self.doc.get_update(ack["sv"])
        if self.editable and len(missing) > 2:
            sent = self.call("notes.update", {"update": missing})
            assert sent["ok"], sent
        return ack

    def reconnect_and_join(self) -> dict:
        self.client = self._fresh_client()
        self.welcomes.clear()
        self.connect()
        return self.join()

    # --- editing ------------------------------------------------------------------------------------------

    def local(self, edit) -> bytes:
        """Apply `edit(text)` to the local document only; returns the Yjs update it made."""
        with self.doc_lock:
            before = self.doc.get_state()
            edit(self.text)
            return self.doc.get_update(before)

    def edit(self, edit) -> dict:
        return self.send(self.local(edit))

    def send(self, update: bytes) -> dict:
        return self.call("notes.update", {"update": update})

    def type(self, value: str, at: int | None = None) -> dict:
        def insert(text):
            text.insert(len(str(text).encode()) if at is None else at, value, {})  # offsets: UTF-8 bytes

        return self.edit(insert)

    @property
    def content(self) -> str:
        with self.doc_lock:
            return str(self.text)

    @property
    def delta(self):
        with self.doc_lock:
            return [(value, dict(attrs) if attrs else None) for value, attrs in self.text.diff()]


def _in_order(client) -> None:
    """python-engineio's client hands every message to a new thread, so the two messages of one binary event
    (the header, then its attachment) can be decoded in the wrong order and the event is lost. Browsers
    handle messages in order; so must this client: it runs message handlers on the read loop."""
    eio = client.eio
    trigger = eio._trigger_event

    def ordered(event, *args, run_async=False, **kwargs):
        return trigger(event, *args, run_async=False, **kwargs)

    eio._trigger_event = ordered


def converge(peers: list[NotesPeer], timeout: float = 15) -> str:
    """Wait until every peer shows the same document (text and formats); returns the text."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        deltas = [p.delta for p in peers]
        if all(d == deltas[0] for d in deltas):
            return peers[0].content
        time.sleep(0.05)
    raise AssertionError("peers did not converge:\n" + "\n".join(repr(p.content) for p in peers))
