"""The discussion board's operations: contributions, support, and moderation of contributions.

Every change is one function here, called by the socket events; each writes sequenced events
(realtime.services.commit_events) before anyone is told, and tells authors privately about what
only they may see (their pending or rejected contributions).
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import bindparam

from ..extensions import db, prepared, socketio
from ..realtime.access import Viewer
from ..realtime.protocol import Refused
from ..realtime.services import NoChange, Out, broadcast, commit_events, person_room
from ..sessions.live import iso
from ..sessions.models import ExchangeSession, Status
from ..timeutil import utcnow
from .models import Board, Contribution, Restriction, Vote
from .render import render

MAX_BODY_CHARS = 2000
MAX_REASON_CHARS = 300


# --- reading -------------------------------------------------------------------------------------------------------


def get_board(session: ExchangeSession) -> Board:
    """The board's settings; created on first use with pre-moderation on for open sessions."""
    board = db.session.execute(_board_statement(), {"session_id": session.id}).scalar_one_or_none()
    if board is None:
        board = Board(session_id=session.id, premoderation=session.is_open)
        db.session.add(board)
        db.session.flush()
    return board


@prepared
def _board_statement():
    return db.select(Board).filter(Board.session_id == bindparam("session_id"))


def settings_wire(board: Board) -> dict:
    return {
        "premoderation": board.premoderation,
        "locked": board.locked,
        "slow_mode_seconds": board.slow_mode_seconds,
        "non_attribution": board.non_attribution,
        "highlighted_id": board.highlighted_id,
        "alternate_sides": board.alternate_sides,
        "new_speakers_first": board.new_speakers_first,
        "speaker_seconds": board.speaker_seconds,
    }


def author_wire(c: Contribution) -> dict:
    return {"name": c.author_name, "guest": c.person.startswith("g:"), "side": c.author_side}


def contribution_wire(c: Contribution, board: Board | None, moderator: bool) -> dict:
    """What a viewer may see of a contribution. Under non-attribution only moderators get the author.

    (Moderators' copies do not depend on the board's settings: `board` may be None for them.)"""
    wire = {
        "id": c.id,
        "item_id": c.agenda_item_id,
        "parent_id": c.parent_id,
        "body_html": c.body_html,
        "status": c.status,
        "hidden": c.hidden,
        "pinned": c.pinned,
        "answered": c.answered,
        "votes": c.votes,
        "created_at": iso(c.created_at),
        "edited": c.edited_at is not None,
    }
    if moderator or not board.non_attribution:
        wire["author"] = author_wire(c)
    if moderator:
        # Always there for moderators (null when none): events are merged key by key, so a reason that no longer
        # applies (the author edited a rejected post) must be cleared explicitly, not left out.
        wire["reason"] = c.reject_reason or None
    return wire


def is_public(c: Contribution) -> bool:
    return c.status == Contribution.APPROVED and not c.hidden


def visible_contributions(session: ExchangeSession, moderator: bool) -> list:
    """Moderators see everything but withdrawn posts; everyone else the approved, unhidden ones.

    Read-only rows with a contribution's columns, not mapped objects: every welcome reads the whole board, and
    building hundreds of mapped objects per arrival was most of its cost.
    """
    query = db.select(*Contribution.__table__.c).filter(Contribution.session_id == session.id)
    if moderator:
        query = query.filter(Contribution.status != Contribution.WITHDRAWN)
    else:
        query = query.filter(Contribution.status == Contribution.APPROVED, Contribution.hidden.is_(False))
    rows = list(db.session.execute(query.order_by(Contribution.id)))
    if moderator:
        return rows
    # A reply whose thread is hidden or waiting would say out of context what the thread was.
    shown = {c.id for c in rows if c.parent_id is None}
    return [c for c in rows if c.parent_id is None or c.parent_id in shown]


