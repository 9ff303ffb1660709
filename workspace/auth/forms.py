from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from ..forms_common import country_choices, language_choices, strip, timezone_choices, valid_timezone

PASSWORD_RULES = [
    DataRequired(),
    Length(min=10, max=128, message=_l("Use between %(min)d and %(max)d characters.")),
]


def _email_field():
    return EmailField(_l("Email"), filters=[strip], validators=[DataRequired(), Length(max=254), Email()])


class RegisterForm(FlaskForm):
    display_name = StringField(_l("Display name"), validators=[DataRequired(), Length(max=80)])
    email = _email_field()
    password = PasswordField(_l("Password"), validators=PASSWORD_RULES)
    confirm = PasswordField(
        _l("Repeat password"), validators=[DataRequired(), EqualTo("password", _l("The passwords do not match."))]
    )
    timezone = SelectField(_l("Time zone"), validators=[valid_timezone], default="UTC")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = timezone_choices()


class LoginForm(FlaskForm):
    email = _email_field()
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=128)])
    remember = BooleanField(_l("Keep me signed in on this device"))


class ForgotPasswordForm(FlaskForm):
    email = _email_field()


class ResetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=PASSWORD_RULES)
    confirm = PasswordField(
        _l("Repeat password"), validators=[DataRequired(), EqualTo("password", _l("The passwords do not match."))]
    )


class ChangePasswordForm(ResetPasswordForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=128)])


class ProfileForm(FlaskForm):
    display_name = StringField(_l("Display name"), validators=[DataRequired(), Length(max=80)])
    organisation = StringField(_l("Organisation"), validators=[Optional(), Length(max=120)])
    country = SelectField(_l("Country"), validators=[Optional()])
    locale = SelectField(_l("Preferred language"))
    timezone = SelectField(_l("Time zone"), validators=[valid_timezone])
    gender = StringField(
        _l("Gender (optional, in your own words)"),
        validators=[Optional(), Length(max=60)],
        description=_l("Only used to show the balance of the team. Leave empty if you prefer."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = country_choices()
        self.locale.choices = language_choices()
        self.timezone.choices = timezone_choices()
