"""Collective notes over real sockets: concurrent editing converges, offline edits merge, a restart keeps
what was acknowledged, two workers behind Redis converge, and refusals (read-only, malformed, too large,
outsiders, guests before publication).

Clients are python-socketio clients with pycrdt documents (tests/notes_support.py) against wsgi.py.
"""

from __future__ import annotations

import os
import random
import threading
import time

import pytest
from conftest import LiveServer, _reset_postgres
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from notes_support import NotesPeer, converge
from realtime_support import build_world, guest_session, http_session, server_app
from test_scaleout import redis_server, workers  # noqa: F401  (fixtures: two workers and their Redis)

from workspace.extensions import db
from workspace.notes import crdt, store
from workspace.notes.models import NoteDoc, NoteUpdate

pytestmark = pytest.mark.live

SERVER_ENV = {"LIVE_RATE": "5000", "LIVE_BURST": "5000", "NOTES_RATE": "5000", "NOTES_BURST": "5000"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if os.environ.get("TEST_DATABASE_URL"):
        _reset_postgres(os.environ["TEST_DATABASE_URL"])
    live = LiveServer(tmp_path_factory.mktemp("notes"), env=SERVER_ENV).start()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def data(server):
    return server_app(server)


@pytest.fixture(scope="module")
def world(server):
    return build_world(server)


@pytest.fixture
def peers():
    opened: list[NotesPeer] = []
    yield opened
    for peer in opened:
        peer.disconnect()


def peer(server, world, who: str, session: str, opened: list, join: bool = True) -> NotesPeer:
    p = NotesPeer(server, http_session(server, world.emails[who]), world.sessions[session], join=join)
    opened.append(p)
    return p


def stored_text(data, session_id: int) -> str:
    with data.app_context():
        try:
            return crdt.plain_text(store.load_doc(session_id))
        finally:
            db.session.remove()


def fresh_session(data, world, mode="closed", status="live") -> int:
    """A new session of the world's exchange (each example of a property test starts from its own)."""
    from datetime import timedelta

    from workspace.sessions.models import ExchangeSession
    from workspace.timeutil import utcnow

    with data.app_context():
        s = ExchangeSession(
            exchange_id=world.exchange_id,
            title=f"Notes {random.random()}",
            mode=mode,
            status=status,
            starts_at=utcnow() + timedelta(hours=1),
        )
        db.session.add(s)
        db.session.commit()
        return s.id


# --- the sync step and the template ------------------------------------------------------------------


def test_join_sends_the_template_as_binary_and_the_state_vector(server, world, peers):
    a = peer(server, world, "note_taker", "closed_live", peers)
    assert a.editable is True
    assert "Key learning points" in a.content and "Follow-up actions" in a.content
    header_lines = [value for value, attrs in a.delta if attrs and attrs.get("header") == 2]
    assert header_lines  # headers as y-quill reads them: attributes on the newline


def test_two_editors_converge_and_every_update_is_stored_before_its_ack(server, data, world, peers):
    a = peer(server, world, "note_taker", "closed_live", peers)
    b = peer(server, world, "moderator", "closed_live", peers)
    reader = peer(server, world, "participant", "closed_live", peers)
    assert reader.editable is False
    ack = a.type("Hello from A. ")
    assert ack["ok"] and isinstance(ack["seq"], int)
    with data.app_context():  # acknowledged, so it is in the database already
        assert db.session.execute(
            db.select(NoteUpdate).filter_by(session_id=world.sessions["closed_live"], seq=ack["seq"])
        ).scalar_one()
        db.session.remove()
    assert b.type("مرحبا من B ", at=0)["ok"]
    text = converge([a, b, reader])
    assert "Hello from A." in text and text.startswith("مرحبا من B")
    assert stored_text(data, world.sessions["closed_live"]) == text


OPS = st.lists(
    st.tuples(
        st.integers(0, 2),  # which peer
        st.sampled_from(["insert", "delete", "bold", "header"]),
        st.floats(0, 1),  # where, as a fraction of the peer's current length
        st.text(alphabet="abcxyz مرحبا你好мир\n", min_size=1, max_size=6),
    ),
    min_size=1,
    max_size=12,
)


def apply_op(text, op: str, where: float, value: str) -> None:
    """One edit at a character position; pycrdt takes UTF-8 byte offsets, so positions are converted."""
    current = str(text)
    length = len(current)
    at = min(length, int(where * length))

    def offset(chars: int) -> int:
        return len(current[: min(length, chars)].encode())

    if op == "insert" or length == 0:
        text.insert(offset(at), value, {})
    elif op == "delete":
        del text[offset(at) : offset(at + len(value))]
    elif op == "bold":
        text.format(offset(at), offset(at + len(value)), {"bold": True})
    else:
        text.format(offset(at), offset(at + 1), {"header": 2})


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(ops=OPS)
def test_random_concurrent_edit_sequences_converge(server, data, world, ops):
    """Three editors apply random edits at the same time, each sending its own; all end identical."""
    session_id = fresh_session(data, world)
    who = ("note_taker", "moderator", "coordinator")
    cookies = {w: http_session(server, world.emails[w]) for w in who}
    group = [NotesPeer(server, cookies[w], session_id) for w in who]
    try:
        by_peer = {i: [op for op in ops if op[0] == i] for i in range(3)}

        def run(i):
            for _p, op, where, value in by_peer[i]:
                ack = group[i].edit(lambda text, op=op, where=where, value=value: apply_op(text, op, where, value))
                assert ack["ok"], ack

        threads = [threading.Thread(target=run, args=(i,)) for i in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        text = converge(group)
        late = NotesPeer(server, cookies["note_taker"], session_id)  # a newcomer gets the same document
        group.append(late)
        assert converge(group) == text
        assert stored_text(data, session_id) == text
    finally:
        for p in group:
            p.disconnect()


def test_bursts_are_merged_before_they_are_relayed(server, world, peers):
    a = peer(server, world, "note_taker", "open_live", peers)
    b = peer(server, world, "moderator", "open_live", peers)
    reader = peer(server, world, "observer", "open_live", peers)
    before = len(reader.relayed)

    def burst(p, letter):
        for n in range(40):
            assert p.type(f"{letter}{n} ")["ok"]

    threads = [threading.Thread(target=burst, args=(p, letter)) for p, letter in ((a, "A"), (b, "B"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    text = converge([a, b, reader])
    assert "A39" in text and "B39" in text
    relays = len(reader.relayed) - before
    assert 0 < relays < 80, f"{relays} relays for 80 updates: bursts are not merged"


def test_awareness_is_relayed_with_the_senders_real_name(server, world, peers):
    a = peer(server, world, "note_taker", "closed_live", peers)
    b = peer(server, world, "participant", "closed_live", peers)
    payload = b"\x01\x05\x01\x02{}"  # opaque to the server
    assert a.call("notes.awareness", {"update": payload})["ok"]
    got = b.wait_for(lambda: b.awareness, what="awareness")[-1]
    assert got["update"] == payload and isinstance(got["update"], bytes)
    assert got["person"] == f"u:{world.users['note_taker']}" and got["name"].startswith("Note Taker")
    assert not a.awareness  # not echoed to the sender
    a.disconnect()
    gone = b.wait_for(lambda: b.gone, what="notes.gone")
    assert gone[-1]["client_id"] == a.doc.client_id


# --- offline, restart ---------------------------------------------------------------------------------


def test_edits_made_offline_merge_when_the_connection_returns(server, data, world, peers):
    a = peer(server, world, "note_taker", "closed_live", peers)
    b = peer(server, world, "moderator", "closed_live", peers)
    a.disconnect()
    a.local(lambda text: text.insert(0, "Offline line from A.\n", {}))
    a.local(lambda text: text.insert(len(str(text).encode()), "Another offline edit.", {}))
    assert b.type("Online edit from B. ")["ok"]
    assert a.reconnect_and_join()["ok"]  # the sync step sends what the server lacks
    text = converge([a, b])
    assert text.startswith("Offline line from A.") and "Another offline edit." in text
    assert "Online edit from B." in text
    assert stored_text(data, world.sessions["closed_live"]) == text


def test_a_restart_keeps_every_acknowledged_update(tmp_path, peers):
    # (On PostgreSQL this server shares the module's database, already migrated: no reset, the world is new.)
    live = LiveServer(tmp_path, env={**SERVER_ENV, "NOTES_COMPACT_EVERY": "7"}).start()
    try:
        world = build_world(live)
        a = peer(live, world, "note_taker", "closed_live", peers)
        acks = [a.type(f"line {n}\n") for n in range(20)]
        assert all(ack["ok"] for ack in acks)
        expected = a.content
        live.proc.kill()  # no orderly shutdown: what was acknowledged must already be on disk
        live.proc.wait(10)
        live.start()
        b = peer(live, world, "moderator", "closed_live", peers)
        assert b.content == expected
        app = server_app(live)
        with app.app_context():  # compaction ran (every 7 updates) and kept everything
            doc = db.session.get(NoteDoc, world.sessions["closed_live"])
            assert doc.snapshot_seq > 0 and doc.last_seq == 20
            db.session.remove()
    finally:
        live.stop()


# --- refusals -----------------------------------------------------------------------------------------


def test_read_only_participants_updates_are_refused(server, data, world, peers):
    reader = peer(server, world, "participant", "closed_live", peers)
    before = stored_text(data, world.sessions["closed_live"])
    ack = reader.type("I should not be able to write this")
    assert ack == {"ok": False, "error": {"code": "notes_read_only", "message": ack["error"]["message"]}}
    assert ack["error"]["message"] == "You can follow these notes but not edit them."
    assert stored_text(data, world.sessions["closed_live"]) == before


def test_malformed_updates_and_wrong_shapes_are_refused(server, data, world, peers):
    a = peer(server, world, "note_taker", "open_live", peers)
    before = stored_text(data, world.sessions["open_live"])
    assert a.send(b"\x01\x02garbage")["error"]["code"] == "notes_malformed"
    assert a.send(b"\x05" + os.urandom(300))["error"]["code"] == "notes_malformed"
    assert a.call("notes.update", {"update": [1, 2, 3]})["error"]["code"] == "invalid"  # never arrays of numbers
    assert a.call("notes.update", {"update": "AAE="})["error"]["code"] == "invalid"
    assert a.call("notes.update", "not an object")["error"]["code"] == "invalid"
    assert a.call("notes.update", {"update": b"\x00" * (64 * 1024 + 1)})["error"]["code"] == "notes_too_large"
    assert a.call("notes.join", {"sv": b"\xff\xff\xff"})["error"]["code"] == "notes_malformed"
    assert stored_text(data, world.sessions["open_live"]) == before  # the document is intact
    assert a.type("still fine")["ok"]


def test_a_document_past_its_size_limit_takes_no_more(tmp_path, peers):
    # (On PostgreSQL this server shares the module's database, already migrated: no reset, the world is new.)
    live = LiveServer(tmp_path, env={**SERVER_ENV, "NOTES_MAX_DOC_BYTES": "150000"}).start()
    try:
        world = build_world(live)
        a = peer(live, world, "note_taker", "closed_live", peers)
        codes = [a.type("x" * 40_000 + "\n").get("error", {}).get("code") for _ in range(5)]
        assert codes[:3] == [None, None, None] and codes[-1] == "notes_too_large"
        b = peer(live, world, "moderator", "closed_live", peers)
        assert b.content.count("x" * 40_000) == codes.count(None)
    finally:
        live.stop()


def test_sending_before_joining_is_refused(server, world, peers):
    a = peer(server, world, "note_taker", "closed_live", peers, join=False)
    update = a.local(lambda text: text.insert(0, "x", {}))
    assert a.send(update)["error"]["code"] == "notes_not_joined"


def test_only_the_sessions_people_follow_the_notes(server, world, peers):
    # An invitee of the closed session reads; members of the exchange read; outsiders never connect at all.
    assert peer(server, world, "invitee", "closed", peers).editable is False
    assert peer(server, world, "observer", "closed", peers).editable is False
    # Signed-in outsiders of an open session are guests there: no notes until they are published.
    guest = NotesPeer(server, guest_session(server, world.codes["open_live"]), world.sessions["open_live"], join=False)
    peers.append(guest)
    assert guest.join()["error"]["code"] == "not_allowed"
    assert guest.send(b"\x00\x00")["error"]["code"] == "notes_not_joined"


def test_guests_follow_published_notes_read_only(server, data, world, peers):
    session_id = fresh_session(data, world, mode="open", status="live")
    editor = NotesPeer(server, http_session(server, world.emails["note_taker"]), session_id)
    peers.append(editor)
    assert editor.type("Published lesson")["ok"]
    code = None
    from workspace.sessions.models import ExchangeSession

    with data.app_context():
        code = db.session.get(ExchangeSession, session_id).join_code
        db.session.remove()
    guest = NotesPeer(server, guest_session(server, code), session_id, join=False)
    peers.append(guest)
    assert guest.join()["error"]["code"] == "not_allowed"
    with data.app_context(), data.test_request_context():
        from workspace.auth.models import User
        from workspace.notes import services

        session = db.session.get(ExchangeSession, session_id)
        session.status = "ended"
        db.session.commit()
        services.publish(session, db.session.get(User, world.users["moderator"]))
        db.session.remove()
    ack = guest.join()
    assert ack["ok"] and ack["editable"] is False and "Published lesson" in guest.content
    assert guest.type("guest scribble")["error"]["code"] == "notes_read_only"


def test_access_is_rechecked_on_every_update(server, data, world, peers):
    from workspace.exchanges.models import Membership

    session_id = fresh_session(data, world)
    a = NotesPeer(server, http_session(server, world.emails["note_taker"]), session_id)
    peers.append(a)
    assert a.type("while a note-taker")["ok"]
    with data.app_context():
        member = db.session.execute(
            db.select(Membership).filter_by(exchange_id=world.exchange_id, user_id=world.users["note_taker"])
        ).scalar_one()
        member.role = "observer"
        db.session.commit()
        db.session.remove()
    try:
        assert a.type("after becoming an observer")["error"]["code"] == "notes_read_only"
    finally:
        with data.app_context():
            member = db.session.execute(
                db.select(Membership).filter_by(exchange_id=world.exchange_id, user_id=world.users["note_taker"])
            ).scalar_one()
            member.role = "note_taker"
            db.session.commit()
            db.session.remove()


# --- two workers --------------------------------------------------------------------------------------


def test_two_workers_behind_redis_converge_to_one_document(workers, peers):  # noqa: F811
    a_server, b_server = workers
    world = build_world(a_server)
    a = peer(a_server, world, "note_taker", "closed_live", peers)
    b = peer(b_server, world, "moderator", "closed_live", peers)
    reader_b = peer(b_server, world, "participant", "closed_live", peers)

    def burst(p, letter):
        for n in range(25):
            assert p.type(f"{letter}{n} ", at=0 if n % 2 else None)["ok"]

    threads = [threading.Thread(target=burst, args=(p, letter)) for p, letter in ((a, "A"), (b, "B"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    text = converge([a, b, reader_b], timeout=20)
    assert "A24" in text and "B24" in text
    late = peer(b_server, world, "coordinator", "closed_live", peers)  # a newcomer on either worker
    late_a = peer(a_server, world, "coordinator", "closed_live", peers)
    assert converge([a, late, late_a]) == text
    time.sleep(0.2)
    assert stored_text(server_app(a_server), world.sessions["closed_live"]) == text
