"""A busy room's sequenced events travel several to a message (workspace/realtime/outbox.py), real server.

The server here sends at most one `events` message a second per room (LIVE_BROADCASTS_PER_SECOND=1), so what
a few quick actions write lands in one message however slow the machine; the default is 20 a second.
"""

from __future__ import annotations

import time

import pytest
from conftest import LiveServer
from realtime_support import LiveClient, build_world, guest_session, http_session

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    live = LiveServer(
        tmp_path_factory.mktemp("outbox"),
        env={"LIVE_RATE": "5000", "LIVE_BURST": "5000", "LIVE_BROADCASTS_PER_SECOND": "1"},
    ).start()
    yield live
    live.stop()


@pytest.fixture
def room(server):
    """(world, session id, connect(browser) -> client); every client is closed after the test."""
    world = build_world(server, {"open_live": {"mode": "open", "status": "live"}})
    session_id = world.sessions["open_live"]
    made: list[LiveClient] = []

    def connect(browser) -> LiveClient:
        made.append(LiveClient(server, browser, session_id))
        return made[-1]

    yield world, session_id, connect
    for client in made:
        client.disconnect()


def post(client: LiveClient, body: str) -> int:
    ack = client.act("board.post", body=body)
    assert ack["ok"], ack
    return ack["id"]


def test_a_burst_reaches_viewers_batched_and_moderators_at_once_each_in_order(server, room):
    world, session_id, connect = room
    mod = connect(http_session(server, world.emails["moderator"]))
    peer = connect(http_session(server, world.emails["participant"]))
    guest = connect(guest_session(server, world.codes["open_live"], "Amara"))

    # Pre-moderated: the post is for moderators only; approving it writes their copy, then everyone's.
    first = post(guest, "The first question")
    mod.wait_for(lambda: len(mod.events) == 1, what="the pending post")
    assert mod.act("board.moderate", id=first, action="approve")["ok"]
    # A burst of public events: the first goes at once (the room was quiet), the rest wait for the next send.
    seqs = [mod.act(action, seconds=60)["seq"] for action in ("timer.start", "timer.extend", "timer.extend")]

    mod.wait_for(lambda: len(mod.events) == 6, what="every event, moderators' included")
    peer.wait_for(lambda: len(peer.events) == 4, what="the public events")
    time.sleep(1.5)  # anything sent twice would be here by now

    # Moderators: one stream, every event, in order, each as its action happened.
    assert [e["seq"] for e in mod.events] == [1, 2, 3, *seqs] == list(range(1, 7))
    assert mod.batches == [1, 2, 1, 1, 1]
    # Everyone else: the public events only, in order, fewer messages than events; each `prev` the one before.
    assert [e["seq"] for e in peer.events] == [3, *seqs]
    assert [e["prev"] for e in peer.events] == [0, 3, 4, 5]
    assert peer.batches[0] == 1 and len(peer.batches) < 4, peer.batches
    assert peer.events[0]["data"]["contribution"]["status"] == "approved"
    assert guest.events == peer.events


def test_joining_while_events_wait_gets_them_in_the_welcome_and_never_again(server, room):
    world, session_id, connect = room
    mod = connect(http_session(server, world.emails["moderator"]))
    peer = connect(http_session(server, world.emails["observer"]))
    started = mod.act("timer.start", seconds=60)["seq"]  # the room was quiet: sent at once
    peer.wait_for(lambda: peer.events, what="the first event")
    held = mod.act("timer.extend", seconds=30)["seq"]  # held for the viewers for up to a second

    late = connect(http_session(server, world.emails["participant"]))  # what is held goes out as it joins
    assert late.welcomes[0]["seq"] == held  # its welcome covers the held event
    peer.wait_for(lambda: peer.last_seq == held, what="the held event")
    time.sleep(1.5)  # past the moment it would have been sent
    assert late.events == []  # nothing the welcome covered comes again
    assert [e["seq"] for e in peer.events] == [started, held]  # once each
    assert [e["seq"] for e in mod.events] == [started, held]
