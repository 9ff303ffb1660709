from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..forms_common import country_choices, working_language_choices
from .models import Role, Side

MAX_INVITES = 50
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ExchangeForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    goal = TextAreaField(_l("Goal of the exchange"), validators=[Optional(), Length(max=5000)])
    seeking_country = SelectField(_l("Knowledge-seeking country"), validators=[DataRequired()])
    providing_countries = SelectMultipleField(
        _l("Knowledge-providing countries"), validators=[DataRequired(_l("Choose at least one country."))]
    )
    working_languages = SelectMultipleField(
        _l("Working languages"), validators=[DataRequired(_l("Choose at least one language."))]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.seeking_country.choices = country_choices(blank=False)
        self.providing_countries.choices = country_choices(blank=False)
        self.working_languages.choices = working_language_choices()

    def validate_providing_countries(self, field):
        if len(field.data) > 20:
            raise ValidationError(_l("Choose at most %(n)d countries.", n=20))
        if self.seeking_country.data in field.data:
            raise ValidationError(_l("The knowledge-seeking country cannot also be a providing country."))


def email_list_field() -> TextAreaField:
    return TextAreaField(
        _l("Email addresses"),
        validators=[DataRequired(), Length(max=20000), EmailList()],
        description=_l("One address per line, or separated by commas."),
    )


class EmailList:
    """Validates a pasted list of addresses and leaves the clean, de-duplicated list on the form."""

    def __call__(self, form, field):
        addresses = [a.strip().lower() for a in re.split(r"[,;\s]+", field.data or "") if a.strip()]
        if not addresses:
            raise ValidationError(_l("Enter at least one email address."))
        if len(addresses) > MAX_INVITES:
            raise ValidationError(_l("Invite at most %(n)d people at a time.", n=MAX_INVITES))
        bad = [a for a in addresses if len(a) > 254 or not _EMAIL.match(a)]
        if bad:
            raise ValidationError(_l("Not an email address: %(address)s", address=bad[0][:80]))
        form.addresses = list(dict.fromkeys(addresses))


class InviteForm(FlaskForm):
    emails = email_list_field()
    role = SelectField(_l("Role"), choices=list(Role.LABELS.items()), default=Role.PARTICIPANT)
    side = SelectField(_l("Side"), choices=list(Side.LABELS.items()), default=Side.SEEKING)


class MemberForm(FlaskForm):
    role = SelectField(_l("Role"), choices=list(Role.LABELS.items()))
    side = SelectField(_l("Side"), choices=list(Side.LABELS.items()))