def snapshot(session: ExchangeSession, moderator: bool) -> dict:
    board = get_board(session)
    return {
        "settings": settings_wire(board),
        "contributions": [contribution_wire(c, board, moderator) for c in visible_contributions(session, moderator)],
    }


def restricted(session_id: int, person: str, kind: str) -> bool:
    params = {"session_id": session_id, "person": person, "kind": kind}
    return db.session.execute(_restricted_statement(), params).first() is not None


@prepared
def _restricted_statement():
    return db.select(Restriction.id).filter_by(
        session_id=bindparam("session_id"), person=bindparam("person"), kind=bindparam("kind")
    )


PERSONAL_PARTS = ("contributions", "votes", "muted", "hand", "polls")


def personal(session: ExchangeSession, person: str, parts: tuple[str, ...] = PERSONAL_PARTS) -> dict:
    """What only this person sees: their own posts in any state, what they support, whether they are muted,
    their raised hand, their poll answers. `parts` picks some of these: after a post only the posts changed,
    and each part is a query paid on every action of a busy room."""
    body: dict = {}
    if "contributions" in parts:
        body["contributions"] = own_contributions(session, person)
    if "votes" in parts:
        body["votes"] = sorted(
            db.session.execute(_own_votes_statement(), {"session_id": session.id, "person": person}).scalars()
        )
    if "muted" in parts:
        body["muted"] = restricted(session.id, person, Restriction.MUTED)
    from . import polls, speakers  # the other parts of the board add their own private state

    if "hand" in parts:
        body["hand"] = speakers.my_hand(session, person)
    if "polls" in parts:
        body["polls"] = polls.my_answers(session, person)
    return body


@prepared
def _own_votes_statement():
    return (
        db.select(Vote.contribution_id)
        .join(Contribution, Contribution.id == Vote.contribution_id)
        .filter(Contribution.session_id == bindparam("session_id"), Vote.person == bindparam("person"))
    )


@prepared
def _own_contributions_statement():
    return (
        db.select(Contribution)
        .filter(
            Contribution.session_id == bindparam("session_id"),
            Contribution.person == bindparam("person"),
            Contribution.status != Contribution.WITHDRAWN,
        )
        .order_by(Contribution.id)
    )


def own_contributions(session: ExchangeSession, person: str) -> list[dict]:
    mine = db.session.execute(_own_contributions_statement(), {"session_id": session.id, "person": person}).scalars()
    edit_seconds = current_app.config["BOARD_EDIT_SECONDS"]
    contributions = []
    for c in mine:
        wire = contribution_wire(c, None, moderator=True)  # their own: name and reason included
        wire["editable_until"] = iso(c.created_at + timedelta(seconds=edit_seconds))
        wire["body"] = c.body  # the Markdown they wrote, to edit it
        contributions.append(wire)
    return contributions


def tell_person(session: ExchangeSession, who: Viewer | str, parts: tuple[str, ...] = PERSONAL_PARTS) -> None:
    """Push a person's private state (the `parts` that changed) to each of their tabs, on every worker."""
    person = who if isinstance(who, str) else who.person
    socketio.emit("personal", personal(session, person, parts), to=person_room(session.id, person))


# --- checks --------------------------------------------------------------------------------------------------------


def _require_open_board(session: ExchangeSession, board: Board, viewer: Viewer) -> None:
    """Posting and supporting: while the session is scheduled or live, the board unlocked (moderators excepted)."""
    if session.status not in (Status.SCHEDULED, Status.LIVE):
        raise Refused("board_closed")
    if board.locked and not viewer.moderator:
        raise Refused("board_locked")


def _require_voice(session: ExchangeSession, viewer: Viewer) -> None:
    if not viewer.moderator and restricted(session.id, viewer.person, Restriction.MUTED):
        raise Refused("muted")


def clean_body(body: str) -> str:
    text = body.replace("\r\n", "\n").strip()
    if not text:
        raise Refused("empty")
    if len(text) > MAX_BODY_CHARS:
        raise Refused("too_long", limit=MAX_BODY_CHARS)
    return text


