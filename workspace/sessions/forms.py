from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from ..exchanges.forms import email_list_field
from ..forms_common import timezone_choices, valid_timezone, working_language_choices
from .models import GuestPolicy, Method, Mode, Phase


class SessionForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    method = SelectField(_l("Method"), choices=list(Method.LABELS.items()), default="workshop")
    phase = SelectField(_l("Phase"), choices=list(Phase.LABELS.items()), default="implementation")
    mode = SelectField(
        _l("Mode"),
        choices=list(Mode.LABELS.items()),
        default=Mode.CLOSED,
        description=_l("Closed sessions are a confidential space for invited peers; nothing is public or recorded."),
    )
    starts_at = DateTimeLocalField(
        _l("Start (in the host's time zone)"),
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        validators=[DataRequired(_l("Enter a date and time."))],
    )
    host_timezone = SelectField(_l("Host's time zone"), validators=[valid_timezone])
    duration_minutes = IntegerField(
        _l("Length (minutes)"),
        default=90,
        validators=[
            DataRequired(),
            NumberRange(min=5, max=24 * 60, message=_l("Between %(min)s and %(max)s minutes.")),
        ],
    )
    online_url = URLField(_l("Online link"), validators=[Optional(), Length(max=500)])
    venue = StringField(_l("Venue"), validators=[Optional(), Length(max=300)])
    working_languages = SelectMultipleField(_l("Working languages"), validators=[Optional()])
    guest_policy = SelectField(_l("Guests"), choices=list(GuestPolicy.LABELS.items()), default=GuestPolicy.OPEN)
    capacity = IntegerField(
        _l("Capacity (people)"),
        validators=[Optional(), NumberRange(min=1, max=100_000)],
        description=_l("Leave empty for no limit."),
    )
    expected_outcomes = TextAreaField(_l("Expected outcomes"), validators=[Optional(), Length(max=5000)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.host_timezone.choices = timezone_choices()
        self.working_languages.choices = working_language_choices()

    def validate_online_url(self, field):
        if field.data and not field.data.lower().startswith(("https://", "http://")):
            raise ValidationError(_l("The link must start with https:// or http://."))

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if not (self.venue.data or "").strip() and not (self.online_url.data or "").strip():
            self.venue.errors = [*self.venue.errors, _l("Give an online link, a venue, or both.")]
            return False
        return valid


class JoinCodeForm(FlaskForm):
    code = StringField(_l("Join code"), validators=[DataRequired(), Length(max=32)])


class GuestForm(FlaskForm):
    display_name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=60)])

    def validate_display_name(self, field):
        field.data = " ".join((field.data or "").split())
        if not field.data:
            raise ValidationError(_l("Enter the name others will see."))


class SessionInviteForm(FlaskForm):
    emails = email_list_field()
