"""Results of a form (counts, averages, distributions, text answers) and of every form of an exchange."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import format_decimal, format_percent

from ..sessions.models import ExchangeSession
from .models import FeedbackForm, FeedbackQuestion, Kind
from .services import form_of, participant_count, responses_of


@dataclass
class Bar:
    label: str
    count: int
    percent: float  # of the people who answered the question

    @property
    def percent_text(self) -> str:
        return format_percent(self.percent / 100)


def average_text(value: float | None) -> str:
    return "–" if value is None else format_decimal(value, format="#,##0.0")


@dataclass
class QuestionResult:
    question: FeedbackQuestion
    text: str
    answered: int = 0
    average: float | None = None
    bars: list[Bar] = field(default_factory=list)
    texts: list[tuple[str, str]] = field(default_factory=list)  # (respondent's name or "", answer)

    @property
    def average_text(self) -> str:
        return average_text(self.average)


@dataclass
class FormResult:
    form: FeedbackForm
    responses: int
    participants: int
    questions: list[QuestionResult]

    @property
    def rate(self) -> float | None:
        return self.responses / self.participants if self.participants else None

    @property
    def rate_text(self) -> str:
        return "–" if self.rate is None else format_percent(self.rate)


def summarise(form: FeedbackForm, locale: str) -> FormResult:
    responses = responses_of(form)
    named = not form.anonymous
    if named:
        responses.sort(key=lambda r: r.respondent_name.casefold())
    results = []
    for q in form.questions:
        values = [(r, r.answers[str(q.id)]) for r in responses if str(q.id) in r.answers]
        result = QuestionResult(q, q.text_for(locale), answered=len(values))
        if q.kind in Kind.RANGES:
            numbers = [v for _r, v in values]
            low, high = Kind.RANGES[q.kind]
            result.average = sum(numbers) / len(numbers) if numbers else None
            result.bars = _bars([(str(n), numbers.count(n)) for n in range(low, high + 1)], len(numbers))
        elif q.kind in Kind.CHOICES:
            chosen = [oid for _r, v in values for oid in (v if isinstance(v, list) else [v])]
            result.bars = _bars([(label, chosen.count(oid)) for oid, label in q.options_for(locale)], len(values))
        else:
            result.texts = [(r.respondent_name if named else "", v) for r, v in values]
        results.append(result)
    return FormResult(form, len(responses), participant_count(form.session), results)


def _bars(counts: list[tuple[str, int]], answered: int) -> list[Bar]:
    return [Bar(label, n, 100 * n / answered if answered else 0.0) for label, n in counts]


@dataclass
class ExchangeRow:
    label: str
    kind: str
    averages: list[float | None]

    @property
    def average_texts(self) -> list[str]:
        return [average_text(a) for a in self.averages]


def across_sessions(sessions: list[ExchangeSession], locale: str) -> tuple[list[FormResult], list[ExchangeRow]]:
    """Every session's results side by side; numeric questions lined up by template key, else by text."""
    summaries = [summarise(f, locale) for f in (form_of(s) for s in sessions) if f is not None]
    rows: dict[str, ExchangeRow] = {}
    for column, summary in enumerate(summaries):
        for result in summary.questions:
            if result.question.kind not in Kind.RANGES:
                continue
            ident = f"{result.question.kind}:{result.question.key or result.text}"
            row = rows.setdefault(ident, ExchangeRow(result.text, result.question.kind, [None] * len(summaries)))
            row.averages[column] = result.average
    return summaries, list(rows.values())
