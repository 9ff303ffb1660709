"""The builder's forms, and the respondent's form built from a feedback form's questions."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional, StopValidation
from wtforms.widgets import CheckboxInput, ListWidget

from ..forms_common import language_choices
from .models import Kind
from .templates import TEMPLATE_LABELS

MAX_OPTIONS = 20


class CreateForm(FlaskForm):
    template = SelectField(_l("Start from"), choices=list(TEMPLATE_LABELS.items()), default="session")
    anonymous = BooleanField(_l("Anonymous: answers are not linked to the people who give them"), default=True)


class SettingsForm(FlaskForm):
    anonymous = BooleanField(_l("Anonymous: answers are not linked to the people who give them"))
    opens_at_session_end = BooleanField(_l("Open the form when the session ends"))
    closes_at = DateTimeLocalField(
        _l("Closes at (in the host's time zone)"),
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        validators=[Optional()],
        description=_l("Leave empty to keep the form open until you close it."),
    )


class QuestionForm(FlaskForm):
    """The text in any of the interface languages (one at least); choice options one per line, same order."""

    kind = SelectField(_l("Type of question"), choices=list(Kind.LABELS.items()), default=Kind.RATING)
    required = BooleanField(_l("An answer is required"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.languages = language_choices()

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        texts = self.texts
        first = self[f"text_{self.languages[0][0]}"]
        if not texts:
            first.errors = [*first.errors, _l("Write the question in at least one language.")]
            return False
        if self.kind.data in Kind.CHOICES:
            counts = {len(lines) for lines in self.option_lines.values() if lines}
            field = self[f"options_{self.languages[0][0]}"]
            if not counts or min(counts) < 2:
                field.errors = [*field.errors, _l("Give at least two options, one per line.")]
                return False
            if len(counts) > 1 or max(counts) > MAX_OPTIONS:
                field.errors = [
                    *field.errors,
                    _l("Give the same options, in the same order, in every language (at most %(n)d).", n=MAX_OPTIONS),
                ]
                return False
        return valid

    @property
    def texts(self) -> dict[str, str]:
        texts = {code: (self[f"text_{code}"].data or "").strip() for code, _name in self.languages}
        return {code: text for code, text in texts.items() if text}

    @property
    def option_lines(self) -> dict[str, list[str]]:
        lines = {}
        for code, _name in self.languages:
            raw = self[f"options_{code}"].data or ""
            lines[code] = [line.strip() for line in raw.splitlines() if line.strip()]
        return lines

    def options(self, existing: list[dict] | None = None) -> list[dict]:
        """Options keep their ids by position, so answers already given keep meaning what they meant."""
        if self.kind.data not in Kind.CHOICES:
            return []
        lines = {code: values for code, values in self.option_lines.items() if values}
        count = len(next(iter(lines.values())))
        ids = [o["id"] for o in existing or []]
        return [
            {
                "id": ids[i] if i < len(ids) else f"o{i + 1}",
                "texts": {code: values[i] for code, values in lines.items()},
            }
            for i in range(count)
        ]

    def fill_from(self, question) -> None:
        self.kind.data, self.required.data = question.kind, question.required
        for code, _name in self.languages:
            self[f"text_{code}"].data = question.texts.get(code, "")
            self[f"options_{code}"].data = "\n".join(o["texts"].get(code, "") for o in question.options)


def question_form_class():
    """QuestionForm with a text field and an options field for each interface language."""

    class Form(QuestionForm):
        pass

    for code, name in language_choices():
        setattr(Form, f"text_{code}", StringField(_l("Question (%(language)s)", language=name), [Length(max=500)]))
        setattr(
            Form,
            f"options_{code}",
            TextAreaField(_l("Options (%(language)s), one per line", language=name), [Length(max=5000)]),
        )
    return Form


# --- answering -----------------------------------------------------------------------------------------------


class OneChoice(RadioField):
    """A radio group that may be left empty (required-ness is a validator) and names its own error."""

    def pre_validate(self, form):
        if self.data is None and not self.raw_data:
            return
        super().pre_validate(form)


class ManyChoices(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def answer_form_class(questions, locale: str, enforce_required: bool = True):
    """A WTForms form with one field `q<id>` per question, labelled in the respondent's language."""

    class AnswerForm(FlaskForm):
        pass

    required_message = _l("This question needs an answer.")
    for q in questions:
        checks = [InputRequired(required_message)] if (q.required and enforce_required) else [Optional()]
        label = q.text_for(locale)
        if q.kind in Kind.RANGES:
            low, high = Kind.RANGES[q.kind]
            message = _l("Choose a number from %(low)d to %(high)d.", low=low, high=high)
            field = OneChoice(
                label,
                checks,
                choices=[(n, str(n)) for n in range(low, high + 1)],
                coerce=int,
                invalid_choice_message=message,
                invalid_value_message=message,
            )
        elif q.kind == Kind.SINGLE:
            field = OneChoice(
                label, checks, choices=q.options_for(locale), invalid_choice_message=_l("Choose one of the options.")
            )
        elif q.kind == Kind.MULTIPLE:
            field = ManyChoices(
                label,
                checks,
                choices=q.options_for(locale),
                invalid_choice_message=_l("Choose only among the options shown."),
            )
        else:
            limit = Kind.MAX_LENGTH[q.kind]
            too_long = _l("At most %(max)d characters, please shorten your answer.", max=limit)
            field_class = StringField if q.kind == Kind.SHORT else TextAreaField
            if q.required and enforce_required:
                checks = [NotBlank(required_message)]
            field = field_class(label, [*checks, Length(max=limit, message=too_long)])
        setattr(AnswerForm, f"q{q.id}", field)
    return AnswerForm


class NotBlank:
    """Text that is more than spaces, keeping what was typed."""

    def __init__(self, message):
        self.message = message
        self.field_flags = {"required": True}

    def __call__(self, form, field):
        if not (field.data or "").strip():
            raise StopValidation(self.message)


def answers_from(form, questions) -> dict:
    """The form's data as stored answers: ints for numbers, option ids, trimmed text."""
    answers = {}
    for q in questions:
        value = form[f"q{q.id}"].data
        if isinstance(value, str):
            value = value.strip()
        answers[str(q.id)] = value
    return answers


def answer_data(answers: dict, questions) -> dict:
    """Stored answers as form data, to fill the form again."""
    return {f"q{q.id}": answers.get(str(q.id)) for q in questions if str(q.id) in answers}
