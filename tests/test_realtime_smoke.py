"""A first end-to-end check of the live room against the real server process."""

import pytest
from realtime_support import LiveClient, build_world, http_session

pytestmark = pytest.mark.live


def test_moderator_starts_and_participant_follows(live_server):
    world = build_world(live_server)
    mod = LiveClient(live_server, http_session(live_server, world.emails["moderator"]), world.sessions["closed"])
    peer = LiveClient(live_server, http_session(live_server, world.emails["participant"]), world.sessions["closed"])
    assert mod.welcomes[0]["you"]["moderator"] is True
    assert peer.welcomes[0]["snapshot"]["session"]["status"] == "scheduled"
    ack = mod.act("session.start")
    assert ack == {"ok": True, "seq": 1}
    peer.wait_for(lambda: any(e["type"] == "session.status" for e in peer.events), what="status event")
    assert peer.act("agenda.next")["error"]["code"] == "not_allowed"
    mod.disconnect()
    peer.disconnect()
