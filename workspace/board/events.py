"""Socket.IO actions of the board, the speaker queue and polls. Thin: validate the shape, call a service."""

from __future__ import annotations

from typing import Annotated

from flask import request
from pydantic import Field, StringConstraints

from ..realtime.actions import live_action
from ..realtime.protocol import MAX_PAYLOAD_BYTES, NoArgs, Payload
from . import moderation, people, polls, services, speakers

Id = Annotated[int, Field(ge=1, le=2**31)]
Person = Annotated[str, StringConstraints(pattern=r"^[ug]:[0-9]{1,10}$")]
# Lengths are checked by the services, with a message that says the limit; the payload's size (8 KiB) bounds
# these, so a long text is refused as too_long (or too_large), never as a mere "invalid".
Text = Annotated[str, StringConstraints(max_length=MAX_PAYLOAD_BYTES)]
ShortText = Annotated[str, StringConstraints(max_length=MAX_PAYLOAD_BYTES)]


class Post(Payload):
    body: Text
    item_id: Id | None = None
    parent_id: Id | None = None


class Edit(Payload):
    id: Id
    body: Text


class ContributionRef(Payload):
    id: Id


class VotePayload(Payload):
    id: Id
    support: bool = True


class Moderate(Payload):
    id: Id
    action: Annotated[str, StringConstraints(pattern=r"^(approve|reject|hide|restore|pin|unpin|answer|unanswer)$")]
    reason: ShortText = ""


class Highlight(Payload):
    id: Id | None = None


class Settings(Payload):
    premoderation: bool | None = None
    locked: bool | None = None
    slow_mode_seconds: int | None = Field(default=None, ge=0, le=3600)
    non_attribution: bool | None = None
    alternate_sides: bool | None = None
    new_speakers_first: bool | None = None
    speaker_seconds: int | None = Field(default=None, ge=0, le=3600)  # 0: no limit


class PersonRef(Payload):
    person: Person


class Mute(Payload):
    person: Person
    on: bool = True


class TurnRef(Payload):
    turn_id: Id | None = None


class NewPoll(Payload):
    question: ShortText
    choices: Annotated[list[ShortText], Field(min_length=1, max_length=20)]
    multiple: bool = False
    anonymous: bool = True
    show_results: Annotated[str, StringConstraints(pattern=r"^(live|after_answer|after_close)$")] = "after_close"
    item_id: Id | None = None
    open: bool = False


class PollRef(Payload):
    poll_id: Id


class Answer(Payload):
    poll_id: Id
    choices: Annotated[list[Annotated[int, Field(ge=0, le=100)]], Field(min_length=1, max_length=20)]


# --- contributions -------------------------------------------------------------------------------------------------


@live_action("board.post", Post)
def post(session, viewer, data):
    return services.post(session, viewer, data.body, data.item_id, data.parent_id, data.cid)


@live_action("board.edit", Edit)
def edit(session, viewer, data):
    return services.edit(session, viewer, data.id, data.body, data.cid)


@live_action("board.withdraw", ContributionRef)
def withdraw(session, viewer, data):
    return services.withdraw(session, viewer, data.id, data.cid)


@live_action("board.vote", VotePayload)
def vote(session, viewer, data):
    return services.vote(session, viewer, data.id, data.support, data.cid)


@live_action("board.moderate", Moderate, moderator=True)
def moderate(session, viewer, data):
    return moderation.moderate(session, viewer, data.id, data.action, data.reason, data.cid)


@live_action("board.highlight", Highlight, moderator=True)
def highlight(session, viewer, data):
    return moderation.highlight(session, viewer, data.id, data.cid)


@live_action("board.settings", Settings, moderator=True)
def configure(session, viewer, data):
    changes = data.model_dump(exclude={"cid"}, exclude_none=True)
    if "speaker_seconds" in changes:
        changes["speaker_seconds"] = changes["speaker_seconds"] or None
    return moderation.configure(session, viewer, changes, data.cid)


# --- people --------------------------------------------------------------------------------------------------------


@live_action("room.mute", Mute, moderator=True)
def mute(session, viewer, data):
    return people.mute(session, viewer, data.person, data.on, data.cid)


@live_action("room.remove", PersonRef, moderator=True)
def remove(session, viewer, data):
    return people.remove(session, viewer, data.person, data.cid)


@live_action("room.readmit", PersonRef, moderator=True)
def readmit(session, viewer, data):
    return people.readmit(session, viewer, data.person, data.cid)


# --- the speaker queue ---------------------------------------------------------------------------------------------


@live_action("hand.raise", NoArgs)
def raise_hand(session, viewer, data):
    return speakers.raise_hand(session, viewer, data.cid)


@live_action("hand.lower", TurnRef)
def lower_hand(session, viewer, data):
    return speakers.lower_hand(session, viewer, data.turn_id, data.cid)


@live_action("floor.give", TurnRef, moderator=True)
def give_floor(session, viewer, data):
    return speakers.give_floor(session, viewer, data.turn_id, data.cid)


@live_action("floor.end", NoArgs, moderator=True)
def end_turn(session, viewer, data):
    return speakers.end_turn(session, viewer, data.cid)


# --- polls ---------------------------------------------------------------------------------------------------------


@live_action("poll.create", NewPoll, moderator=True)
def create_poll(session, viewer, data):
    return polls.create(
        session,
        viewer,
        data.question,
        data.choices,
        data.multiple,
        data.anonymous,
        data.show_results,
        data.item_id,
        data.open,
        data.cid,
    )


@live_action("poll.open", PollRef, moderator=True)
def open_poll(session, viewer, data):
    return polls.open_poll(session, viewer, data.poll_id, data.cid)


@live_action("poll.close", PollRef, moderator=True)
def close_poll(session, viewer, data):
    return polls.close_poll(session, viewer, data.poll_id, data.cid)


@live_action("poll.delete", PollRef, moderator=True)
def delete_poll(session, viewer, data):
    return polls.delete_draft(session, viewer, data.poll_id, data.cid)


@live_action("poll.answer", Answer)
def answer(session, viewer, data):
    return polls.answer(session, viewer, data.poll_id, data.choices, request.sid, data.cid)
