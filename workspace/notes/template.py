"""The document a session's notes start from: the agenda, then key learning points and follow-up actions.

Built once on the server with pycrdt, in the shape y-quill reads: one Y.Text whose block formats (header,
list) sit on each line's newline and whose inline formats (bold, italic) sit on the text. Careful: pycrdt's
Text.insert/format/delete take offsets in UTF-8 bytes (an offset inside a character, or counted in
characters past non-ASCII text, splits an item and yields updates other clients cannot integrate).
"""

from __future__ import annotations

from flask_babel import gettext as _

from ..sessions.models import ExchangeSession
from . import crdt


def agenda_template(session: ExchangeSession) -> bytes:
    doc = crdt.new_doc()
    text = crdt.text_of(doc)
    at = 0

    def put(value: str, attrs: dict | None = None) -> None:
        nonlocal at
        if value:
            text.insert(at, value, attrs or {})  # {}: plain, not inheriting the previous format
            at += len(value.encode())  # pycrdt's Text offsets count UTF-8 bytes, not characters

    def line(value: str = "", block: dict | None = None) -> None:
        put(value)
        put("\n", block)

    with doc.transaction():
        line(session.title, {"header": 1})
        for item in session.agenda_items:
            line(item.title, {"header": 2})
            if item.expected_outcome:
                put(_("Expected outcome:"), {"bold": True})
                put(" ")
                put(item.expected_outcome, {"italic": True})
                put("\n")
            line()
        line(_("Key learning points"), {"header": 2})
        line("", {"list": "bullet"})
        line(_("Follow-up actions"), {"header": 2})
        line("", {"list": "bullet"})
    return doc.get_update()
