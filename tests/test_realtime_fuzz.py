"""Random payloads at every live-room event over one real connection: always an acknowledgement, never a crash.

The connection is a moderator's, so permission checks do not answer before the payload is looked at.
"""

from __future__ import annotations

import string

import pytest
import requests
from conftest import LiveServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from realtime_support import LiveClient, build_world, guest_session, http_session

pytestmark = pytest.mark.live

# Every client event in docs/realtime-protocol.md, and names Socket.IO itself treats specially.
EVENTS = [
    "sync",
    "session.start",
    "session.end",
    "agenda.set_current",
    "agenda.next",
    "timer.start",
    "timer.pause",
    "timer.extend",
    "room.set_guest_policy",
    "lobby.admit",
    "lobby.admit_all",
    "lobby.turn_away",
]
SPECIAL = ["connect", "disconnect", "connect_error", "message", "*", ""]
CODES = {"invalid", "too_large", "not_allowed", "rate_limited", "not_live", "not_found", "room_full", "no_guests"}
FIELDS = ["cid", "item_id", "seconds", "policy", "capacity", "guest_id", "since"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
cids = st.text(alphabet=string.ascii_letters + string.digits + "_-", min_size=8, max_size=64) | st.text(max_size=70)
field_values = st.one_of(
    json_values,
    st.integers(min_value=-5, max_value=4000),
    st.sampled_from(["open", "lobby", "none", "OPEN", "open\n"]),
)
# Shapes close to real actions reach deeper than random JSON alone.
plausible = st.fixed_dictionaries(
    {"cid": cids}, optional={name: field_values for name in FIELDS if name != "cid"}
) | st.dictionaries(st.sampled_from(FIELDS), field_values, max_size=4)
oversize = st.integers(min_value=8 * 1024, max_value=60_000).map(lambda n: {"cid": "abcdefgh12", "pad": "x" * n})
payloads = st.one_of(json_values, plausible, oversize, st.integers(9_000, 60_000).map(lambda n: "y" * n))
event_names = st.sampled_from(EVENTS) | st.sampled_from(SPECIAL) | st.text(max_size=40)


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
@given(event=event_names, payload=payloads, extra=st.lists(json_values, max_size=2))
def test_every_handler_answers_random_payloads(room, event, payload, extra):
    server, world, moderator = room
    data = (payload, *extra) if extra else payload  # a tuple is sent as several arguments
    ack = moderator.call(event, data, timeout=10)
    assert isinstance(ack, dict), ack
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
        assert newcomer.act("lobby.admit_all")["ok"] is True
    finally:
        newcomer.disconnect()
