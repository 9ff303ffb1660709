"""The published summary as Markdown, HTML, PDF (WeasyPrint: HarfBuzz shaping, bidi, font fallback) and DOCX.

Every export of a closed session is marked confidential; under non-attribution none names anyone.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from flask import render_template
from flask_babel import format_date
from flask_babel import gettext as _

from ..sessions.models import ExchangeSession
from . import render
from .models import FollowUpAction, NoteSummary


@dataclass
class Export:
    session: ExchangeSession
    summary: NoteSummary
    actions: list[FollowUpAction]
    anonymous: bool  # non-attribution: no names at all

    @property
    def confidential(self) -> bool:
        return self.session.is_closed

    @property
    def names(self) -> list[str]:
        return [] if self.anonymous else list(self.summary.contributors or [])

    @property
    def publisher(self) -> str:
        return "" if self.anonymous else self.summary.published_by_name

    def action_rows(self) -> list[dict]:
        return [
            {
                "what": a.what,
                "who": "" if self.anonymous else a.who,
                "due": format_date(a.due_on, "medium") if a.due_on else "",
                "status": str(a.status_label),
            }
            for a in self.actions
        ]


def confidential_label() -> str:
    return _("Confidential: closed session. Do not share outside the exchange.")


def markdown(export: Export) -> str:
    out = []
    if export.confidential:
        out += [f"**{confidential_label()}**", ""]
    out += [f"# {export.session.title}", "", _("Written summary, published %(date)s", date=_date(export)), ""]
    if export.names:
        out += [_("Notes by: %(names)s", names=", ".join(export.names)), ""]
    out.append(render.to_markdown(export.summary.delta))
    rows = export.action_rows()
    if rows:
        out += ["", f"## {_('Follow-up actions')}", ""]
        for row in rows:
            parts = [row["what"]]
            if row["who"]:
                parts.append(_("who: %(who)s", who=row["who"]))
            if row["due"]:
                parts.append(_("by %(date)s", date=row["due"]))
            parts.append(row["status"])
            out.append("- " + " · ".join(parts))
    if export.confidential:
        out += ["", f"**{confidential_label()}**"]
    return "\n".join(out).rstrip() + "\n"


def _date(export: Export) -> str:
    return format_date(export.summary.published_at, "long")


def html_document(export: Export, for_pdf: bool = False) -> str:
    return render_template(
        "notes/export.html",
        export=export,
        body=export.summary.html,
        rows=export.action_rows(),
        published=_date(export),
        confidential_text=confidential_label(),
        for_pdf=for_pdf,
    )


def pdf(export: Export) -> bytes:
    from weasyprint import HTML

    return HTML(string=html_document(export, for_pdf=True)).write_pdf()


def docx(export: Export) -> bytes:
    from docx import Document
    from docx.oxml import OxmlElement

    document = Document()

    def rtl(paragraph, text: str) -> None:
        if render.direction(text) == "rtl":
            props = paragraph._p.get_or_add_pPr()
            props.append(OxmlElement("w:bidi"))
            for run in paragraph.runs:
                run_props = run._r.get_or_add_rPr()
                run_props.append(OxmlElement("w:rtl"))

    if export.confidential:
        section = document.sections[0]
        section.header.paragraphs[0].text = confidential_label()
        section.footer.paragraphs[0].text = confidential_label()
    document.add_heading(export.session.title, 0)
    document.add_paragraph(_("Written summary, published %(date)s", date=_date(export)))
    if export.names:
        document.add_paragraph(_("Notes by: %(names)s", names=", ".join(export.names)))
    for line in render.lines(export.summary.delta):
        kind = line.kind
        if kind.startswith("h"):
            paragraph = document.add_heading(level=int(kind[1]))
        elif kind == "ul":
            paragraph = document.add_paragraph(style="List Bullet")
        elif kind == "ol":
            paragraph = document.add_paragraph(style="List Number")
        else:
            paragraph = document.add_paragraph()
        for value, attrs in line.runs:
            run = paragraph.add_run(value)
            run.bold = bool(attrs.get("bold")) or None
            run.italic = bool(attrs.get("italic")) or None
            run.underline = bool(attrs.get("underline")) or None
            if attrs.get("strike"):
                run.font.strike = True
        rtl(paragraph, line.text)
    rows = export.action_rows()
    if rows:
        document.add_heading(_("Follow-up actions"), level=2)
        columns = ["what", "due", "status"] if export.anonymous else ["what", "who", "due", "status"]
        titles = {"what": _("What"), "who": _("Who"), "due": _("By when"), "status": _("Status")}
        table = document.add_table(rows=1, cols=len(columns))
        table.style = "Table Grid"
        for cell, key in zip(table.rows[0].cells, columns, strict=True):
            cell.text = str(titles[key])
        for row in rows:
            cells = table.add_row().cells
            for cell, key in zip(cells, columns, strict=True):
                cell.text = row[key]
                rtl(cell.paragraphs[0], row[key])
    if export.confidential:
        document.add_paragraph().add_run(confidential_label()).bold = True
    document.core_properties.author = "" if export.anonymous else export.publisher
    document.core_properties.last_modified_by = ""
    document.core_properties.title = export.session.title
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