def _check_slow_mode(session: ExchangeSession, board: Board, viewer: Viewer) -> None:
    if viewer.moderator or not board.slow_mode_seconds:
        return
    last = db.session.execute(
        db.select(db.func.max(Contribution.created_at)).filter_by(session_id=session.id, person=viewer.person)
    ).scalar()
    if last is None:
        return
    wait = board.slow_mode_seconds - (utcnow() - last).total_seconds()
    if wait > 0:
        raise Refused("slow_mode", seconds=int(wait) + 1)


@prepared
def _contribution_statement():
    return db.select(Contribution).filter(Contribution.id == bindparam("id"))


def find_contribution(session: ExchangeSession, contribution_id: int) -> Contribution:
    c = db.session.execute(_contribution_statement(), {"id": contribution_id}).scalar_one_or_none()
    if c is None or c.session_id != session.id or c.status == Contribution.WITHDRAWN:
        raise Refused("not_found")
    return c


def _visible_to(c: Contribution, viewer: Viewer) -> bool:
    return viewer.moderator or is_public(c) or c.person == viewer.person


# --- contributing --------------------------------------------------------------------------------------------------


def _public_outs(c: Contribution, board: Board) -> list[Out]:
    """A contribution everyone may now see: under non-attribution, moderators get the name separately."""
    outs = []
    if board.non_attribution:
        outs.append(Out("contribution", {"contribution": {"id": c.id, "author": author_wire(c)}}, "mods"))
    outs.append(Out("contribution", {"contribution": contribution_wire(c, board, moderator=False)}))
    return outs


def unhighlight(board: Board, c: Contribution) -> list[Out]:
    """A contribution leaving the board stops being the one discussed, for everyone (an event, not just a row)."""
    if board.highlighted_id != c.id:
        return []
    board.highlighted_id = None
    return [Out("board.settings", {"settings": settings_wire(board)})]


def gone_out(c: Contribution) -> Out:
    """Everyone drops it; moderators keep it, marked with its new state."""
    return Out(
        "contribution",
        {"contribution": {"id": c.id, "visible": False, "status": c.status, "hidden": c.hidden}},
    )


def post(
    session: ExchangeSession,
    viewer: Viewer,
    body: str,
    item_id: int | None,
    parent_id: int | None,
    cid: str,
):
    """A new contribution, or a reply. Held for moderators when pre-moderation is on."""
    text = clean_body(body)
    html = render(text)

    def mutate(state):
        board = get_board(session)
        _require_open_board(session, board, viewer)
        _require_voice(session, viewer)
        _check_slow_mode(session, board, viewer)
        item = item_id
        parent = None
        if parent_id is not None:
            parent = find_contribution(session, parent_id)
            if not _visible_to(parent, viewer):
                raise Refused("not_found")
            if parent.parent_id is not None:  # replies stay one level deep: answer the thread
                parent = db.session.get(Contribution, parent.parent_id)
                if parent is None or parent.status == Contribution.WITHDRAWN or not _visible_to(parent, viewer):
                    raise Refused("not_found")
            item = parent.agenda_item_id
        elif item is not None and item not in {i.id for i in session.agenda_items}:
            raise Refused("not_found")
        held = board.premoderation and not viewer.moderator
        c = Contribution(
            session_id=session.id,
            agenda_item_id=item,
            parent_id=parent.id if parent else None,
            person=viewer.person,
            user_id=viewer.user_id,
            guest_id=viewer.guest_id,
            author_name=viewer.name[:80],
            author_side=viewer.side,
            author_country=viewer.country,
            body=text,
            body_html=html,
            status=Contribution.PENDING if held else Contribution.APPROVED,
        )
        db.session.add(c)
        db.session.flush()
        if held:
            return [Out("contribution", {"contribution": contribution_wire(c, board, moderator=True)}, "mods")]
        return _public_outs(c, board)

    events, duplicate = commit_events(session.id, mutate, actor=viewer.person, client_id=cid)
    if not duplicate:
        broadcast(*events)
        tell_person(session, viewer, ("contributions",))
    # The id lets the author's page tie its queued post to the contribution (a retry finds it in the stored event).
    return {"seq": events[0].seq, "id": events[0].data["contribution"]["id"]}


