"""Lesson forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SubmitField
from wtforms.validators import DataRequired, Length


class AcknowledgeForm(FlaskForm):
    """Confirm having read the lesson in the version shown."""

    lesson_hash = HiddenField(validators=[DataRequired(), Length(min=64, max=64)])
    submit = SubmitField(_l("我已阅读并理解"))
