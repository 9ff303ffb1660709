"""The board and poll results as files: CSV for spreadsheets, Markdown for reading and sharing.

Under non-attribution no export names anyone (moderators included): files travel further than pages.
"""

from __future__ import annotations

import csv
import io
import re

from flask_babel import gettext as _
from flask_babel import ngettext

from ..extensions import db
from ..sessions.models import ExchangeSession
from ..templating import datetime_in, zone_label
from ..timeutil import utcnow
from . import polls, report
from .models import Board, Contribution, Poll, PollChoice, PollVoter

# A spreadsheet runs a cell starting with these as a formula (the full-width forms too, in some locales).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
BOM = "\ufeff"  # spreadsheet applications read UTF-8 only when it is marked


def safe_cell(value):
    """A text cell that cannot run as a formula: a leading apostrophe makes it plain text."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(rows) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
    return BOM + out.getvalue()


def utc_iso(value) -> str:
    return value.replace(microsecond=0).isoformat() + "Z"


def _yes_no(value: bool) -> str:
    return _("yes") if value else _("no")


def _author(c: Contribution, names: bool) -> tuple[str, str]:
    """(name, side); under non-attribution neither, as on the live board (the side says where someone is from)."""
    if not names:
        return "", ""
    if c.is_guest:
        return c.author_name, _("Guest")
    return c.author_name, report.side_label(c.author_side) if c.author_side else ""


def board_csv(session: ExchangeSession, board: Board) -> str:
    """Every approved contribution, hidden ones too (marked), one row each; text as the author wrote it."""
    names = not board.non_attribution
    items = {item.id: item.title for item in session.agenda_items}
    rows = [
        [
            _("ID"),
            _("Agenda item"),
            _("Reply to"),
            _("Author"),
            _("Side"),
            _("Created at (UTC)"),
            _("Votes"),
            _("Pinned"),
            _("Answered"),
            _("Hidden"),
            _("Text"),
        ]
    ]
    for c in report.approved(session, include_hidden=True):
        name, side = _author(c, names)
        rows.append(
            [
                c.id,
                items.get(c.agenda_item_id, ""),
                c.parent_id or "",
                name,
                side,
                utc_iso(c.created_at),
                c.votes,
                _yes_no(c.pinned),
                _yes_no(c.answered),
                _yes_no(c.hidden),
                c.body,
            ]
        )
    return to_csv(rows)


def poll_csv(session: ExchangeSession, board: Board, poll: Poll) -> str:
    """The question, each choice's count, and for named polls who chose what (never under non-attribution)."""
    results = polls.results(poll)
    rows = [
        [_("Question"), poll.question],
        [_("Answers"), _("anonymous") if poll.anonymous else _("named")],
        [_("People who answered"), results["voters"]],
        [],
        [_("Choice"), _("Count")],
        *([choice, count] for choice, count in zip(poll.choices, results["counts"], strict=False)),
    ]
    if not poll.anonymous:
        rows.append([])
        if board.non_attribution:
            rows.append([_("Names are not exported: this session's board is under non-attribution.")])
        else:
            rows.append([_("Name"), _("Choices")])
            rows += [[name, "; ".join(chosen)] for name, chosen in _named_answers(poll)]
    return to_csv(rows)


def _named_answers(poll: Poll) -> list[tuple[str, list[str]]]:
    voters = db.session.execute(db.select(PollVoter).filter_by(poll_id=poll.id).order_by(PollVoter.id)).scalars()
    chosen: dict[int, list[str]] = {}
    for voter_id, choice in db.session.execute(
        db.select(PollChoice.voter_id, PollChoice.choice).filter_by(poll_id=poll.id).order_by(PollChoice.choice)
    ):
        if voter_id is not None and 0 <= choice < len(poll.choices):
            chosen.setdefault(voter_id, []).append(poll.choices[choice])
    return [(v.name or "", chosen.get(v.id, [])) for v in voters]


# --- Markdown ------------------------------------------------------------------------------------------------------

_INLINE_SPECIALS = re.compile(r"([\\`*_\[\]<>#|!~])")


def md_text(text: str) -> str:
    """Plain text (a title, a name) that Markdown shows as it is."""
    return _INLINE_SPECIALS.sub(r"\\\1", " ".join(text.split()))


def md_body(text: str, indent: str) -> str:
    """The author's Markdown, kept, but with raw HTML, images and headings disarmed, indented under its item."""
    lines = []
    for line in text.splitlines() or [""]:
        line = line.replace("<", "\\<").replace("![", "!\\[")
        if line.lstrip().startswith("#"):
            line = line.replace("#", "\\#", 1)
        lines.append(line)
    return ("\n" + indent).join(lines)


def _meta(c: Contribution, names: bool) -> str:
    parts = []
    name, side = _author(c, names)
    if name:
        parts.append(md_text(name) + (f" ({md_text(side)})" if side else ""))
    parts.append(ngettext("%(num)d vote", "%(num)d votes", c.votes))
    if c.pinned:
        parts.append(_("pinned"))
    if c.answered:
        parts.append(_("answered"))
    return " · ".join(parts)


def _item(c: Contribution, names: bool, depth: int) -> list[str]:
    bullet, indent = "  " * depth + "- ", "  " * (depth + 1)
    return [bullet + md_body(c.body, indent), "", f"{indent}*{_meta(c, names)}*", ""]


def board_markdown(session: ExchangeSession, board: Board) -> str:
    """A readable record of the board: what participants saw (approved, not hidden), by agenda item."""
    names = not board.non_attribution
    title = _("Board: %(title)s", title=session.title)
    out = ["# " + md_text(title), ""]
    if session.is_closed:
        marking = _("Confidential — closed session")
        out += [f"**{marking}**", ""]
        out += [_("Only invited peers may read this document. Do not share it outside the session."), ""]
    when = f"{datetime_in(session.starts_at)} ({zone_label()})"
    out += [_("Session date: %(date)s", date=md_text(when)), ""]
    out += [_("Exported: %(time)s", time=utc_iso(utcnow())), ""]
    if not names:
        out += [_("Non-attribution: contributors are not named."), ""]
    sections = report.sections(session)
    if not sections:
        out += [_("Nobody contributed to the board."), ""]
    for section in sections:
        title = section.item.title if section.item else _("General discussion")
        out += [f"## {md_text(title)}", ""]
        for thread in section.threads:
            out += _item(thread.contribution, names, 0)
            for reply in thread.replies:
                out += _item(reply, names, 1)
    asked = report.asked_polls(session)
    if asked:
        out += ["## " + _("Polls"), ""]
        for view in asked:
            out += [f"### {md_text(view.poll.question)}", ""]
            out += [f"- {md_text(choice)}: {count} ({share})" for choice, count, share in view.rows]
            voters = view.results["voters"]
            out += ["", ngettext("%(num)d person answered.", "%(num)d people answered.", voters), ""]
    return "\n".join(out).rstrip() + "\n"