def edit(session: ExchangeSession, viewer: Viewer, contribution_id: int, body: str, cid: str):
    """Authors may correct their words for a short while; under pre-moderation the change is checked again."""
    text = clean_body(body)
    html = render(text)

    def mutate(state):
        board = get_board(session)
        _require_open_board(session, board, viewer)
        _require_voice(session, viewer)
        c = _own_recent(session, viewer, contribution_id)
        was_public = is_public(c)
        c.body, c.body_html, c.edited_at = text, html, utcnow()
        if c.status == Contribution.REJECTED:
            c.status, c.reject_reason = Contribution.PENDING, ""
        if board.premoderation and not viewer.moderator and c.status == Contribution.APPROVED:
            c.status = Contribution.PENDING
        if is_public(c):
            return _public_outs(c, board)
        moderators = Out("contribution", {"contribution": contribution_wire(c, board, moderator=True)}, "mods")
        return [gone_out(c), moderators, *unhighlight(board, c)] if was_public else [moderators]

    events, duplicate = commit_events(session.id, mutate, actor=viewer.person, client_id=cid)
    if not duplicate:
        broadcast(*events)
        tell_person(session, viewer, ("contributions",))
    return events[0]


def withdraw(session: ExchangeSession, viewer: Viewer, contribution_id: int, cid: str):
    def mutate(state):
        c = _own_recent(session, viewer, contribution_id)
        if session.status == Status.ENDED:
            raise Refused("board_closed")
        c.status = Contribution.WITHDRAWN
        c.pinned = False
        board = get_board(session)
        return [gone_out(c), *unhighlight(board, c)]

    events, duplicate = commit_events(session.id, mutate, actor=viewer.person, client_id=cid)
    if not duplicate:
        broadcast(*events)
        tell_person(session, viewer, ("contributions",))
    return events[0]


def _own_recent(session: ExchangeSession, viewer: Viewer, contribution_id: int) -> Contribution:
    c = find_contribution(session, contribution_id)
    if c.person != viewer.person:
        raise Refused("not_allowed")
    if utcnow() - c.created_at > timedelta(seconds=current_app.config["BOARD_EDIT_SECONDS"]):
        raise Refused("edit_window")
    return c


def vote(session: ExchangeSession, viewer: Viewer, contribution_id: int, support: bool, cid: str):
    """One vote per person: supporting twice, or withdrawing support never given, changes nothing."""

    def mutate(state):
        board = get_board(session)
        _require_open_board(session, board, viewer)
        c = find_contribution(session, contribution_id)
        if not is_public(c):
            raise Refused("not_found")
        existing = db.session.execute(
            _vote_statement(), {"contribution_id": c.id, "person": viewer.person}
        ).scalar_one_or_none()
        if support == (existing is not None):
            raise NoChange
        if support:
            db.session.add(Vote(contribution_id=c.id, person=viewer.person))
        else:
            db.session.delete(existing)
        db.session.flush()
        c.votes = db.session.execute(_vote_count_statement(), {"contribution_id": c.id}).scalar()
        return [Out("contribution", {"contribution": {"id": c.id, "votes": c.votes}})]

    events, duplicate = commit_events(session.id, mutate, actor=viewer.person, client_id=cid)
    if events and not duplicate:
        broadcast(*events)
        tell_person(session, viewer, ("votes",))
    return events[0] if events else None


@prepared
def _vote_statement():
    return db.select(Vote).filter_by(contribution_id=bindparam("contribution_id"), person=bindparam("person"))


@prepared
def _vote_count_statement():
    return db.select(db.func.count(Vote.id)).filter_by(contribution_id=bindparam("contribution_id"))
