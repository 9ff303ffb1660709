"""The discussion board, speaker queue and quick polls against the real server over real sockets."""

from __future__ import annotations

import pytest
from conftest import LiveServer
from realtime_support import LiveClient, build_world, guest_session, http_session, server_app

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    live = LiveServer(
        tmp_path_factory.mktemp("board"),
        env={"LIVE_RATE": "5000", "LIVE_BURST": "5000", "LIVE_TICK_SECONDS": "1", "BOARD_EDIT_SECONDS": "300"},
    ).start()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def data(server):
    return server_app(server)


@pytest.fixture
def world(server):
    return build_world(server)


def member(server, world, kind, session="open_live"):
    return LiveClient(server, http_session(server, world.emails[kind]), world.sessions[session])


def contributions(client) -> dict[int, dict]:
    """The board as this client would show it: snapshot, then events merged by id."""
    board: dict[int, dict] = {}
    for welcome in client.welcomes[:1]:
        for c in welcome["snapshot"]["board"]["contributions"]:
            board[c["id"]] = dict(c)
    with client.lock:
        events = list(client.events)
    for event in events:
        if event["type"] != "contribution":
            continue
        change = event["data"]["contribution"]
        if change.get("visible") is False and not client.welcomes[0]["you"]["moderator"]:
            board.pop(change["id"], None)
        else:
            board.setdefault(change["id"], {}).update({k: v for k, v in change.items() if k != "visible"})
    return board


def test_premoderated_open_session_guest_post_approved_and_seen(server, world):
    moderator = member(server, world, "moderator")
    participant = member(server, world, "participant")
    guest = LiveClient(server, guest_session(server, world.codes["open_live"], "Zanele"), world.sessions["open_live"])
    assert guest.welcomes[0]["snapshot"]["board"]["settings"]["premoderation"] is True

    ack = guest.act("board.post", body="**Hello** <script>alert(1)</script>")
    assert ack["ok"], ack
    pending = moderator.wait_for(lambda: [c for c in contributions(moderator).values() if c.get("status") == "pending"])
    cid = pending[0]["id"]
    assert pending[0]["author"]["name"] == "Zanele"
    assert "<script>" not in pending[0]["body_html"] and "<strong>Hello</strong>" in pending[0]["body_html"]
    # The author sees their own pending contribution; the other participant sees nothing yet.
    guest.wait_for(lambda: any(p["contributions"] for p in guest.of("personal")))
    assert cid not in contributions(participant)

    assert moderator.act("board.moderate", id=cid, action="approve")["ok"]
    assert moderator.act("board.moderate", id=cid, action="pin")["ok"]
    participant.wait_for(lambda: contributions(participant).get(cid, {}).get("pinned"))
    seen = contributions(participant)[cid]
    assert seen["author"]["name"] == "Zanele" and seen["status"] == "approved"


def test_votes_once_per_person(server, world):
    moderator = member(server, world, "moderator", "closed_live")
    participant = member(server, world, "participant", "closed_live")
    ack = participant.act("board.post", body="A question")
    assert ack["ok"], ack
    cid = participant.wait_for(lambda: list(contributions(participant)))[0]
    for _ in range(2):
        assert participant.act("board.vote", id=cid)["ok"]
    assert moderator.act("board.vote", id=cid)["ok"]
    participant.wait_for(lambda: contributions(participant)[cid].get("votes") == 2)
    assert participant.act("board.vote", id=cid, support=False)["ok"]
    participant.wait_for(lambda: contributions(participant)[cid].get("votes") == 1)
    assert participant.act("board.vote", id=999999)["error"]["code"] == "not_found"


def test_non_attribution_hides_names_from_everyone_but_moderators(server, world):
    moderator = member(server, world, "moderator", "closed_live")
    participant = member(server, world, "participant", "closed_live")
    observer = member(server, world, "observer", "closed_live")
    assert moderator.act("board.settings", non_attribution=True)["ok"]
    assert participant.act("board.post", body="Frankly")["ok"]
    cid = observer.wait_for(lambda: list(contributions(observer)))[0]
    assert "author" not in contributions(observer)[cid]
    moderator.wait_for(lambda: contributions(moderator).get(cid, {}).get("author"))
    late = member(server, world, "note_taker", "closed_live")
    assert "author" not in late.welcomes[0]["snapshot"]["board"]["contributions"][0]


def test_speaker_queue_alternates_sides(server, world):
    moderator = member(server, world, "moderator", "closed_live")
    seeker = member(server, world, "participant", "closed_live")
    seeker2 = member(server, world, "observer", "closed_live")
    assert moderator.act("board.settings", alternate_sides=True)["ok"]
    assert seeker.act("hand.raise")["ok"]
    assert seeker2.act("hand.raise")["ok"]
    assert moderator.act("hand.raise")["ok"]  # the moderator is a knowledge-providing peer in this world
    assert moderator.act("floor.give")["ok"]
    queue = seeker.wait_for(lambda: [e for e in seeker.events if e["type"] == "speakers" and e["data"]["speaking"]])
    first = queue[-1]["data"]
    assert first["speaking"]["person"] == f"u:{world.users['participant']}"
    assert first["waiting"][0]["person"] == f"u:{world.users['moderator']}"  # the other side goes next


def test_poll_after_close(server, world):
    moderator = member(server, world, "moderator", "closed_live")
    participant = member(server, world, "participant", "closed_live")
    ack = moderator.act("poll.create", question="Which?", choices=["A", "B"], open=True)
    assert ack["ok"], ack
    poll = participant.wait_for(lambda: [e for e in participant.events if e["type"] == "poll"])[-1]["data"]["poll"]
    assert "results" not in poll
    ack = participant.act("poll.answer", poll_id=poll["id"], choices=[1])
    assert ack == {"ok": True}
    assert participant.act("poll.answer", poll_id=poll["id"], choices=[0])["error"]["code"] == "already_answered"
    moderator.wait_for(lambda: [r for r in moderator.of("poll.results") if r["voters"] == 1])
    assert not participant.of("poll.results")
    assert moderator.act("poll.close", poll_id=poll["id"])["ok"]
    closed = participant.wait_for(
        lambda: [e for e in participant.events if e["type"] == "poll" and e["data"]["poll"]["status"] == "closed"]
    )
    assert closed[-1]["data"]["poll"]["results"]["counts"] == [0, 1]
