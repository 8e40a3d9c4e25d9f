"""HR forms for question banks: upload a file for a lesson, publish a previewed draft."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, SelectField, SubmitField
from wtforms.validators import DataRequired, Length


class BankUploadForm(FlaskForm):
    """A bank file to preview for one lesson."""

    lesson = SelectField(_l("课程"), validators=[DataRequired(_l("请选择课程。"))])
    file = FileField(
        _l("题库文件"),
        validators=[FileRequired(_l("请选择要导入的文件。"))],
        description=_l(
            "Excel 模板（.xlsx）、YAML（.yaml）、GIFT（.gift 或 .txt）或 Moodle XML（.xml）。"
            "文件替换这一课的全部题目：文件里没有的题目会停用。"
        ),
        render_kw={"accept": ".xlsx,.yaml,.yml,.gift,.txt,.xml"},
    )
    submit = SubmitField(_l("上传并预览"))


class BankPublishForm(FlaskForm):
    """Publish a draft exactly as previewed."""

    base = HiddenField(validators=[DataRequired(), Length(max=64)])
    submit = SubmitField(_l("发布题库"))
