"""Forms for importing and publishing a revised norm."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, HiddenField, StringField, SubmitField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length, ValidationError


class RevisionUploadForm(FlaskForm):
    """Upload a revised norm (.txt, .md or .docx) with its label and effective date."""

    file = FileField(
        _l("规范文件"),
        validators=[FileRequired(_l("请选择文件。"))],
        description=_l("支持 .txt、.md 和 .docx；以文件内容识别格式。"),
    )
    label = StringField(
        _l("版本名称"),
        validators=[DataRequired(_l("请填写版本名称。")), Length(max=100)],
        description=_l("例如：2027 年修订版"),
    )
    effective = DateField(_l("生效日期"), validators=[DataRequired(_l("请填写生效日期。"))])
    submit = SubmitField(_l("上传并预览"))

    def validate_effective(self, field):
        """Keep the effective date within a sensible range."""
        if field.data and not 2000 <= field.data.year <= 2999:
            raise ValidationError(_l("生效日期超出范围。"))


class PublishForm(FlaskForm):
    """Publish a previewed revision."""

    label = HiddenField(validators=[DataRequired(), Length(max=100)])
    effective = HiddenField(validators=[DataRequired()])
    # The version in force when the preview was shown: publishing compares it,
    # so HR never confirms a diff against a version that has since changed.
    base = HiddenField()
    submit = SubmitField(_l("确认发布"))


class QuestionReviewForm(FlaskForm):
    """HR's decision on a question held after a revision: keep it or withdraw it."""

    decision = HiddenField(
        validators=[DataRequired(), AnyOf(["keep", "withdraw"], message=_l("请选择处理方式。"))]
    )
    note = TextAreaField(
        _l("复核说明（可选）"),
        validators=[Length(max=500)],
        description=_l("例如：新条文只改了措辞，题目和解析仍然正确。"),
    )
