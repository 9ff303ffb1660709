"""The wire contract: error codes with translated messages, acknowledgements, payload checks."""

from __future__ import annotations

import json
from typing import Annotated, Any

from flask_babel import gettext as _
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

MAX_PAYLOAD_BYTES = 8 * 1024

ClientId = Annotated[str, StringConstraints(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class Refused(Exception):
    """An action the server will not carry out; becomes a refusal acknowledgement."""

    def __init__(self, code: str, **params: Any):
        super().__init__(code)
        self.code = code
        self.params = params


def messages() -> dict[str, str]:
    """Human-readable text per code, in the language of the person connected."""
    return {
        "not_allowed": _("You are not allowed to do this."),
        "invalid": _("This request is not valid."),
        "too_large": _("This is too large to send."),
        "rate_limited": _("You are sending too fast. Wait a moment and try again."),
        "not_live": _("The session is not live."),
        "not_found": _("This no longer exists."),
        "room_full": _("The session is full."),
        "no_guests": _("This session does not admit guests."),
        "server_error": _("Something went wrong on the server. Try again."),
        "removed": _("A moderator has removed you from this session."),
        "muted": _("A moderator has muted you: you can follow the session but not post or ask to speak."),
        "board_locked": _("The board is locked: it can be read but not added to."),
        "board_closed": _("The board is closed: the session has ended."),
        "slow_mode": _("Slow mode is on: wait %(seconds)d seconds before contributing again."),
        "empty": _("Write something first."),
        "too_long": _("This is too long: at most %(limit)d characters."),
        "edit_window": _("This can no longer be changed: the time for edits has passed."),
        "not_closed": _("Non-attribution is only for closed sessions."),
        "queue_empty": _("Nobody is waiting to speak."),
        "poll_choices": _("A poll needs between 2 and 10 different choices."),
        "poll_closed": _("This poll is not open."),
        "already_answered": _("You have already answered this poll."),
        "notes_read_only": _("You can follow these notes but not edit them."),
        "notes_malformed": _("This change to the notes could not be read, so it was not saved."),
        "notes_too_large": _("The notes are too large to take this change."),
        "notes_not_joined": _("Open the notes before sending changes."),
        "not_ended": _("The notes can be published once the session has ended."),
    }


def refusal(code: str, **params: Any) -> dict:
    message = messages().get(code, code)
    if params:
        message = message % params  # e.g. %(seconds)d in the slow-mode message
    return {"ok": False, "error": {"code": code, "message": message, **params}}


def success(seq: int | None = None, **extra: Any) -> dict:
    body = {"ok": True}
    if seq is not None:
        body["seq"] = seq
    body.update(extra)
    return body


class Payload(BaseModel):
    """Every client action carries its own id (`cid`) so a retry is recognised and applied once."""

    model_config = ConfigDict(extra="forbid", strict=True)
    cid: ClientId


class NoArgs(Payload):
    pass


class SetItem(Payload):
    item_id: int = Field(ge=1, le=2**31)


class TimerStart(Payload):
    seconds: int | None = Field(default=None, ge=10, le=6 * 3600)


class TimerExtend(Payload):
    seconds: int = Field(ge=10, le=3600)


class GuestPolicyPayload(Payload):
    policy: Annotated[str, StringConstraints(pattern=r"^(open|lobby|none)$")]
    capacity: int | None = Field(default=None, ge=1, le=100_000)


class GuestRef(Payload):
    guest_id: int = Field(ge=1, le=2**31)


class Sync(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    since: int = Field(ge=0, le=2**31)


def parse(schema: type[BaseModel], payload: Any) -> BaseModel:
    """Shape and size before anything else; raises Refused('too_large' | 'invalid')."""
    if payload is None:
        payload = {}
    if not isinstance(payload, dict):
        raise Refused("invalid")
    try:
        # Bytes as sent, so 2,000 characters of Arabic or Chinese fit as well as 2,000 of English.
        size = len(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode())
    except (TypeError, ValueError):
        raise Refused("invalid") from None
    if size > MAX_PAYLOAD_BYTES:
        raise Refused("too_large")
    try:
        return schema.model_validate(payload)
    except ValidationError:
        raise Refused("invalid") from None
