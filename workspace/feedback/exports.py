"""CSV of a form's answers: identities only for named forms, cells safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io

from flask_babel import gettext as _

from .models import FeedbackForm, Kind
from .services import responses_of

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    """A leading quote keeps spreadsheets from reading an answer as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def answers_csv(form: FeedbackForm, locale: str) -> str:
    questions = form.questions
    labels = {q.id: dict(q.options_for(locale)) for q in questions if q.kind in Kind.CHOICES}
    out = io.StringIO()
    writer = csv.writer(out)
    head = [] if form.anonymous else [_("Respondent"), _("Date")]
    writer.writerow([safe_cell(c) for c in [*head, *(q.text_for(locale) for q in questions)]])
    responses = responses_of(form)
    if not form.anonymous:
        responses.sort(key=lambda r: r.respondent_name.casefold())
    for response in responses:
        row = [] if form.anonymous else [response.respondent_name, response.submitted_on.isoformat()]
        for q in questions:
            value = response.answers.get(str(q.id))
            if q.kind == Kind.MULTIPLE and value:
                value = "; ".join(labels[q.id].get(v, v) for v in value)
            elif q.kind == Kind.SINGLE and value:
                value = labels[q.id].get(value, value)
            row.append(value)
        writer.writerow([safe_cell(c) for c in row])
    return "\ufeff" + out.getvalue()  # a BOM, so spreadsheet programs read UTF-8 (Arabic, Chinese) correctly
