"""Forms of the notes page: who may edit, named versions, follow-up actions."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from .models import Editors, FollowUpAction


class EditorsForm(FlaskForm):
    editors = RadioField(
        _l("Who may edit the notes"), choices=list(Editors.LABELS.items()), validators=[DataRequired()]
    )


class VersionForm(FlaskForm):
    name = StringField(_l("Name of this version"), validators=[DataRequired(), Length(max=120)])


class ActionForm(FlaskForm):
    what = StringField(_l("What"), validators=[DataRequired(), Length(max=500)])
    who = StringField(_l("Who"), validators=[Optional(), Length(max=200)])
    due_on = DateField(_l("By when"), validators=[Optional()])


class ActionStatusForm(FlaskForm):
    status = SelectField(_l("Status"), choices=list(FollowUpAction.STATUS_LABELS.items()), validators=[DataRequired()])
