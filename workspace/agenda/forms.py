from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional


class AgendaItemForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    minutes = IntegerField(
        _l("Minutes"),
        default=15,
        validators=[DataRequired(), NumberRange(min=1, max=600, message=_l("Between %(min)s and %(max)s minutes."))],
    )
    presenter = StringField(_l("Presenter"), validators=[Optional(), Length(max=120)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    expected_outcome = TextAreaField(_l("Expected outcome"), validators=[Optional(), Length(max=2000)])
