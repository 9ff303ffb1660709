"""Reading a session's board after the fact: its threads, its polls, the moderation log and the report.

Read-only on purpose: these pages are GET requests, so nothing here creates rows (services.get_board
would create the board's settings on first use).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from flask import abort
from flask_babel import format_percent
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..agenda.models import AgendaItem
from ..exchanges.models import Side
from ..extensions import db
from ..forms_common import country_name
from ..sessions.models import ExchangeSession
from . import polls
from .models import Board, Contribution, ModerationEntry, Poll
from .speakers import stats

EXCERPT_CHARS = 80

ACTION_LABELS = {
    "approve": _l("Approved a contribution"),
    "reject": _l("Rejected a contribution"),
    "hide": _l("Hid a contribution"),
    "restore": _l("Restored a contribution"),
    "pin": _l("Pinned a contribution"),
    "unpin": _l("Unpinned a contribution"),
    "answer": _l("Marked a contribution as answered"),
    "unanswer": _l("Marked a contribution as not answered"),
    "highlight": _l("Highlighted a contribution"),
    "unhighlight": _l("Removed the highlight"),
    "set_premoderation": _l("Changed pre-moderation"),
    "set_locked": _l("Locked or unlocked the board"),
    "set_slow_mode_seconds": _l("Changed slow mode (seconds)"),
    "set_non_attribution": _l("Changed non-attribution"),
    "set_alternate_sides": _l("Changed alternating sides"),
    "set_new_speakers_first": _l("Changed new speakers first"),
    "set_speaker_seconds": _l("Changed the time per speaker (seconds)"),
    "mute": _l("Muted a participant"),
    "unmute": _l("Unmuted a participant"),
    "remove": _l("Removed a participant from the room"),
    "readmit": _l("Let a participant back in"),
    "poll_open": _l("Opened a poll"),
    "poll_close": _l("Closed a poll"),
}
SETTING_VALUES = {"on": _l("On"), "off": _l("Off")}
NO_SIDE = _l("No side (guests and invitees)")
NOT_GIVEN = _l("Not given")


# --- the board -----------------------------------------------------------------------------------------------------


def board_settings(session: ExchangeSession) -> Board:
    """The board's settings, or the defaults (not saved) when the board was never used."""
    board = db.session.get(Board, session.id)
    if board is None:
        board = Board(session_id=session.id, premoderation=session.is_open, locked=False, non_attribution=False)
    return board


def approved(session: ExchangeSession, include_hidden: bool = False) -> list[Contribution]:
    query = db.select(Contribution).filter(
        Contribution.session_id == session.id, Contribution.status == Contribution.APPROVED
    )
    if not include_hidden:
        query = query.filter(Contribution.hidden.is_(False))
    return list(db.session.execute(query.order_by(Contribution.id)).scalars())


@dataclass
class Thread:
    contribution: Contribution
    replies: list[Contribution] = field(default_factory=list)


@dataclass
class Section:
    item: AgendaItem | None  # None: the general thread
    threads: list[Thread]


def sections(session: ExchangeSession) -> list[Section]:
    """Approved, unhidden threads by agenda item (in agenda order, then the general thread), pinned first.

    A reply whose parent is not shown is left out: out of its context it could reveal what was hidden.
    """
    threads: dict[int, Thread] = {}
    rows = approved(session)
    for c in rows:
        if c.parent_id is None:
            threads[c.id] = Thread(c)
    for c in rows:
        if c.parent_id in threads:
            threads[c.parent_id].replies.append(c)
    items = list(session.agenda_items)
    known = {item.id for item in items}
    grouped: dict[int | None, list[Thread]] = defaultdict(list)
    for thread in threads.values():
        item_id = thread.contribution.agenda_item_id
        grouped[item_id if item_id in known else None].append(thread)
    out = []
    for item in [*items, None]:
        found = grouped.get(item.id if item else None)
        if found:
            found.sort(key=lambda t: (not t.contribution.pinned, t.contribution.id))
            out.append(Section(item, found))
    return out


def side_label(side: str | None) -> str:
    """Guests and people invited to one session have no side."""
    return str(Side.LABELS.get(side, side)) if side else str(NO_SIDE)


# --- polls ---------------------------------------------------------------------------------------------------------


@dataclass
class PollView:
    poll: Poll
    results: dict | None  # {"counts", "voters"}, or None when this viewer may not see them yet

    @property
    def rows(self) -> list[tuple[str, int, str]]:
        """(choice, count, share of the people who answered)."""
        voters = self.results["voters"] if self.results else 0
        return [
            (choice, count, format_percent(count / voters if voters else 0))
            for choice, count in zip(self.poll.choices, self.results["counts"] if self.results else [], strict=False)
        ]


