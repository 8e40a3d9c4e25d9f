"""Login and password forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from training.auth.passwords import password_problems


class LoginForm(FlaskForm):
    """Log in with 工号 and password."""

    employee_no = StringField(
        _l("工号"),
        validators=[DataRequired(_l("请输入工号。")), Length(max=32)],
        render_kw={"autocomplete": "username", "autocapitalize": "none"},
    )
    password = PasswordField(
        _l("密码"),
        validators=[DataRequired(_l("请输入密码。")), Length(max=256)],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(_l("登录"))


class NewPasswordForm(FlaskForm):
    """Choose a new password (typed twice) under the password policy."""

    new_password = PasswordField(
        _l("新密码"),
        validators=[DataRequired(_l("请输入新密码。")), Length(max=256)],
        description=_l("至少 10 个字符，不能是常见密码，不能包含工号或姓名。"),
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("再次输入新密码"),
        validators=[
            DataRequired(_l("请再次输入新密码。")),
            EqualTo("new_password", _l("两次输入的新密码不一致。")),
        ],
        render_kw={"autocomplete": "new-password"},
    )

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def validate_new_password(self, field):
        """Apply the password policy."""
        problems = password_problems(
            field.data or "", employee_no=self.user.employee_no, name=self.user.name
        )
        if problems:
            raise ValidationError(" ".join(problems))


class SetPasswordForm(NewPasswordForm):
    """Choose a password through a one-time link."""

    submit = SubmitField(_l("设置密码"))


class ChangePasswordForm(NewPasswordForm):
    """Change one's own password; the current one is required."""

    current_password = PasswordField(
        _l("当前密码"),
        validators=[DataRequired(_l("请输入当前密码。"))],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(_l("修改密码"))

    def validate_new_password(self, field):
        """Apply the policy and refuse reusing the current password."""
        super().validate_new_password(field)
        if field.data == self.current_password.data:
            raise ValidationError(_l("新密码不能与当前密码相同。"))
