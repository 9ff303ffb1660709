"""Moderating the board: approve, reject, hide, pin, answer, highlight, how the board runs, and the log.

Every action is logged (ModerationEntry) in the transaction that makes it, and sent as sequenced events:
moderators get the full contribution, everyone else what they may now see.
"""

from __future__ import annotations

from ..extensions import db
from ..realtime.access import Viewer
from ..realtime.protocol import Refused
from ..realtime.services import Out, broadcast, commit_events
from ..sessions.models import ExchangeSession
from .models import Contribution, ModerationEntry
from .services import (
    MAX_REASON_CHARS,
    author_wire,
    contribution_wire,
    find_contribution,
    get_board,
    gone_out,
    is_public,
    settings_wire,
    tell_person,
    unhighlight,
    visible_contributions,
)


def log(session: ExchangeSession, viewer: Viewer, action: str, contribution: Contribution | None = None, **extra):
    db.session.add(
        ModerationEntry(
            session_id=session.id,
            actor=viewer.person,
            actor_name=viewer.name[:80],
            action=action,
            contribution_id=contribution.id if contribution else None,
            target=extra.get("target"),
            target_name=extra.get("target_name"),
            detail=str(extra.get("detail", ""))[:MAX_REASON_CHARS],
        )
    )


CONTRIBUTION_ACTIONS = ("approve", "reject", "hide", "restore", "pin", "unpin", "answer", "unanswer")


def moderate(session: ExchangeSession, viewer: Viewer, contribution_id: int, action: str, reason: str, cid: str):
    """Approve, reject (with a reason the author sees), hide, restore, pin, mark answered; each one logged."""
    if action not in CONTRIBUTION_ACTIONS:
        raise Refused("invalid")
    reason = reason.strip()
    if len(reason) > MAX_REASON_CHARS:
        raise Refused("too_long", limit=MAX_REASON_CHARS)

    author = []

    def mutate(state):
        board = get_board(session)
        c = find_contribution(session, contribution_id)
        author.append(c.person)
        was_public = is_public(c)
        if action == "approve":
            if c.status != Contribution.PENDING:
                raise Refused("invalid")
            c.status = Contribution.APPROVED
        elif action == "reject":
            if c.status != Contribution.PENDING:
                raise Refused("invalid")
            c.status, c.reject_reason = Contribution.REJECTED, reason
        elif action in ("hide", "restore"):
            c.hidden = action == "hide"
        elif action in ("pin", "unpin"):
            c.pinned = action == "pin"
        else:
            c.answered = action == "answer"
        log(session, viewer, action, c, detail=reason)
        moderators = Out("contribution", {"contribution": contribution_wire(c, board, moderator=True)}, "mods")
        if is_public(c) and was_public:  # pinned, answered: a change of flags
            return [Out("contribution", {"contribution": _flags(c)})]
        if is_public(c):  # approved or restored: moderators' copy (with the name), then everyone's
            return [moderators, Out("contribution", {"contribution": contribution_wire(c, board, moderator=False)})]
        if was_public:
            return [gone_out(c), moderators, *unhighlight(board, c)]
        return [moderators]

    events, duplicate = commit_events(session.id, mutate, actor=viewer.person, client_id=cid)
    if not duplicate:
        broadcast(*events)
        tell_person(session, author[-1], ("contributions",))
    return events[0]


def _flags(c: Contribution) -> dict:
    return {"id": c.id, "pinned": c.pinned, "answered": c.answered, "hidden": c.hidden, "status": c.status}


def highlight(session: ExchangeSession, viewer: Viewer, contribution_id: int | None, cid: str):
    """The contribution being discussed now, shown to everyone above the board (None: nothing)."""

    def mutate(state):
        board = get_board(session)
        c = None
        if contribution_id is not None:
            c = find_contribution(session, contribution_id)
            if not is_public(c):
                raise Refused("invalid")
        board.highlighted_id = c.id if c else None
        log(session, viewer, "highlight" if c else "unhighlight", c)
        return [Out("board.settings", {"settings": settings_wire(board)})]

    events, duplicate = commit_events(session.id, mutate, actor=viewer.person, client_id=cid)
    if not duplicate:
        broadcast(*events)
    return events[0]


def configure(session: ExchangeSession, viewer: Viewer, changes: dict, cid: str):
    """Moderators change how the board runs; non-attribution exists only in closed sessions."""
    if not changes:
        raise Refused("invalid")
    if changes.get("non_attribution") and not session.is_closed:
        raise Refused("not_closed")

    def mutate(state):
        board = get_board(session)
        before = board.non_attribution
        for name, value in changes.items():
            if getattr(board, name) != value:
                setattr(board, name, value)
                log(session, viewer, f"set_{name}", detail=_setting_text(value))
        data = {"settings": settings_wire(board)}
        if before and not board.non_attribution:
            # Names come back: everyone needs those of the contributions they already have.
            data["authors"] = {str(c.id): author_wire(c) for c in visible_contributions(session, moderator=False)}
        return [Out("board.settings", data)]

    events, duplicate = commit_events(session.id, mutate, actor=viewer.person, client_id=cid)
    if not duplicate:
        broadcast(*events)
    return events[0]


def _setting_text(value) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return "" if value is None else str(value)
