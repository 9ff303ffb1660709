"""The discussion board, speaker queue and quick polls against the real server over real sockets."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import datetime, timedelta

import pytest
import requests
import socketio
from babel.support import Translations
from conftest import LiveServer
from realtime_support import LiveClient, _csrf, build_world, guest_session, http_session, server_app

from config import BASE_DIR
from workspace.auth.models import User
from workspace.board.models import (
    Contribution,
    ModerationEntry,
    Poll,
    PollChoice,
    PollVoter,
    Restriction,
    SpeakerTurn,
    Vote,
)
from workspace.exchanges.models import Membership
from workspace.extensions import db
from workspace.realtime.models import SessionEvent
from workspace.sessions.models import Guest, SessionInvitee

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


class Client(LiveClient):
    """A LiveClient closed at the end of the test that made it (the module's server keeps running)."""

    made: list[LiveClient] = []

    def __init__(self, *args, **kwargs):
        Client.made.append(self)
        super().__init__(*args, **kwargs)


@pytest.fixture(autouse=True)
def _close_clients():
    yield
    while Client.made:
        Client.made.pop().disconnect()


def member(server, world, kind, session="open_live"):
    return Client(server, http_session(server, world.emails[kind]), world.sessions[session])


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
    guest = Client(server, guest_session(server, world.codes["open_live"], "Zanele"), world.sessions["open_live"])
    assert guest.welcomes[0]["snapshot"]["board"]["settings"]["premoderation"] is True

    ack = guest.act("board.post", body="**Hello** <script>alert(1)</script>")
    assert ack["ok"], ack
    pending = moderator.wait_for(lambda: [c for c in contributions(moderator).values() if c.get("status") == "pending"])
    cid = pending[0]["id"]
    assert pending[0]["author"]["name"] == "Zanele"
    assert "<script>" not in pending[0]["body_html"] and "<strong>Hello</strong>" in pending[0]["body_html"]
    # The author sees their own pending contribution; the other participant sees nothing yet.
    guest.wait_for(lambda: any(p.get("contributions") for p in guest.of("personal")))
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
    answer = {"cid": "answer-once-1", "poll_id": poll["id"], "choices": [1]}
    assert participant.call("poll.answer", answer) == {"ok": True}
    # The same answer again (its acknowledgement lost): the same reply, counted once. Another one: refused.
    assert participant.call("poll.answer", answer) == {"ok": True}
    assert participant.act("poll.answer", poll_id=poll["id"], choices=[0])["error"]["code"] == "already_answered"
    moderator.wait_for(lambda: [r for r in moderator.of("poll.results") if r["voters"] == 1])
    assert not participant.of("poll.results")
    assert moderator.act("poll.close", poll_id=poll["id"])["ok"]
    closed = participant.wait_for(
        lambda: [e for e in participant.events if e["type"] == "poll" and e["data"]["poll"]["status"] == "closed"]
    )
    assert closed[-1]["data"]["poll"]["results"]["counts"] == [0, 1]
    # A retry that arrives after the close still gets its answer (now with the results everyone sees).
    assert participant.call("poll.answer", answer) == {"ok": True, "results": {"counts": [0, 1], "voters": 1}}


# =====================================================================================================================
# Everything below: every action and every refusal of the board, the speaker queue and polls.
# =====================================================================================================================

ENGLISH = {
    "not_allowed": "You are not allowed to do this.",
    "invalid": "This request is not valid.",
    "too_large": "This is too large to send.",
    "rate_limited": "You are sending too fast. Wait a moment and try again.",
    "not_live": "The session is not live.",
    "not_found": "This no longer exists.",
    "removed": "A moderator has removed you from this session.",
    "muted": "A moderator has muted you: you can follow the session but not post or ask to speak.",
    "board_locked": "The board is locked: it can be read but not added to.",
    "board_closed": "The board is closed: the session has ended.",
    "slow_mode": "Slow mode is on: wait %(seconds)d seconds before contributing again.",
    "empty": "Write something first.",
    "too_long": "This is too long: at most %(limit)d characters.",
    "edit_window": "This can no longer be changed: the time for edits has passed.",
    "not_closed": "Non-attribution is only for closed sessions.",
    "queue_empty": "Nobody is waiting to speak.",
    "poll_choices": "A poll needs between 2 and 10 different choices.",
    "poll_closed": "This poll is not open.",
    "already_answered": "You have already answered this poll.",
}
MODS_ONLY_TYPES = {"speakers.stats", "room.restrictions"}


def moderator_actions(ids: dict) -> dict[str, dict]:
    """Every moderators-only event of the board with a well-formed payload (so only the permission can refuse)."""
    return {
        "board.moderate": {"id": ids["contribution"], "action": "hide"},
        "board.highlight": {"id": ids["contribution"]},
        "board.settings": {"locked": True, "slow_mode_seconds": 30},
        "room.mute": {"person": ids["person"]},
        "room.remove": {"person": ids["person"]},
        "room.readmit": {"person": ids["person"]},
        "floor.give": {},
        "floor.end": {},
        "poll.create": {"question": "Sneaky?", "choices": ["a", "b"], "open": True},
        "poll.open": {"poll_id": ids["poll"]},
        "poll.close": {"poll_id": ids["poll"]},
        "poll.delete": {"poll_id": ids["poll"]},
    }


def error_of(ack: dict) -> str:
    assert ack["ok"] is False, ack
    return ack["error"]["code"]


def refusal(code: str, **params) -> dict:
    message = ENGLISH[code] % params if params else ENGLISH[code]
    return {"ok": False, "error": {"code": code, "message": message, **params}}


def guest(server, world, name="Guest Visitor", session="open_live"):
    browser = guest_session(server, world.codes[session], name)
    return Client(server, browser, world.sessions[session])


def me(client) -> str:
    return client.welcomes[0]["you"]["id"]


def connect_refusal(server, http, session_id) -> dict:
    """Try to connect; the connect_error's data ({code, message})."""
    client = Client(server, http, session_id, connect=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect()
    client.wait_for(lambda: client.of("connect_error"), what="connect_error")
    error = client.of("connect_error")[0]
    assert not client.welcomes and not client.events
    return error["data"] if isinstance(error, dict) and "data" in error else error


def body_id(data, body: str) -> int:
    """The id of the contribution with this exact Markdown (bodies in these tests are unique)."""
    with data.app_context():
        return db.session.execute(db.select(Contribution.id).filter_by(body=body)).scalar_one()


def write(client, data, body: str | None = None, **payload) -> int:
    body = body or f"Contribution {uuid.uuid4().hex[:10]}"
    ack = client.act("board.post", body=body, **payload)
    assert ack["ok"], ack
    return body_id(data, body)


ROW_MODELS = (SessionEvent, Contribution, ModerationEntry, Poll, SpeakerTurn, Restriction)


def rows(data, session_id: int) -> dict[str, int]:
    with data.app_context():
        counts = {
            model.__tablename__: db.session.execute(
                db.select(db.func.count()).select_from(model).filter_by(session_id=session_id)
            ).scalar()
            for model in ROW_MODELS
        }
        counts["votes"] = db.session.execute(
            db.select(db.func.count(Vote.id))
            .join(Contribution, Contribution.id == Vote.contribution_id)
            .filter(Contribution.session_id == session_id)
        ).scalar()
        return counts


def last_personal(client) -> dict:
    """A person's private state as their page holds it: `personal` messages carry only the parts that changed."""
    client.wait_for(lambda: client.of("personal"), what="personal")
    merged: dict = {}
    for part in client.of("personal"):
        merged.update(part)
    return merged


# --- what a client shows: the docs' merge rules, applied in order --------------------------------------------------


def tidy(contributions: dict[int, dict]) -> dict[int, dict]:
    """A reason of null shows the same as none at all."""
    return {k: {f: v for f, v in c.items() if not (f == "reason" and v is None)} for k, c in contributions.items()}


def from_snapshot(welcome: dict) -> dict:
    snap = welcome["snapshot"]
    state = {
        "settings": snap["board"]["settings"],
        "contributions": tidy({c["id"]: dict(c) for c in snap["board"]["contributions"]}),
        "speakers": snap["speakers"],
    }
    if welcome["you"]["moderator"]:
        state["restrictions"] = snap["restrictions"]
    return state


def apply(state: dict, event: dict, moderator: bool) -> None:
    data = event["data"]
    if event["type"] == "contribution":
        change = data["contribution"]
        if change.get("visible") is False and not moderator:
            state["contributions"].pop(change["id"], None)
        else:
            state["contributions"].setdefault(change["id"], {}).update(
                {k: v for k, v in change.items() if k != "visible"}
            )
    elif event["type"] == "board.settings":
        state["settings"] = data["settings"]
        for cid, author in data.get("authors", {}).items():
            if int(cid) in state["contributions"]:
                state["contributions"][int(cid)]["author"] = author
        if data["settings"]["non_attribution"] and not moderator:  # names go away when it is turned on
            for c in state["contributions"].values():
                c.pop("author", None)
    elif event["type"] == "speakers":
        state["speakers"] = data
    elif event["type"] == "room.restrictions":
        state["restrictions"] = data["restrictions"]


def shown(client) -> dict:
    """The board, queue and (moderators) restrictions as a client following docs/realtime-protocol.md shows them."""
    state, last, moderator = None, 0, False
    with client.lock:
        received = list(client.received)
    for kind, data in received:
        if kind == "welcome":
            moderator = data["you"]["moderator"]
            if "snapshot" in data:
                state, last = from_snapshot(data), data["seq"]
            for event in data.get("events", []):
                if event["seq"] > last:
                    apply(state, event, moderator)
                    last = event["seq"]
        elif kind == "event" and data["seq"] > last:
            apply(state, data, moderator)
            last = data["seq"]
    if moderator:  # moderators keep withdrawn ones marked as such; a fresh snapshot no longer lists them
        state["contributions"] = {k: c for k, c in state["contributions"].items() if c.get("status") != "withdrawn"}
    else:  # a reply whose thread left the board is not shown (and a fresh snapshot leaves it out)
        held = state["contributions"]
        state["contributions"] = {k: c for k, c in held.items() if not c.get("parent_id") or c["parent_id"] in held}
    state["contributions"] = tidy(state["contributions"])
    return state


def assert_chain(client) -> None:
    """Moderators see every seq; everyone else sees `prev` pointing at the last event they saw."""
    with client.lock:
        received = list(client.received)
    last, moderator = None, False
    for kind, data in received:
        if kind == "welcome":
            moderator = data["you"]["moderator"]
            events = data.get("events", [])
            if "snapshot" in data:
                last = data["seq"]
            for event in events:
                assert event["seq"] == last + 1 if moderator else event["prev"] == last, (event, last)
                last = event["seq"]
        elif kind == "event":
            assert data["seq"] == last + 1 if moderator else data["prev"] == last, (data, last)
            last = data["seq"]


def assert_no_moderators_only(client, non_attribution: bool = False) -> None:
    """What a non-moderator received: no moderators-only event, no pending post, no rejection reason, no
    draft poll, and (under non-attribution) no author except in their own `personal`."""
    you = client.welcomes[0]["you"]
    assert you["moderator"] is False
    with client.lock:
        received = list(client.received)
    for kind, data in received:
        events = [data] if kind == "event" else data.get("events", []) if kind == "welcome" else []
        for event in events:
            assert event["type"] not in MODS_ONLY_TYPES, event
            if event["type"] == "contribution":
                c = event["data"]["contribution"]
                assert c.get("status") != "pending" or c.get("visible") is False, event
                assert "reason" not in c, event
                if non_attribution:
                    assert "author" not in c, event
            if event["type"] == "poll":
                assert event["data"]["poll"].get("status") != "draft" and "deleted" not in event["data"]["poll"]
        if kind == "welcome" and "snapshot" in data:
            snap = data["snapshot"]
            assert "restrictions" not in snap and "speaker_stats" not in snap and "lobby" not in data
            for c in snap["board"]["contributions"]:
                assert c["status"] == "approved" and not c["hidden"] and "reason" not in c
                if non_attribution:
                    assert "author" not in c
        if kind == "welcome":
            assert all(p["status"] != "draft" for p in data["polls"])
        if kind == "personal":
            others = [c for c in data.get("contributions", []) if c["author"]["name"] != you["name"]]
            assert not others, data


# --- 1. who may do what --------------------------------------------------------------------------------------------


def invite(data, world, session: str) -> None:
    """The world's invitee is invited to `closed`; invite them to another session as well."""
    with data.app_context():
        db.session.add(SessionInvitee(session_id=world.sessions[session], user_id=world.users["invitee"]))
        db.session.commit()


def prepare(server, data, world, session: str) -> tuple[LiveClient, dict]:
    """A moderator in the room, a contribution, a draft poll and a raised hand: things the walk could act on."""
    mod = member(server, world, "moderator", session)
    ids = {"contribution": write(mod, data), "person": f"u:{world.users['participant']}"}
    assert mod.act("poll.create", question="Draft?", choices=["x", "y"])["ok"]
    with data.app_context():
        ids["poll"] = db.session.execute(db.select(Poll.id).filter_by(session_id=world.sessions[session])).scalar_one()
    if session.endswith("_live"):
        assert mod.act("hand.raise")["ok"]  # so floor.give would have someone to give the floor to
    return mod, ids


def test_moderators_only_events_are_refused_to_everyone_else_and_write_nothing(server, data, world):
    rooms = {
        "closed_live": [
            member(server, world, kind, "closed_live") for kind in ("note_taker", "participant", "observer")
        ],
        "closed": [member(server, world, "invitee", "closed")],
        "open_live": [guest(server, world, "Walk Guest"), member(server, world, "participant")],
    }
    prepared = {session: prepare(server, data, world, session) for session in rooms}
    for session, clients in rooms.items():
        session_id = world.sessions[session]
        before = rows(data, session_id)
        for client in clients:
            assert client.welcomes[0]["you"]["moderator"] is False
            for event, payload in moderator_actions(prepared[session][1]).items():
                assert client.act(event, **payload) == refusal("not_allowed"), (session, me(client), event)
        assert rows(data, session_id) == before, session
    # The same payloads are fine coming from a coordinator: what was refused was the person, not the payload.
    coordinator = member(server, world, "coordinator", "closed_live")
    assert coordinator.welcomes[0]["you"]["moderator"] is True
    actions = moderator_actions(prepared["closed_live"][1])
    for event in (
        "board.highlight",
        "board.moderate",
        "board.settings",
        "room.mute",
        "floor.give",
        "floor.end",
        "poll.open",
        "poll.close",
        "poll.create",
        "room.remove",
        "room.readmit",
    ):
        assert coordinator.act(event, **actions[event])["ok"], event
    assert coordinator.act("poll.create", question="Another?", choices=["a", "b"])["ok"]
    for clients in rooms.values():
        for client in clients:
            if client.connected:
                assert_no_moderators_only(client)


def test_people_who_may_not_enter_cannot_connect(server, world):
    for kind in ("outsider", "other"):
        for session in ("closed_live", "closed"):
            error = connect_refusal(server, http_session(server, world.emails[kind]), world.sessions[session])
            assert error == {"code": "not_allowed", "message": ENGLISH["not_allowed"]}
    assert connect_refusal(server, None, world.sessions["open_live"])["code"] == "not_allowed"  # no name given yet


def test_non_moderators_receive_nothing_meant_for_moderators(server, data, world):
    mod = member(server, world, "moderator", "closed_live")
    author = member(server, world, "participant", "closed_live")
    invite(data, world, "closed_live")
    watchers = [member(server, world, kind, "closed_live") for kind in ("observer", "note_taker", "invitee")]
    assert mod.act("board.settings", non_attribution=True, premoderation=True)["ok"]
    held = write(author, data)
    rejected = write(author, data)
    assert mod.act("board.moderate", id=held, action="approve")["ok"]
    assert mod.act("board.moderate", id=rejected, action="reject", reason="Off topic")["ok"]
    assert mod.act("board.moderate", id=held, action="pin")["ok"]
    assert mod.act("room.mute", person=me(watchers[0]))["ok"]
    assert author.act("hand.raise")["ok"] and mod.act("floor.give")["ok"] and mod.act("floor.end")["ok"]
    assert mod.act("poll.create", question="Later?", choices=["a", "b"])["ok"]
    last = mod.act("board.highlight", id=held)["seq"]
    for client in (author, *watchers):
        client.wait_for(lambda c=client: (c.events or [{"seq": 0}])[-1]["seq"] == last, what="the last event")
        assert_no_moderators_only(client, non_attribution=True)
        assert_chain(client)
    assert_chain(mod)
    # Moderators did get all of it: names, the pending post, the reason, the stats, the restrictions, the draft.
    types = {e["type"] for e in mod.events}
    assert {"speakers.stats", "room.restrictions", "poll", "contribution"} <= types
    board = shown(mod)["contributions"]
    assert board[held]["author"]["name"] == author.welcomes[0]["you"]["name"]
    assert board[rejected]["status"] == "rejected" and board[rejected]["reason"] == "Off topic"
    # The author alone learns why.
    author.wait_for(
        lambda: any(
            c["id"] == rejected and c.get("reason") for p in author.of("personal") for c in p.get("contributions", [])
        )
    )
    mine = {c["id"]: c for c in last_personal(author)["contributions"]}
    assert mine[rejected]["status"] == "rejected" and mine[rejected]["reason"] == "Off topic"
    assert rejected not in shown(watchers[1])["contributions"]


# --- 2. refusals, each with its code and message --------------------------------------------------------------------


def test_empty_too_long_and_too_large_contributions(server, data, world):
    mod = member(server, world, "moderator", "closed_live")
    peer = member(server, world, "participant", "closed_live")
    for body in ("", "   ", "\n\r\n\t "):
        assert peer.act("board.post", body=body) == refusal("empty")
    assert peer.act("board.post", body="x" * 2001) == refusal("too_long", limit=2000)
    assert peer.act("board.post", body="x" * 5000) == refusal("too_long", limit=2000)  # under 8 KiB: still "too long"
    # Length is in characters; the size limit in UTF-8 bytes: 2,000 Chinese or Arabic characters fit.
    for text in ("水" * 2000, "ع" * 2000, "é" * 2000, " " + "x" * 2000 + "\n"):
        assert peer.act("board.post", body=text)["ok"], text[:3]
    assert peer.act("board.post", body="水" * 2001) == refusal("too_long", limit=2000)
    assert peer.act("board.post", body="水" * 3000) == refusal("too_large")  # 9,000 bytes
    first = write(peer, data)
    assert peer.act("board.edit", id=first, body=" ") == refusal("empty")
    assert peer.act("board.edit", id=first, body="y" * 2001) == refusal("too_long", limit=2000)
    assert mod.act("board.moderate", id=first, action="hide", reason="r" * 301) == refusal("too_long", limit=300)
    assert mod.act("poll.create", question="", choices=["a", "b"]) == refusal("empty")
    assert mod.act("poll.create", question="q" * 301, choices=["a", "b"]) == refusal("too_long", limit=300)
    assert mod.act("poll.create", question="Fine?", choices=["a", "c" * 121]) == refusal("too_long", limit=120)
    assert mod.act("poll.create", question="Fine?", choices=["a", " "]) == refusal("empty")
    with data.app_context():
        assert (
            db.session.execute(
                db.select(db.func.count(Contribution.id)).filter_by(session_id=world.sessions["closed_live"])
            ).scalar()
            == 5
        )


MALFORMED = [
    ("board.post", {"cid": "abcdefgh12"}),
    ("board.post", {"body": "no cid"}),
    ("board.post", {"cid": "abcdefgh12", "body": 42}),
    ("board.post", {"cid": "abcdefgh12", "body": ["a"]}),
    ("board.post", {"cid": "abcdefgh12", "body": None}),
    ("board.post", {"cid": "abcdefgh12", "body": "hi", "item_id": "1"}),
    ("board.post", {"cid": "abcdefgh12", "body": "hi", "parent_id": 0}),
    ("board.post", {"cid": "abcdefgh12", "body": "hi", "author": "Someone Else"}),
    ("board.post", ["cid", "abcdefgh12", "body", "hi"]),
    ("board.post", "hello"),
    ("board.edit", {"cid": "abcdefgh12", "id": 1}),
    ("board.edit", {"cid": "abcdefgh12", "id": "1", "body": "x"}),
    ("board.withdraw", {"cid": "abcdefgh12"}),
    ("board.vote", {"cid": "abcdefgh12", "id": 1, "support": "yes"}),
    ("board.vote", {"cid": "abcdefgh12", "id": 1.0}),
    ("board.vote", {"cid": "abcdefgh12", "id": True}),
    ("board.moderate", {"cid": "abcdefgh12", "id": 1, "action": "delete"}),
    ("board.moderate", {"cid": "abcdefgh12", "id": 1}),
    ("board.highlight", {"cid": "abcdefgh12", "id": "1"}),
    ("board.settings", {"cid": "abcdefgh12", "slow_mode_seconds": -1}),
    ("board.settings", {"cid": "abcdefgh12", "slow_mode_seconds": 3601}),
    ("board.settings", {"cid": "abcdefgh12", "locked": "true"}),
    ("board.settings", {"cid": "abcdefgh12", "volume": 11}),
    ("room.mute", {"cid": "abcdefgh12", "person": "1"}),
    ("room.mute", {"cid": "abcdefgh12", "person": "x:1"}),
    ("room.mute", {"cid": "abcdefgh12", "person": "u:1", "on": 1}),
    ("room.remove", {"cid": "abcdefgh12"}),
    ("room.readmit", {"cid": "abcdefgh12", "person": ["u:1"]}),
    ("hand.raise", {"cid": "abcdefgh12", "turn_id": 1}),
    ("hand.raise", {}),
    ("hand.lower", {"cid": "abcdefgh12", "turn_id": "1"}),
    ("floor.give", {"cid": "abcdefgh12", "turn_id": -1}),
    ("floor.end", {"cid": "short"}),
    ("poll.create", {"cid": "abcdefgh12", "question": "Q?", "choices": "a,b"}),
    ("poll.create", {"cid": "abcdefgh12", "question": "Q?", "choices": [1, 2]}),
    ("poll.create", {"cid": "abcdefgh12", "question": "Q?", "choices": []}),
    ("poll.create", {"cid": "abcdefgh12", "question": "Q?", "choices": ["a", "b"], "show_results": "never"}),
    ("poll.open", {"cid": "abcdefgh12"}),
    ("poll.answer", {"cid": "abcdefgh12", "poll_id": 1, "choices": 0}),
    ("poll.answer", {"cid": "abcdefgh12", "poll_id": 1, "choices": []}),
    ("poll.answer", {"cid": "abcdefgh12", "poll_id": 1, "choices": ["0"]}),
    ("poll.answer", {"cid": "abcdefgh12", "poll_id": 1, "choices": [-1]}),
]


def test_malformed_payloads_are_invalid_for_everyone(server, data, world):
    mod = member(server, world, "moderator", "closed_live")
    peer = member(server, world, "participant", "closed_live")
    for client in (mod, peer):
        for event, payload in MALFORMED:
            assert client.call(event, payload) == refusal("invalid"), (event, payload)
    assert peer.call("board.post", ({"cid": "abcdefgh12", "body": "one"}, "two")) == refusal("invalid")
    assert mod.act("board.settings") == refusal("invalid")  # nothing to change
    c = write(mod, data)
    assert mod.act("board.moderate", id=c, action="approve") == refusal("invalid")  # not pending
    assert mod.act("board.moderate", id=c, action="reject", reason="no") == refusal("invalid")
    assert rows(data, world.sessions["closed_live"])["contributions"] == 1


def test_unknown_things_are_not_found(server, data, world):
    closed = world.sessions["closed_live"]
    mod = member(server, world, "moderator", "closed_live")
    peer = member(server, world, "participant", "closed_live")
    elsewhere = write(member(server, world, "moderator", "open_live"), data)  # another session's contribution
    pending = write(member(server, world, "participant", "open_live"), data)
    other_item = world.items["open_live"][0]
    for unknown in (999_999, elsewhere, pending):
        assert peer.act("board.vote", id=unknown) == refusal("not_found")
        assert peer.act("board.post", body="a reply", parent_id=unknown) == refusal("not_found")
        assert peer.act("board.edit", id=unknown, body="x") == refusal("not_found")
        assert peer.act("board.withdraw", id=unknown) == refusal("not_found")
        assert mod.act("board.moderate", id=unknown, action="pin") == refusal("not_found")
        assert mod.act("board.highlight", id=unknown) == refusal("not_found")
    assert peer.act("board.post", body="to an item elsewhere", item_id=other_item) == refusal("not_found")
    assert peer.act("board.post", body="to no item", item_id=999_999) == refusal("not_found")
    assert peer.act("hand.lower", turn_id=999_999) == refusal("not_found")
    assert mod.act("floor.give", turn_id=999_999) == refusal("not_found")
    for person in ("u:999999", "g:999999", f"u:{world.users['outsider']}", f"u:{world.users['other']}"):
        for event in ("room.mute", "room.remove", "room.readmit"):
            assert mod.act(event, person=person) == refusal("not_found"), (event, person)
    for event in ("poll.open", "poll.close", "poll.delete"):
        assert mod.act(event, poll_id=999_999) == refusal("not_found")
    assert peer.act("poll.answer", poll_id=999_999, choices=[0]) == refusal("not_found")
    assert mod.act("poll.create", question="Q?", choices=["a", "b"], item_id=other_item) == refusal("not_found")
    assert mod.act("poll.create", question="Q?", choices=["a", "b"], open=True)["ok"]
    poll = mod.wait_for(lambda: mod.of_type("poll"))[-1]["poll"]["id"]
    assert peer.act("poll.answer", poll_id=poll, choices=[2]) == refusal("not_found")
    # Moderators cannot be muted or removed (by anyone: here by another moderator).
    for event in ("room.mute", "room.remove"):
        assert mod.act(event, person=f"u:{world.users['coordinator']}") == refusal("not_allowed")
    # Someone else's hand is not yours to lower, nor their words to edit.
    assert mod.act("hand.raise")["ok"]
    turn = last_personal(mod)["hand"]["id"]
    assert peer.act("hand.lower", turn_id=turn) == refusal("not_allowed")
    mine = write(mod, data)
    assert peer.act("board.edit", id=mine, body="hijacked") == refusal("not_allowed")
    assert peer.act("board.withdraw", id=mine) == refusal("not_allowed")
    counts = rows(data, closed)
    assert counts["contributions"] == 1 and counts["moderation_log"] == 1  # the poll's opening


def test_locked_board(server, data, world):
    mod = member(server, world, "moderator", "closed_live")
    peer = member(server, world, "participant", "closed_live")
    before = write(peer, data)
    assert mod.act("board.settings", locked=True)["ok"]
    peer.wait_for(lambda: shown(peer)["settings"]["locked"])
    assert peer.act("board.post", body="let me in") == refusal("board_locked")
    assert peer.act("board.post", body="a reply", parent_id=before) == refusal("board_locked")
    assert peer.act("board.edit", id=before, body="changed") == refusal("board_locked")
    assert peer.act("board.vote", id=before) == refusal("board_locked")
    assert write(mod, data)  # moderators still may (an announcement, say)
    assert peer.act("hand.raise")["ok"]  # the board, not the room: hands and polls go on
    assert mod.act("board.settings", locked=False)["ok"]
    assert peer.act("board.vote", id=before)["ok"] and write(peer, data)
    with data.app_context():
        log = db.session.execute(
            db.select(ModerationEntry.action, ModerationEntry.detail).filter_by(
                session_id=world.sessions["closed_live"]
            )
        ).all()
        assert [tuple(r) for r in log] == [("set_locked", "on"), ("set_locked", "off")]


def test_the_board_closes_when_the_session_ends(server, data, world):
    mod = member(server, world, "moderator", "closed_live")
    peer = member(server, world, "participant", "closed_live")
    mine = write(peer, data)
    assert peer.act("hand.raise")["ok"] and mod.act("floor.give")["ok"]
    assert mod.act("poll.create", question="Still open?", choices=["yes", "no"], open=True)["ok"]
    assert mod.act("session.end")["ok"]
    assert peer.act("board.post", body="too late") == refusal("board_closed")
    assert peer.act("board.vote", id=mine) == refusal("board_closed")
    assert peer.act("board.edit", id=mine, body="too late") == refusal("board_closed")
    assert peer.act("board.withdraw", id=mine) == refusal("board_closed")
    assert mod.act("board.post", body="too late") == refusal("board_closed")
    assert mod.act("poll.create", question="Q?", choices=["a", "b"]) == refusal("board_closed")
    assert peer.act("hand.raise") == refusal("not_live")
    assert mod.act("floor.give") == refusal("not_live")
    assert rows(data, world.sessions["closed_live"])["contributions"] == 1


def test_slow_mode(server, data, world):
    mod = member(server, world, "moderator", "closed_live")
    peer = member(server, world, "participant", "closed_live")
    other = member(server, world, "observer", "closed_live")
    assert mod.act("board.settings", slow_mode_seconds=60)["ok"]
    first = write(peer, data)
    ack = peer.act("board.post", body="again")
    assert ack["error"]["code"] == "slow_mode" and 55 <= ack["error"]["seconds"] <= 60, ack
    assert ack == refusal("slow_mode", seconds=ack["error"]["seconds"])
    assert peer.act("board.post", body="a reply then", parent_id=first)["error"]["code"] == "slow_mode"
    assert peer.act("board.vote", id=first)["ok"]  # supporting is not contributing
    assert write(other, data) and write(mod, data) and write(mod, data)  # per person; moderators exempt
    assert mod.act("board.settings", slow_mode_seconds=0)["ok"]
    assert write(peer, data)


def test_a_muted_participant_reads_votes_and_answers_but_does_not_post_or_raise_a_hand(server, data, world):
    mod = member(server, world, "moderator", "closed_live")
    peer = member(server, world, "participant", "closed_live")
    target = me(peer)
    own = write(peer, data)
    assert peer.act("hand.raise")["ok"]
    assert mod.act("poll.create", question="Heard?", choices=["yes", "no"], open=True)["ok"]
    poll = mod.wait_for(lambda: mod.of_type("poll"))[-1]["poll"]["id"]
    assert mod.act("room.mute", person=target)["ok"]
    peer.wait_for(lambda: last_personal(peer).get("muted"), what="muted")
    assert last_personal(peer)["hand"] is None  # muting lowers the hand
    assert peer.act("board.post", body="let me speak") == refusal("muted")
    assert peer.act("board.post", body="a reply", parent_id=own) == refusal("muted")
    assert peer.act("board.edit", id=own, body="edited") == refusal("muted")
    assert peer.act("hand.raise") == refusal("muted")
    assert peer.act("board.vote", id=own)["ok"]
    assert peer.act("poll.answer", poll_id=poll, choices=[0])["ok"]
    assert peer.connected
    restrictions = mod.wait_for(lambda: mod.of_type("room.restrictions"))[-1]["restrictions"]
    assert restrictions == [{"person": target, "name": peer.welcomes[0]["you"]["name"], "kind": "muted"}]
    late = member(server, world, "participant", "closed_live")
    assert late.welcomes[0]["personal"]["muted"] is True  # survives reconnecting
    assert mod.act("room.mute", person=target, on=False)["ok"]
    assert write(peer, data) and peer.act("hand.raise")["ok"]
    with data.app_context():
        log = db.session.execute(
            db.select(ModerationEntry.action, ModerationEntry.target).filter_by(
                session_id=world.sessions["closed_live"]
            )
        ).all()
        assert [tuple(r) for r in log] == [("poll_open", None), ("mute", target), ("unmute", target)]


def test_a_removed_member_is_put_out_and_refused_until_readmitted(server, data, world):
    mod = member(server, world, "moderator", "closed_live")
    browser = http_session(server, world.emails["participant"])
    peer = Client(server, browser, world.sessions["closed_live"])
    target = me(peer)
    assert peer.act("hand.raise")["ok"]
    assert mod.act("room.remove", person=target)["ok"]
    peer.wait_for(lambda: peer.of("revoked") == [{"code": "removed"}], what="revoked")
    peer.wait_for(lambda: not peer.connected, what="disconnected")
    queues = mod.wait_for(
        lambda: [q["waiting"] for q in mod.of_type("speakers")][-2:] if len(mod.of_type("speakers")) >= 2 else None,
        what="hand up, then down",
    )
    assert [[t["person"] for t in q] for q in queues] == [[target], []]  # removal lowers the hand
    assert connect_refusal(server, browser, world.sessions["closed_live"]) == {
        "code": "removed",
        "message": ENGLISH["removed"],
    }
    response = browser.get(f"{server.url}/sessions/{world.sessions['closed_live']}/live", allow_redirects=False)
    assert response.status_code == 302
    assert mod.act("room.readmit", person=target)["ok"]
    assert mod.act("room.readmit", person=target) == refusal("invalid")  # not removed any more
    assert Client(server, browser, world.sessions["closed_live"]).welcomes[0]["you"]["id"] == target
    with data.app_context():
        log = db.session.execute(
            db.select(ModerationEntry.action, ModerationEntry.target, ModerationEntry.actor_name)
            .filter_by(session_id=world.sessions["closed_live"])
            .order_by(ModerationEntry.id)
        ).all()
    name = mod.welcomes[0]["you"]["name"]
    assert [tuple(r) for r in log] == [("remove", target, name), ("readmit", target, name)]


def test_a_removed_guest_cannot_come_back_from_the_same_browser_under_a_new_name(server, data, world):
    open_ = world.sessions["open_live"]
    mod = member(server, world, "moderator")
    browser = guest_session(server, world.codes["open_live"], "Troublemaker")
    visitor = Client(server, browser, open_)
    target = me(visitor)
    assert mod.act("room.remove", person=target)["ok"]
    visitor.wait_for(lambda: visitor.of("revoked") == [{"code": "removed"}], what="revoked")
    visitor.wait_for(lambda: not visitor.connected, what="disconnected")
    assert connect_refusal(server, browser, open_) == {"code": "removed", "message": ENGLISH["removed"]}

    with data.app_context():
        guests_before = db.session.execute(db.select(db.func.count(Guest.id)).filter_by(session_id=open_)).scalar()
    join = f"{server.url}/join/{world.codes['open_live']}"
    page = browser.get(join, allow_redirects=False)
    assert page.status_code == 302 and page.headers["Location"].endswith(f"/sessions/{open_}")
    assert ENGLISH["removed"] in browser.get(server.url + page.headers["Location"]).text
    token = _csrf(browser.get(f"{server.url}/join").text)
    again = browser.post(join, data={"display_name": "Innocent Newcomer", "csrf_token": token}, allow_redirects=False)
    assert again.status_code == 302 and again.headers["Location"].endswith(f"/sessions/{open_}")
    with data.app_context():
        assert db.session.execute(db.select(db.func.count(Guest.id)).filter_by(session_id=open_)).scalar() == (
            guests_before
        )
        assert db.session.get(Guest, int(target[2:])).status == Guest.REMOVED
    assert connect_refusal(server, browser, open_)["code"] == "removed"
    restrictions = mod.wait_for(lambda: mod.of_type("room.restrictions"))[-1]["restrictions"]
    assert restrictions == [{"person": target, "name": "Troublemaker", "kind": "removed"}]
    # Someone else's browser is a new guest as usual; and the moderator can let the first one back.
    assert guest(server, world, "Someone Else").welcomes[0]["you"]["role"] == "guest"
    assert mod.act("room.readmit", person=target)["ok"]
    assert Client(server, browser, open_).welcomes[0]["you"]["id"] == target


def test_edits_and_withdrawals_only_within_the_window(server, data, world):
    mod = member(server, world, "moderator", "closed_live")
    peer = member(server, world, "participant", "closed_live")
    old, fresh = write(peer, data), write(peer, data)
    with data.app_context():
        db.session.get(Contribution, old).created_at -= timedelta(seconds=301)
        db.session.commit()
    assert peer.act("board.edit", id=old, body="second thoughts") == refusal("edit_window")
    assert peer.act("board.withdraw", id=old) == refusal("edit_window")
    assert peer.act("board.edit", id=fresh, body="second thoughts")["ok"]
    mod.wait_for(lambda: shown(mod)["contributions"][fresh]["edited"], what="edited")
    # (Moderators' and everyone else's copies travel as two messages: the peer's may come a moment later.)
    peer.wait_for(lambda: shown(peer)["contributions"].get(fresh, {}).get("edited"), what="the edit, to the others")
    assert "second thoughts" in shown(peer)["contributions"][fresh]["body_html"]
    personal = last_personal(peer)
    until = {c["id"]: c["editable_until"] for c in personal["contributions"]}
    assert until[old] < until[fresh]
    assert peer.act("board.withdraw", id=fresh)["ok"]
    peer.wait_for(lambda: fresh not in shown(peer)["contributions"], what="withdrawn")
    assert peer.act("board.edit", id=fresh, body="back?") == refusal("not_found")


def test_non_attribution_only_in_closed_sessions(server, world):
    mod = member(server, world, "moderator")
    assert mod.act("board.settings", non_attribution=True) == refusal("not_closed")
    assert mod.act("board.settings", non_attribution=True, locked=True) == refusal("not_closed")
    assert mod.act("board.settings", non_attribution=False)["ok"]
    assert shown(mod)["settings"]["locked"] is False


def test_giving_the_floor_with_nobody_waiting(server, world):
    mod = member(server, world, "moderator", "closed_live")
    assert mod.act("floor.give") == refusal("queue_empty")
    assert mod.act("floor.end") == {"ok": True}  # nobody speaking: nothing to do, nothing written


def test_poll_refusals(server, data, world):
    mod = member(server, world, "moderator", "closed_live")
    peer = member(server, world, "participant", "closed_live")
    for choices in (["only"], [f"c{i}" for i in range(11)], ["same", "same"], ["same", " same "]):
        assert mod.act("poll.create", question="How?", choices=choices) == refusal("poll_choices"), choices
    assert mod.act("poll.create", question="Draft?", choices=["a", "b"])["ok"]
    draft = mod.wait_for(lambda: mod.of_type("poll"))[-1]["poll"]["id"]
    assert peer.act("poll.answer", poll_id=draft, choices=[0]) == refusal("poll_closed")
    assert mod.act("poll.close", poll_id=draft) == refusal("invalid")  # not open
    assert mod.act("poll.open", poll_id=draft)["ok"]
    assert mod.act("poll.open", poll_id=draft) == refusal("invalid")
    assert mod.act("poll.delete", poll_id=draft) == refusal("invalid")  # only drafts
    assert peer.act("poll.answer", poll_id=draft, choices=[0, 1]) == refusal("invalid")  # single choice
    assert peer.act("poll.answer", poll_id=draft, choices=[1])["ok"]
    assert peer.act("poll.answer", poll_id=draft, choices=[1]) == refusal("already_answered")
    assert peer.act("poll.answer", poll_id=draft, choices=[0]) == refusal("already_answered")
    assert mod.act("poll.close", poll_id=draft)["ok"]
    other = member(server, world, "observer", "closed_live")
    assert other.act("poll.answer", poll_id=draft, choices=[0]) == refusal("poll_closed")
    # Polls can be prepared before the session, not opened.
    sched = member(server, world, "moderator", "closed")
    assert sched.act("poll.create", question="Prepared?", choices=["a", "b"])["ok"]
    assert sched.act("poll.create", question="Now?", choices=["a", "b"], open=True) == refusal("not_live")
    prepared = sched.wait_for(lambda: sched.of_type("poll"))[-1]["poll"]["id"]
    assert sched.act("poll.open", poll_id=prepared) == refusal("not_live")
    assert sched.act("hand.raise") == refusal("not_live")
    assert rows(data, world.sessions["closed"])["polls"] == 1


@pytest.fixture(scope="module")
def slow_server(tmp_path_factory):
    """A server with a low flood limit, for rate limiting."""
    live = LiveServer(tmp_path_factory.mktemp("board-flood"), env={"LIVE_RATE": "2", "LIVE_BURST": "4"}).start()
    yield live
    live.stop()


def test_flooding_the_board_is_refused_then_disconnected(slow_server):
    world = build_world(slow_server, {"live": {"mode": "closed", "status": "live"}})
    app = server_app(slow_server)
    flooder = Client(slow_server, http_session(slow_server, world.emails["participant"]), world.sessions["live"])
    calm = Client(slow_server, http_session(slow_server, world.emails["observer"]), world.sessions["live"])
    codes = []
    for i in range(60):
        if not flooder.connected:
            break
        try:
            ack = flooder.call("board.post", {"cid": uuid.uuid4().hex, "body": f"spam {i}"}, timeout=1)
        except (socketio.exceptions.TimeoutError, socketio.exceptions.BadNamespaceError):
            continue
        codes.append("ok" if ack["ok"] else ack["error"]["code"])
        if not ack["ok"]:
            assert ack == refusal("rate_limited")
    flooder.wait_for(lambda: not flooder.connected, what="disconnected")
    assert codes[:4] == ["ok"] * 4 and "rate_limited" in codes and set(codes[4:]) <= {"ok", "rate_limited"}
    with app.app_context():
        posted = db.session.execute(
            db.select(db.func.count(Contribution.id)).filter_by(session_id=world.sessions["live"])
        ).scalar()
    assert posted == codes.count("ok") < 20
    assert calm.connected and calm.act("board.post", body="still here")["ok"]
    assert requests.get(slow_server.url + "/healthz", timeout=5).ok
    calm.disconnect()


# --- translated refusals ------------------------------------------------------------------------------------------


def catalog(lang: str):
    return Translations.load(str(BASE_DIR / "translations"), [lang])


UNTRANSLATED = sorted(
    {code for code, text in ENGLISH.items() for lang in ("fr", "ar") if catalog(lang).gettext(text) == text}
)


def test_refusals_reach_each_person_in_their_language(server, data, world):
    with data.app_context():
        db.session.get(User, world.users["participant"]).locale = "fr"
        db.session.get(User, world.users["observer"]).locale = "ar"
        db.session.commit()
    french, arabic = catalog("fr"), catalog("ar")
    mod = member(server, world, "moderator", "closed_live")
    peer = member(server, world, "participant", "closed_live")
    reader = member(server, world, "observer", "closed_live")

    def expect(ack, code, translations=french, **params):
        text = translations.gettext(ENGLISH[code])
        assert ack == {"ok": False, "error": {"code": code, "message": text % params if params else text, **params}}

    expect(peer.act("board.moderate", id=1, action="pin"), "not_allowed")
    assert french.gettext(ENGLISH["not_allowed"]) != ENGLISH["not_allowed"]
    expect(reader.act("board.vote", id=999_999), "not_found", arabic)
    assert arabic.gettext(ENGLISH["not_found"]) != ENGLISH["not_found"]
    expect(peer.call("board.post", {"cid": "abcdefgh12"}), "invalid")
    expect(peer.act("board.post", body=" "), "empty")
    expect(peer.act("board.post", body="x" * 2001), "too_long", limit=2000)
    expect(peer.act("board.post", body="水" * 3000), "too_large")
    expect(peer.act("floor.give"), "not_allowed")
    assert mod.act("board.settings", non_attribution=True, locked=True)["ok"]
    expect(peer.act("board.post", body="x"), "board_locked")
    assert mod.act("board.settings", locked=False, slow_mode_seconds=120)["ok"]
    mine = write(peer, data)
    ack = peer.act("board.post", body="again")
    expect(ack, "slow_mode", seconds=ack["error"].get("seconds"))
    with data.app_context():
        db.session.get(Contribution, mine).created_at -= timedelta(seconds=400)
        db.session.commit()
    expect(peer.act("board.edit", id=mine, body="late"), "edit_window")
    assert mod.act("poll.create", question="Q?", choices=["a", "b"], open=True)["ok"]
    poll = mod.wait_for(lambda: mod.of_type("poll"))[-1]["poll"]["id"]
    assert peer.act("poll.answer", poll_id=poll, choices=[0])["ok"]
    expect(peer.act("poll.answer", poll_id=poll, choices=[0]), "already_answered")
    assert mod.act("room.mute", person=me(peer))["ok"]
    expect(peer.act("hand.raise"), "muted")
    expect(reader.act("poll.answer", poll_id=poll + 1000, choices=[0]), "not_found", arabic)
    assert mod.act("poll.close", poll_id=poll)["ok"]
    expect(reader.act("poll.answer", poll_id=poll, choices=[0]), "poll_closed", arabic)
    assert mod.act("session.end")["ok"]
    expect(reader.act("board.post", body="late"), "board_closed", arabic)
    assert mod.act("room.remove", person=me(reader))["ok"]
    error = connect_refusal(server, reader.http, world.sessions["closed_live"])
    assert error == {"code": "removed", "message": arabic.gettext(ENGLISH["removed"])}


def test_every_board_refusal_is_translated():
    assert UNTRANSLATED == []


# --- 3. the same client id twice ----------------------------------------------------------------------------------


def test_the_same_client_id_twice_applies_once_and_answers_the_same(server, data, world):
    open_ = world.sessions["open_live"]
    mod = member(server, world, "moderator")
    peer = member(server, world, "participant")
    watcher = guest(server, world, "Watcher")
    post = {"cid": "post-" + uuid.uuid4().hex, "body": f"Only once, please {uuid.uuid4().hex}"}
    first = peer.call("board.post", post)
    assert first["ok"] and peer.call("board.post", post) == first
    c = body_id(data, post["body"])  # (a second row would make this fail)
    for action in ("approve", "pin", "hide", "restore"):
        moderate = {"cid": f"{action}-" + uuid.uuid4().hex, "id": c, "action": action}
        once = mod.call("board.moderate", moderate)
        assert once["ok"], once
        assert mod.call("board.moderate", moderate) == once, action
    vote = {"cid": "vote-" + uuid.uuid4().hex, "id": c}
    once = watcher.call("board.vote", vote)
    assert once["ok"] and watcher.call("board.vote", vote) == once
    assert peer.act("board.vote", id=c)["ok"]
    for cid_action in ("board.settings", "hand.raise"):
        payload = {
            "cid": "again-" + uuid.uuid4().hex,
            **({"slow_mode_seconds": 5} if cid_action == "board.settings" else {}),
        }
        assert mod.call(cid_action, payload) == mod.call(cid_action, payload)
    last = mod.act("board.highlight", id=c)["seq"]
    watcher.wait_for(lambda: watcher.last_seq == last, what="everything")
    assert shown(watcher)["contributions"][c]["votes"] == 2
    with data.app_context():
        assert db.session.get(Contribution, c).votes == 2
        log = db.session.execute(db.select(ModerationEntry.action).filter_by(session_id=open_)).scalars().all()
        assert log == ["approve", "pin", "hide", "restore", "set_slow_mode_seconds", "highlight"]
        events = db.session.execute(db.select(SessionEvent).filter_by(session_id=open_)).scalars().all()
        assert len({e.seq for e in events}) == len(events) == last
    for client in (mod, watcher):
        seqs = [e["seq"] for e in client.events]
        assert seqs == sorted(set(seqs))  # no event twice


# --- 4. reconnecting and joining late -----------------------------------------------------------------------------


@pytest.mark.parametrize("non_attribution", [False, True])
def test_reconnecting_and_joining_late_show_the_same_board_as_staying(server, data, world, non_attribution):
    session = "closed_live"
    mod = member(server, world, "moderator", session)
    stayer = member(server, world, "participant", session)
    leaver = member(server, world, "observer", session)
    assert mod.act("board.settings", premoderation=True, non_attribution=non_attribution)["ok"]
    kept = write(stayer, data)
    to_hide = write(stayer, data)
    assert mod.act("board.moderate", id=kept, action="approve")["ok"]
    assert mod.act("board.moderate", id=to_hide, action="approve")["ok"]
    seen = mod.act("board.highlight", id=to_hide)["seq"]
    leaver.wait_for(lambda: leaver.last_seq == seen, what="the board so far")
    leaver.disconnect()

    # Missed: new posts approved and rejected, votes, a hide (which clears the highlight), a pin, an edit that goes
    # back to moderation, a withdrawal, a reply, the speaker queue, a mute.
    late_post = write(stayer, data)
    rejected = write(stayer, data)
    reply = write(mod, data, parent_id=kept)
    assert mod.act("board.moderate", id=late_post, action="approve")["ok"]
    assert mod.act("board.moderate", id=rejected, action="reject", reason="Please rephrase")["ok"]
    assert stayer.act("board.edit", id=rejected, body="Rephrased")["ok"]
    assert mod.act("board.vote", id=kept)["ok"] and stayer.act("board.vote", id=kept)["ok"]
    assert mod.act("board.moderate", id=to_hide, action="hide")["ok"]
    assert mod.act("board.moderate", id=kept, action="pin")["ok"]
    assert mod.act("board.moderate", id=late_post, action="answer")["ok"]
    assert stayer.act("board.edit", id=late_post, body="Edited after approval")["ok"]  # back to pending
    withdrawn = write(stayer, data)
    assert mod.act("board.moderate", id=withdrawn, action="approve")["ok"]
    assert stayer.act("board.withdraw", id=withdrawn)["ok"]
    assert stayer.act("hand.raise")["ok"] and mod.act("floor.give")["ok"]
    assert mod.act("room.mute", person=f"u:{world.users['note_taker']}")["ok"]
    last = mod.act("board.moderate", id=reply, action="answer")["seq"]
    for client in (mod, stayer):
        client.wait_for(lambda c=client: c.last_seq == last, what="everything")

    leaver.reconnect()  # since = the last event it saw
    welcome = leaver.welcomes[0]
    assert "snapshot" not in welcome
    with data.app_context():
        missed = (
            db.session.execute(
                db.select(SessionEvent.seq)
                .filter(SessionEvent.session_id == world.sessions[session], SessionEvent.seq > seen)
                .filter(SessionEvent.audience == "all")
                .order_by(SessionEvent.seq)
            )
            .scalars()
            .all()
        )
    assert [e["seq"] for e in welcome["events"]] == missed
    assert shown(leaver) == shown(stayer)
    assert shown(leaver)["settings"]["highlighted_id"] is None  # the hidden one is no longer highlighted
    assert set(shown(leaver)["contributions"]) == {kept, reply}
    assert_chain(leaver)
    assert_no_moderators_only(leaver, non_attribution)

    late = member(server, world, "note_taker", session)
    assert from_snapshot(late.welcomes[0]) == shown(stayer)
    late_mod = member(server, world, "coordinator", session)
    assert from_snapshot(late_mod.welcomes[0]) == shown(mod)
    assert shown(mod)["contributions"][rejected]["status"] == "pending"
    if non_attribution:
        assert all("author" not in c for c in shown(stayer)["contributions"].values())
        # Turning it off gives everyone the names of what they already have, in the same event.
        off = mod.act("board.settings", non_attribution=False)["seq"]
        event = leaver.wait_for(lambda: [e for e in leaver.events if e["seq"] == off])[0]
        assert set(event["data"]["authors"]) == {str(kept), str(reply)}
        assert all(c["author"]["name"] for c in shown(leaver)["contributions"].values())
        assert from_snapshot(member(server, world, "note_taker", session).welcomes[0]) == shown(leaver)
    else:
        assert all(c["author"]["name"] for c in shown(stayer)["contributions"].values())
    # Private state comes back too: the author's own posts (the withdrawn one gone), their hand.
    stayer.disconnect()
    stayer.reconnect()
    personal = stayer.welcomes[0]["personal"]
    assert {c["id"] for c in personal["contributions"]} == {kept, to_hide, late_post, rejected}
    assert personal["hand"]["status"] == "speaking" and personal["votes"] == [kept]


def test_turning_non_attribution_on_hides_names_from_then_on(server, data, world):
    mod = member(server, world, "moderator", "closed_live")
    peer = member(server, world, "participant", "closed_live")
    named = write(peer, data)
    assert mod.act("board.settings", non_attribution=True)["ok"]
    unnamed = write(peer, data)
    peer.wait_for(lambda: unnamed in shown(peer)["contributions"])
    late = member(server, world, "observer", "closed_live")
    board = {c["id"]: c for c in late.welcomes[0]["snapshot"]["board"]["contributions"]}
    assert "author" not in board[named] and "author" not in board[unnamed]
    assert shown(peer) == from_snapshot(late.welcomes[0])
    assert all(c["author"] for c in shown(mod)["contributions"].values())


# --- 5. the speaker queue -------------------------------------------------------------------------------------------


def set_profile(data, world, kind, side=None, country=None, gender=None):
    with data.app_context():
        user = db.session.get(User, world.users[kind])
        user.country, user.gender = country, gender
        if side:
            db.session.execute(
                db.update(Membership).filter_by(user_id=user.id, exchange_id=world.exchange_id).values(side=side)
            )
        db.session.commit()


def hand_of(client) -> dict | None | str:
    """The raised hand in this person's latest `personal` ("nothing yet" before the first one)."""
    hands = [p["hand"] for p in client.of("personal") if "hand" in p]
    return hands[-1] if hands else "nothing yet"


def queue(client) -> dict:
    return shown(client)["speakers"]


def waiting(client) -> list[str]:
    return [t["person"] for t in queue(client)["waiting"]]


def test_the_speaker_queue_fair_floor_time_limit_and_stats(server, data, world):
    session = "closed_live"
    set_profile(data, world, "participant", "seeking", "KE", "woman")
    set_profile(data, world, "observer", "seeking", "KE", None)
    set_profile(data, world, "note_taker", "providing", "CO", "man")
    set_profile(data, world, "coordinator", "providing", "CO", "")
    mod = member(server, world, "moderator", session)
    people = {
        kind: member(server, world, kind, session) for kind in ("participant", "observer", "note_taker", "coordinator")
    }
    ids = {kind: me(client) for kind, client in people.items()}
    invite(data, world, session)
    watcher = member(server, world, "invitee", session)

    # First come, first served.
    for kind in ("participant", "observer", "note_taker"):
        assert people[kind].act("hand.raise")["ok"]
    assert people["participant"].act("hand.raise") == {"ok": True}  # once: a second hand changes nothing
    order = [ids["participant"], ids["observer"], ids["note_taker"]]
    watcher.wait_for(lambda: waiting(watcher) == order, what="fifo")
    assert [t["side"] for t in queue(watcher)["waiting"]] == ["seeking", "seeking", "providing"]
    assert queue(watcher)["speaking"] is None
    # Alternating sides: the providing peer moves up after the first seeker.
    last = mod.act("board.settings", alternate_sides=True)["seq"]
    watcher.wait_for(lambda: watcher.last_seq == last)
    assert mod.act("floor.give")["ok"]
    watcher.wait_for(lambda: (queue(watcher)["speaking"] or {}).get("person") == ids["participant"], what="floor")
    assert waiting(watcher) == [ids["note_taker"], ids["observer"]]
    speaking = queue(watcher)["speaking"]
    assert speaking["ends_at"] is None and speaking["started_at"] and speaking["name"]
    speaker = people["participant"]
    speaker.wait_for(lambda: (hand_of(speaker) or {}).get("status") == "speaking", what="my turn")
    # Next: the fair order's first; with a time limit, an end time for everyone to see.
    assert mod.act("board.settings", speaker_seconds=90)["ok"]
    assert mod.act("floor.give")["ok"]
    watcher.wait_for(lambda: (queue(watcher)["speaking"] or {}).get("person") == ids["note_taker"], what="next")
    speaking = queue(watcher)["speaking"]
    started, ends = (datetime.fromisoformat(speaking[k].removesuffix("Z")) for k in ("started_at", "ends_at"))
    assert (ends - started).total_seconds() == 90
    # New speakers first: the participant who spoke raises again and goes behind the observer and the coordinator.
    assert mod.act("board.settings", new_speakers_first=True, alternate_sides=False, speaker_seconds=0)["ok"]
    assert people["participant"].act("hand.raise")["ok"]
    assert people["coordinator"].act("hand.raise")["ok"]
    watcher.wait_for(
        lambda: waiting(watcher) == [ids["observer"], ids["coordinator"], ids["participant"]], what="new first"
    )
    # Giving the floor to a particular hand, out of order; ending a turn; lowering hands.
    hand = {t["person"]: t["id"] for t in queue(watcher)["waiting"]}
    assert mod.act("floor.give", turn_id=hand[ids["coordinator"]])["ok"]
    watcher.wait_for(lambda: (queue(watcher)["speaking"] or {}).get("person") == ids["coordinator"], what="chosen")
    assert queue(watcher)["speaking"]["ends_at"] is None  # the limit was removed
    assert mod.act("floor.give", turn_id=hand[ids["coordinator"]]) == refusal("not_found")  # not waiting any more
    assert mod.act("floor.end")["ok"]
    watcher.wait_for(lambda: queue(watcher)["speaking"] is None, what="turn ended")
    assert people["observer"].act("hand.lower")["ok"]  # one's own
    assert mod.act("hand.lower", turn_id=hand[ids["participant"]])["ok"]  # a moderator, anyone's
    watcher.wait_for(lambda: waiting(watcher) == [], what="empty queue")
    speaker.wait_for(lambda: hand_of(speaker) is None, what="hand lowered by a moderator")
    assert people["observer"].act("hand.lower") == {"ok": True}  # nothing raised: nothing to do
    # Speaking as a turn of one's own ends with hand.lower too.
    assert people["observer"].act("hand.raise")["ok"] and mod.act("floor.give")["ok"]
    assert people["observer"].act("hand.lower")["ok"]
    watcher.wait_for(lambda: queue(watcher)["speaking"] is None and waiting(watcher) == [], what="own turn ended")

    # The record, by side, country and gender (as given), for moderators only, live and in their snapshot.
    stats = mod.wait_for(
        lambda: [s for s in mod.of_type("speakers.stats") if s["stats"]["total"]["turns"] >= 4], what="four turns"
    )[-1]["stats"]
    assert stats["total"]["turns"] == 4
    assert {k: v["turns"] for k, v in stats["by_side"].items()} == {"seeking": 2, "providing": 2}
    assert {k: v["turns"] for k, v in stats["by_country"].items()} == {"KE": 2, "CO": 2}
    assert {k: v["turns"] for k, v in stats["by_gender"].items()} == {"woman": 1, "man": 1, "": 2}
    assert all(v["seconds"] >= 0 for v in stats["by_side"].values())
    assert sum(v["seconds"] for v in stats["by_side"].values()) == stats["total"]["seconds"]
    assert member(server, world, "coordinator", session).welcomes[0]["snapshot"]["speaker_stats"] == stats
    assert "speaker_stats" not in watcher.welcomes[0]["snapshot"]
    assert_no_moderators_only(watcher)
    with data.app_context():
        turns = (
            db.session.execute(
                db.select(SpeakerTurn).filter_by(session_id=world.sessions[session]).order_by(SpeakerTurn.id)
            )
            .scalars()
            .all()
        )
        assert [(t.person, t.status) for t in turns if t.started_at] == [
            (ids["participant"], "done"),
            (ids["note_taker"], "done"),
            (ids["coordinator"], "done"),
            (ids["observer"], "done"),
        ]
        limited = [t for t in turns if t.person == ids["note_taker"]][0]
        assert limited.time_limit == 90 and limited.country == "CO" and limited.gender == "man"


def test_the_queue_closes_when_the_session_ends(server, data, world):
    mod = member(server, world, "moderator", "closed_live")
    peers = [member(server, world, kind, "closed_live") for kind in ("participant", "observer")]
    for peer in peers:
        assert peer.act("hand.raise")["ok"]
    assert mod.act("floor.give")["ok"]
    end = mod.act("session.end")
    assert end["ok"]
    peers[1].wait_for(lambda: queue(peers[1]) == {"speaking": None, "waiting": []}, what="closed queue")
    assert [e["type"] for e in peers[1].events[-2:]] == ["session.status", "speakers"]
    assert peers[0].act("hand.raise") == refusal("not_live")
    with data.app_context():
        statuses = (
            db.session.execute(
                db.select(SpeakerTurn.status)
                .filter_by(session_id=world.sessions["closed_live"])
                .order_by(SpeakerTurn.id)
            )
            .scalars()
            .all()
        )
        assert statuses == ["done", "lowered"]
    assert member(server, world, "note_taker", "closed_live").welcomes[0]["snapshot"]["speakers"] == {
        "speaking": None,
        "waiting": [],
    }


# --- 6. quick polls -------------------------------------------------------------------------------------------------


def polls_of(client) -> dict[int, dict]:
    """Polls as a client shows them: the welcome's list, then `poll` events merged by id."""
    polls = {p["id"]: dict(p) for p in client.welcomes[0]["polls"]}
    for data in client.of_type("poll"):
        poll = data["poll"]
        if poll.get("deleted"):
            polls.pop(poll["id"], None)
        else:
            polls.setdefault(poll["id"], {}).update(poll)
    return polls


def results_of(client, poll_id: int) -> list[dict]:
    return [r for r in client.of("poll.results") if r["id"] == poll_id]


def new_poll(mod, **fields) -> int:
    before = {p["poll"]["id"] for p in mod.of_type("poll")}
    assert mod.act("poll.create", **{"question": "Which way?", "choices": ["North", "South", "East"], **fields})["ok"]
    return mod.wait_for(lambda: [p["poll"]["id"] for p in mod.of_type("poll") if p["poll"]["id"] not in before])[0]


def test_drafts_are_for_moderators_until_opened(server, data, world):
    mod = member(server, world, "moderator", "closed_live")
    peer = member(server, world, "participant", "closed_live")
    draft = new_poll(mod)
    doomed = new_poll(mod, question="Never asked?")
    assert polls_of(mod)[draft]["status"] == "draft"
    assert member(server, world, "coordinator", "closed_live").welcomes[0]["polls"][0]["id"] == draft
    late = member(server, world, "observer", "closed_live")
    assert late.welcomes[0]["polls"] == [] and draft not in polls_of(peer)
    assert mod.act("poll.delete", poll_id=doomed)["ok"]
    mod.wait_for(lambda: doomed not in polls_of(mod), what="deleted")
    opened = mod.act("poll.open", poll_id=draft)["seq"]
    peer.wait_for(lambda: peer.last_seq == opened, what="opened")
    poll = polls_of(peer)[draft]
    assert poll["status"] == "open" and poll["choices"] == ["North", "South", "East"] and "results" not in poll
    assert member(server, world, "note_taker", "closed_live").welcomes[0]["polls"][0]["status"] == "open"
    assert_no_moderators_only(peer)
    with data.app_context():
        assert db.session.get(Poll, doomed) is None


def test_single_and_multiple_choice_anonymous_and_named(server, data, world):
    mod = member(server, world, "moderator", "closed_live")
    peer = member(server, world, "participant", "closed_live")
    single = new_poll(mod, open=True)
    multiple = new_poll(mod, question="Which ones?", multiple=True, anonymous=False, open=True)
    assert peer.act("poll.answer", poll_id=single, choices=[0, 2]) == refusal("invalid")
    assert peer.act("poll.answer", poll_id=multiple, choices=[0, 0]) == refusal("invalid")
    assert peer.act("poll.answer", poll_id=single, choices=[2]) == {"ok": True}  # after_close: no results yet
    assert peer.act("poll.answer", poll_id=multiple, choices=[2, 0]) == {"ok": True}
    assert mod.act("poll.answer", poll_id=multiple, choices=[1])["results"] == {"counts": [1, 1, 1], "voters": 2}
    personal = peer.wait_for(lambda: [p for p in peer.of("personal") if len(p.get("polls", [])) == 2])[-1]
    assert personal["polls"] == [{"id": single}, {"id": multiple, "choices": [0, 2]}]  # anonymous: no choices kept
    with data.app_context():
        anonymous_voters = db.session.execute(db.select(PollVoter).filter_by(poll_id=single)).scalars().all()
        assert [(v.person, v.name) for v in anonymous_voters] == [(None, None)]
        assert me(peer) not in anonymous_voters[0].voter_key
        anonymous_choices = db.session.execute(db.select(PollChoice).filter_by(poll_id=single)).scalars().all()
        assert [(c.choice, c.voter_id) for c in anonymous_choices] == [(2, None)]
        named = {v.person: v for v in db.session.execute(db.select(PollVoter).filter_by(poll_id=multiple)).scalars()}
        assert set(named) == {me(peer), me(mod)} and named[me(peer)].name == peer.welcomes[0]["you"]["name"]
        chosen = (
            db.session.execute(
                db.select(PollChoice.choice)
                .filter_by(poll_id=multiple, voter_id=named[me(peer)].id)
                .order_by(PollChoice.choice)
            )
            .scalars()
            .all()
        )
        assert chosen == [0, 2]
    # Reconnecting: still answered (once), in both kinds of poll.
    peer.disconnect()
    peer.reconnect()
    assert peer.welcomes[0]["personal"]["polls"] == personal["polls"]
    assert peer.act("poll.answer", poll_id=single, choices=[1]) == refusal("already_answered")


def test_results_are_shown_when_the_moderator_chose(server, data, world):
    mod = member(server, world, "moderator", "closed_live")
    first = member(server, world, "participant", "closed_live")
    second = member(server, world, "observer", "closed_live")
    live = new_poll(mod, show_results="live", open=True)
    after_answer = new_poll(mod, show_results="after_answer", open=True)
    after_close = new_poll(mod, show_results="after_close", open=True)
    second.wait_for(lambda: after_close in polls_of(second), what="three open polls")

    assert polls_of(second)[live]["results"] == {"counts": [0, 0, 0], "voters": 0}  # in the opening event
    assert "results" not in polls_of(second)[after_answer] and "results" not in polls_of(second)[after_close]
    assert first.act("poll.answer", poll_id=live, choices=[0]) == {
        "ok": True,
        "results": {"counts": [1, 0, 0], "voters": 1},
    }
    second.wait_for(lambda: results_of(second, live), what="live results")  # without answering
    assert first.act("poll.answer", poll_id=after_answer, choices=[1]) == {
        "ok": True,
        "results": {"counts": [0, 1, 0], "voters": 1},
    }
    assert first.act("poll.answer", poll_id=after_close, choices=[2]) == {"ok": True}
    mod.wait_for(lambda: results_of(mod, after_answer) and results_of(mod, after_close), what="moderators' results")
    # The second participant answers after_answer: from then on they get its results, the first one too.
    assert second.act("poll.answer", poll_id=after_answer, choices=[1])["results"] == {"counts": [0, 2, 0], "voters": 2}
    first.wait_for(lambda: [r for r in results_of(first, after_answer) if r["voters"] == 2], what="after answering")
    time.sleep(1.2)  # room for a coalesced message that must not come
    assert results_of(second, after_close) == [] and results_of(first, after_close) == []
    assert results_of(second, after_answer) == [] or all(r["voters"] == 2 for r in results_of(second, after_answer))
    # What a welcome carries to each, by mode.
    fresh = {p["id"]: p for p in member(server, world, "note_taker", "closed_live").welcomes[0]["polls"]}
    assert fresh[live]["results"]["voters"] == 1 and "results" not in fresh[after_answer]
    assert "results" not in fresh[after_close]
    first.disconnect()
    first.reconnect()
    again = {p["id"]: p for p in first.welcomes[0]["polls"]}
    assert again[after_answer]["results"]["voters"] == 2 and "results" not in again[after_close]
    mods = {p["id"]: p for p in member(server, world, "coordinator", "closed_live").welcomes[0]["polls"]}
    assert all("results" in p for p in mods.values())
    # Closing shows everyone the results, in the closing event.
    closed = mod.act("poll.close", poll_id=after_close)["seq"]
    second.wait_for(lambda: second.last_seq == closed, what="closed")
    assert polls_of(second)[after_close]["results"] == {"counts": [0, 0, 1], "voters": 1}
    assert polls_of(second)[after_close]["status"] == "closed"
    assert_no_moderators_only(second)


def test_results_are_coalesced_and_polls_close_with_the_session(server, data, world):
    mod = member(server, world, "moderator")
    poll = new_poll(mod, show_results="live", multiple=True, open=True)
    other = new_poll(mod, question="And this?", open=True)
    voters = [guest(server, world, f"Voter {i}") for i in range(12)]
    watcher = member(server, world, "participant")
    start = len(results_of(watcher, poll))
    acks: list[dict] = []
    threads = [
        threading.Thread(target=lambda v=v, i=i: acks.append(v.act("poll.answer", poll_id=poll, choices=[i % 3])))
        for i, v in enumerate(voters)
    ]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - began
    assert all(a["ok"] for a in acks) and len(acks) == 12
    final = watcher.wait_for(lambda: [r for r in results_of(watcher, poll) if r["voters"] == 12], what="final counts")
    assert final[-1]["counts"] == [4, 4, 4]
    sent = len(results_of(watcher, poll)) - start
    assert sent < 12 and sent <= elapsed + 3, (sent, elapsed)  # one at once, then at most one a second
    counts = [r["voters"] for r in results_of(watcher, poll)]
    assert counts == sorted(counts)
    assert voters[0].act("poll.answer", poll_id=other, choices=[1])["ok"]
    end = mod.act("session.end")
    assert end["ok"]
    closing = watcher.wait_for(
        lambda: [e for e in watcher.events if e["type"] == "poll" and e["data"]["poll"]["status"] == "closed"],
        what="closed polls",
    )
    watcher.wait_for(
        lambda: len([e for e in watcher.events if e["type"] == "poll" and e["data"]["poll"]["status"] == "closed"]) == 2
    )
    closed = {
        e["data"]["poll"]["id"]: e["data"]["poll"]
        for e in watcher.events
        if e["type"] == "poll" and e["data"]["poll"]["status"] == "closed"
    }
    assert closed[poll]["results"] == {"counts": [4, 4, 4], "voters": 12}
    assert closed[other]["results"] == {"counts": [0, 1, 0], "voters": 1}
    assert closing and voters[1].act("poll.answer", poll_id=other, choices=[0]) == refusal("poll_closed")
    for v in voters:
        v.disconnect()


# --- 7. pre-moderation, threads, highlight, lock -------------------------------------------------------------------


def test_premoderation_default_edit_withdraw_replies_highlight(server, data, world):
    open_mod = member(server, world, "moderator")
    assert open_mod.welcomes[0]["snapshot"]["board"]["settings"]["premoderation"] is True
    mod = member(server, world, "moderator", "closed_live")
    assert mod.welcomes[0]["snapshot"]["board"]["settings"]["premoderation"] is False
    author = member(server, world, "participant", "closed_live")
    reader = member(server, world, "observer", "closed_live")
    root = write(author, data)
    reader.wait_for(lambda: root in shown(reader)["contributions"], what="at once without pre-moderation")

    assert mod.act("board.settings", premoderation=True)["ok"]
    held = write(reader, data, parent_id=root)
    mod.wait_for(lambda: shown(mod)["contributions"].get(held, {}).get("status") == "pending", what="in the queue")
    assert held not in shown(author)["contributions"]
    assert author.act("board.post", body="reply to a pending one", parent_id=held) == refusal("not_found")
    assert mod.act("board.moderate", id=held, action="approve")["ok"]
    author.wait_for(lambda: held in shown(author)["contributions"], what="approved")
    # A reply to a reply joins the thread of the first (one level deep), under its agenda item.
    nested = write(mod, data, parent_id=held)  # moderators are not held
    author.wait_for(lambda: nested in shown(author)["contributions"], what="reply")
    assert shown(author)["contributions"][nested]["parent_id"] == root
    assert shown(author)["contributions"][held]["parent_id"] == root
    on_item = write(mod, data, item_id=world.items["closed_live"][1])
    reply = write(mod, data, parent_id=on_item, item_id=world.items["closed_live"][2])
    author.wait_for(lambda: reply in shown(author)["contributions"])
    board = shown(author)["contributions"]
    assert board[on_item]["item_id"] == board[reply]["item_id"] == world.items["closed_live"][1]
    assert board[root]["item_id"] is None  # the general thread

    # An approved contribution edited under pre-moderation goes back to the queue and off everyone's board.
    assert mod.act("board.moderate", id=root, action="approve") == refusal("invalid")
    assert author.act("board.edit", id=root, body="Reworded")["ok"]
    reader.wait_for(lambda: root not in shown(reader)["contributions"], what="gone back to moderation")
    mod.wait_for(lambda: shown(mod)["contributions"][root]["status"] == "pending", what="pending for moderators")
    author.wait_for(
        lambda: [c["status"] for c in last_personal(author)["contributions"] if c["id"] == root] == ["pending"],
        what="pending for its author",
    )
    assert mod.act("board.moderate", id=root, action="approve")["ok"]
    reader.wait_for(lambda: "Reworded" in shown(reader)["contributions"].get(root, {}).get("body_html", ""))
    assert shown(reader)["contributions"][root]["edited"] is True

    # Highlight, then hiding it clears the highlight for everyone; restore brings it back (not highlighted).
    assert mod.act("board.highlight", id=held)["ok"]
    reader.wait_for(lambda: shown(reader)["settings"]["highlighted_id"] == held, what="highlighted")
    assert mod.act("board.highlight", id=999_999) == refusal("not_found")
    hidden = mod.act("board.moderate", id=held, action="hide")["seq"]
    reader.wait_for(lambda: held not in shown(reader)["contributions"], what="hidden")
    reader.wait_for(lambda: shown(reader)["settings"]["highlighted_id"] is None, what="no longer highlighted")
    assert [e["type"] for e in reader.events if e["seq"] >= hidden] == ["contribution", "board.settings"]
    mod.wait_for(lambda: shown(mod)["contributions"][held]["hidden"] is True, what="hidden for moderators")
    assert mod.act("board.highlight", id=held) == refusal("invalid")  # not on the board
    assert mod.act("board.moderate", id=held, action="restore")["ok"]
    reader.wait_for(lambda: held in shown(reader)["contributions"], what="restored")
    assert mod.act("board.highlight", id=held)["ok"] and mod.act("board.highlight")["ok"]
    reader.wait_for(
        lambda: (
            reader.events[-1]["type"] == "board.settings"
            and reader.events[-1]["data"]["settings"]["highlighted_id"] is None
        )
    )
    # Withdrawing: gone for everyone, moderators included; highlight cleared too.
    assert mod.act("board.highlight", id=root)["ok"]
    assert author.act("board.withdraw", id=root)["ok"]
    reader.wait_for(lambda: root not in shown(reader)["contributions"], what="withdrawn")
    mod.wait_for(lambda: root not in shown(mod)["contributions"], what="withdrawn for moderators")
    reader.wait_for(lambda: shown(reader)["settings"]["highlighted_id"] is None, what="withdrawn highlight")
    assert from_snapshot(member(server, world, "note_taker", "closed_live").welcomes[0]) == shown(reader)
    # The thread's replies leave with it (a reply out of context would tell what the thread was).
    assert held not in shown(reader)["contributions"] and nested not in shown(reader)["contributions"]
    # Answered, pinned: flags for everyone.
    assert (
        mod.act("board.moderate", id=on_item, action="answer")["ok"]
        and mod.act("board.moderate", id=on_item, action="pin")["ok"]
    )
    reader.wait_for(
        lambda: (
            shown(reader)["contributions"][on_item]["pinned"] and shown(reader)["contributions"][on_item]["answered"]
        )
    )
    assert (
        mod.act("board.moderate", id=on_item, action="unanswer")["ok"]
        and mod.act("board.moderate", id=on_item, action="unpin")["ok"]
    )
    reader.wait_for(
        lambda: (
            not shown(reader)["contributions"][on_item]["pinned"]
            and not shown(reader)["contributions"][on_item]["answered"]
        )
    )
    with data.app_context():
        log = db.session.execute(
            db.select(ModerationEntry.action, ModerationEntry.contribution_id, ModerationEntry.actor)
            .filter_by(session_id=world.sessions["closed_live"])
            .order_by(ModerationEntry.id)
        ).all()
    assert [r[0] for r in log] == [
        "set_premoderation",
        "approve",
        "approve",
        "highlight",
        "hide",
        "restore",
        "highlight",
        "unhighlight",
        "highlight",
        "answer",
        "pin",
        "unanswer",
        "unpin",
    ]
    assert {r[2] for r in log} == {me(mod)}
    assert_no_moderators_only(reader)
    assert_no_moderators_only(author)
