"""Random payloads at every live-room event over one real connection: always an acknowledgement, never a crash.

The connection is a moderator's, so permission checks do not answer before the payload is looked at.
"""

from __future__ import annotations

import string

import pytest
import requests
from conftest import LiveServer
from hypothesis import HealthCheck, given, settings
from hypothesis import event as note_outcome
from hypothesis import strategies as st
from realtime_support import LiveClient, build_world, guest_session, http_session

pytestmark = pytest.mark.live

# Every client event in docs/realtime-protocol.md with its fields ("?": optional).
EVENTS = {
    "sync": ["since"],
    "session.start": ["cid"],
    "session.end": ["cid"],
    "agenda.set_current": ["cid", "item_id"],
    "agenda.next": ["cid"],
    "timer.start": ["cid", "?seconds"],
    "timer.pause": ["cid"],
    "timer.extend": ["cid", "seconds"],
    "room.set_guest_policy": ["cid", "policy", "?capacity"],
    "lobby.admit": ["cid", "guest_id"],
    "lobby.admit_all": ["cid"],
    "lobby.turn_away": ["cid", "guest_id"],
}
# Names Socket.IO treats specially. Not "*": an event literally named "*" reaches Flask-SocketIO's catch-all
# with its arguments shifted (the payload taken for the sid), and unless the payload is a string nothing
# answers; that happens in the library, before any of our code runs.
SPECIAL = ["connect", "disconnect", "connect_error", "message", ""]
CODES = {"invalid", "too_large", "not_allowed", "rate_limited", "not_live", "not_found", "room_full", "no_guests"}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
good = {
    "cid": st.text(alphabet=string.ascii_letters + string.digits + "_-", min_size=8, max_size=64),
    "since": st.integers(min_value=0, max_value=60),
    "item_id": st.integers(min_value=1, max_value=4),  # the room's agenda items are 1-3
    "seconds": st.integers(min_value=10, max_value=3600),
    "policy": st.sampled_from(["open", "lobby", "none"]),
    "capacity": st.none() | st.integers(min_value=1, max_value=5),
    "guest_id": st.integers(min_value=1, max_value=3),  # guests 1 and 2 wait in the lobby
}


def field(name: str):
    """Mostly a good value, sometimes anything at all."""
    return st.one_of(*[good[name]] * 6, json_values, st.text(max_size=70))


def shaped(event: str):
    """A payload with the event's own fields: it gets past the shape check often enough to reach the rules."""
    fields = EVENTS[event]
    required = {f: field(f) for f in fields if not f.startswith("?")}
    optional = {f[1:]: field(f[1:]) for f in fields if f.startswith("?")}
    return st.tuples(st.just(event), st.fixed_dictionaries(required, optional=optional), st.just([]))


oversize = st.integers(min_value=8 * 1024, max_value=60_000).map(lambda n: {"cid": "abcdefgh12", "pad": "x" * n})
payloads = st.one_of(
    json_values,
    st.dictionaries(st.sampled_from([*good, "extra"]), json_values, max_size=4),
    oversize,
    st.integers(9_000, 60_000).map(lambda n: "y" * n),
)
names = st.sampled_from(list(EVENTS)) | st.sampled_from(SPECIAL) | st.text(max_size=40).filter(lambda e: e != "*")
extras = st.just([]) | st.lists(json_values, min_size=1, max_size=2)  # more than one argument
# Well-shaped calls (two in three) leave out session.end, which would make every later one merely "not_live".
well_shaped = st.sampled_from([e for e in EVENTS if e != "session.end"]).flatmap(shaped)
calls = st.one_of(well_shaped, well_shaped, st.tuples(names, payloads, extras))


@pytest.fixture(scope="module")
def room(tmp_path_factory):
    """A live open session with a lobby and two guests waiting, a moderator connected to it."""
    server = LiveServer(tmp_path_factory.mktemp("fuzz"), env={"LIVE_RATE": "10000", "LIVE_BURST": "10000"}).start()
    world = build_world(server, {"room": {"mode": "open", "status": "live", "guest_policy": "lobby"}})
    for name in ("Waiting One", "Waiting Two"):
        guest_session(server, world.codes["room"], name)
    moderator = LiveClient(server, http_session(server, world.emails["moderator"]), world.sessions["room"])
    yield server, world, moderator
    moderator.disconnect()
    server.stop()


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(call=calls)
def test_every_handler_answers_random_payloads(room, call):
    server, world, moderator = room
    event, payload, extra = call
    data = (payload, *extra) if extra else payload  # a tuple is sent as several arguments
    ack = moderator.call(event, data, timeout=5)
    assert isinstance(ack, dict), ack
    note_outcome("ok" if ack.get("ok") is True else ack.get("error", {}).get("code", "?"))
    if ack["ok"] is not True:
        assert ack["ok"] is False and ack["error"]["code"] in CODES, ack
        assert isinstance(ack["error"]["message"], str) and ack["error"]["message"]
    assert moderator.connected


def test_the_server_is_still_up_after_the_fuzzing(room):
    server, world, moderator = room
    assert requests.get(server.url + "/healthz", timeout=5).ok
    synced = moderator.call("sync", {"since": 0})
    assert synced["ok"] is True and synced["seq"] >= 0
    newcomer = LiveClient(server, http_session(server, world.emails["coordinator"]), world.sessions["room"])
    try:
        assert newcomer.welcomes[0]["you"]["moderator"] is True
        assert newcomer.act("room.set_guest_policy", policy="lobby")["ok"] is True
    finally:
        newcomer.disconnect()