def get_poll(session: ExchangeSession, poll_id: int) -> Poll:
    """A poll of this session, or 404 (another session's poll is not found here)."""
    poll = db.session.get(Poll, poll_id)
    if poll is None or poll.session_id != session.id:
        abort(404)
    return poll


def poll_views(session: ExchangeSession, moderator: bool, person: str | None) -> list[PollView]:
    """Polls this viewer may see (drafts: moderators), with results under each poll's own rule."""
    views = []
    for poll in polls.session_polls(session, moderator):
        answered = person is not None and polls.has_answered(poll, person)
        visible = polls.results_visible(poll, moderator, answered)
        views.append(PollView(poll, polls.results(poll) if visible else None))
    return views


# --- the moderation log --------------------------------------------------------------------------------------------


@dataclass
class LogRow:
    entry: ModerationEntry
    label: str
    subject: str  # an excerpt of the contribution, or the person acted on
    detail: str


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def log_rows(session: ExchangeSession) -> list[LogRow]:
    entries = list(
        db.session.execute(
            db.select(ModerationEntry)
            .filter_by(session_id=session.id)
            .order_by(ModerationEntry.created_at, ModerationEntry.id)
        ).scalars()
    )
    ids = {e.contribution_id for e in entries if e.contribution_id}
    bodies = dict(
        db.session.execute(db.select(Contribution.id, Contribution.body).filter(Contribution.id.in_(ids))).all()
        if ids
        else []
    )
    rows = []
    for e in entries:
        subject = excerpt(bodies.get(e.contribution_id, "")) if e.contribution_id else (e.target_name or "")
        detail = e.detail
        if e.action.startswith("set_") and detail in SETTING_VALUES:
            detail = str(SETTING_VALUES[detail])
        rows.append(LogRow(e, str(ACTION_LABELS.get(e.action, e.action)), subject, detail))
    return rows


# --- the session's report ------------------------------------------------------------------------------------------


def duration(seconds: int) -> str:
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return _("%(h)d h %(m)02d min %(s)02d s", h=hours, m=minutes, s=secs)
    return _("%(m)d min %(s)02d s", m=minutes, s=secs)


@dataclass
class StatRow:
    label: str
    turns: int
    seconds: int
    share: str  # of all the time spoken


def _stat_rows(buckets: dict[str, dict[str, int]], total: int, label) -> list[StatRow]:
    rows = []
    for key, b in buckets.items():
        share = format_percent(b["seconds"] / total if total else 0)
        rows.append(StatRow(str(label(key)), b["turns"], b["seconds"], share))
    return sorted(rows, key=lambda r: (-r.seconds, -r.turns, r.label))


def speaking(session: ExchangeSession) -> dict:
    """Turns and time by side, country and gender (only as people gave it; the rest is "not given")."""
    data = stats(session)
    total = data["total"]["seconds"]
    return {
        "total": data["total"],
        "by_side": _stat_rows(data["by_side"], total, side_label),
        "by_country": _stat_rows(data["by_country"], total, lambda key: country_name(key) or NOT_GIVEN),
        "by_gender": _stat_rows(data["by_gender"], total, lambda key: key or NOT_GIVEN),
    }


def contribution_counts(session: ExchangeSession) -> dict[str, int]:
    """Each contribution counted once: hidden ones as hidden, the rest by status (withdrawn ones not at all)."""
    counts = {"approved": 0, "pending": 0, "rejected": 0, "hidden": 0}
    rows = db.session.execute(
        db.select(Contribution.status, Contribution.hidden, db.func.count(Contribution.id))
        .filter(Contribution.session_id == session.id, Contribution.status != Contribution.WITHDRAWN)
        .group_by(Contribution.status, Contribution.hidden)
    )
    for status, hidden, n in rows:
        key = "hidden" if hidden else status
        if key in counts:
            counts[key] += n
    counts["total"] = sum(counts.values())
    return counts


def contributors_by_side(session: ExchangeSession) -> list[tuple[str, int]]:
    """Distinct people whose contributions were approved (hidden later or not), by side."""
    rows = db.session.execute(
        db.select(Contribution.author_side, Contribution.person)
        .filter(Contribution.session_id == session.id, Contribution.status == Contribution.APPROVED)
        .distinct()
    )
    people: dict[str, int] = defaultdict(int)
    for side, _person in rows:
        people[side_label(side)] += 1
    return sorted(people.items(), key=lambda kv: (-kv[1], kv[0]))


def asked_polls(session: ExchangeSession) -> list[PollView]:
    """Polls put to the room (drafts never were), with their results."""
    return [PollView(p, polls.results(p)) for p in polls.session_polls(session, moderator=False)]
