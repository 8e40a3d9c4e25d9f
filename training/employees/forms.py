"""HR forms: new employee, import upload and confirmation, assignments, actions."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import get_timezone
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from wtforms import DateField, EmailField, HiddenField, SelectField, StringField, SubmitField
from wtforms.validators import AnyOf, DataRequired, Length, Optional, Regexp, ValidationError

from training.auth.models import Role, User
from training.employees import importer
from training.extensions import db
from training.forms import choices
from training.language.selection import NAMES

ROLE_CHOICES = [
    (Role.LEARNER.value, _l("员工（学员）")),
    (Role.MANAGER.value, _l("部门负责人")),
    (Role.HR.value, _l("人事")),
]

# The language of an employee's e-mails (and pages, until they pick one in the header). Empty:
# not chosen — e-mails in Chinese, pages in the browser's language.
LOCALE_CHOICES = [("", _l("未指定（邮件用中文）")), *NAMES.items()]  # each in its own words


def local_today() -> date:
    """Return today's date in the company's time zone."""
    return datetime.now(get_timezone()).date()


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class ProfileFields(FlaskForm):
    """What HR records about an employee, on the create and the edit form alike."""

    name = StringField(
        _l("姓名"),
        filters=[_strip],
        validators=[
            DataRequired(_l("请输入姓名。")),
            Length(max=100, message=_l("姓名最多 100 个字符。")),
        ],
        render_kw={"autocomplete": "off"},
    )
    department = StringField(
        _l("部门"),
        filters=[_strip],
        validators=[
            DataRequired(_l("请输入部门。")),
            Length(max=100, message=_l("部门最多 100 个字符。")),
        ],
        render_kw={"list": "departments", "autocomplete": "off"},
    )
    hire_date = DateField(
        _l("入职日期"),
        validators=[DataRequired(_l("请选择有效的入职日期。"))],
        description=_l("培训截止日期默认为入职日期后若干天。"),
    )
    email = EmailField(
        _l("邮箱（可选）"),
        filters=[_strip],
        validators=[Optional(), Length(max=255, message=_l("邮箱最多 255 个字符。"))],
        render_kw={"autocomplete": "off"},
        description=_l("填写后，账号邀请和截止提醒会发到这个邮箱。"),
    )
    position = StringField(
        _l("岗位（可选）"),
        filters=[_strip],
        validators=[Optional(), Length(max=100, message=_l("岗位最多 100 个字符。"))],
        render_kw={"autocomplete": "off"},
    )
    role = SelectField(_l("角色"), choices=choices(ROLE_CHOICES), default=Role.LEARNER.value)
    locale = SelectField(
        _l("语言"),
        choices=choices(LOCALE_CHOICES),
        default="",
        description=_l("账号邀请和提醒邮件用这种语言；员工在页面顶部切换语言后以其选择为准。"),
    )
    managed = StringField(
        _l("负责部门（部门负责人填写）"),
        filters=[_strip],
        # No Optional(): it would stop the chain before validate_managed sees an empty field.
        validators=[Length(max=1000)],
        description=_l(
            "多个部门用顿号分隔，例如：销售部、客服部。负责人只能看到这些部门员工的进度。"
        ),
        render_kw={"autocomplete": "off", "list": "departments"},
    )

    def validate_hire_date(self, field):
        """Refuse dates that cannot be a hire date."""
        if field.data and not 1950 <= field.data.year <= 2100:
            raise ValidationError(_l("入职日期不合理。"))

    def validate_email(self, field):
        """Check the address with the same rule as imports."""
        if field.data and importer.check_email(field.data):
            raise ValidationError(_l("邮箱格式不正确。"))

    def validate_managed(self, field):
        """A manager heads at least one department; nobody else heads any."""
        names = importer.parse_departments(field.data or "")
        if self.role.data == Role.MANAGER.value and not names:
            raise ValidationError(_l("部门负责人须填写负责部门。"))
        if any(len(name) > 100 for name in names):
            raise ValidationError(_l("部门名称最多 100 个字符。"))

    def managed_departments(self) -> tuple[str, ...]:
        """Return the departments entered (none unless the role is manager)."""
        if self.role.data != Role.MANAGER.value:
            return ()
        return importer.parse_departments(self.managed.data or "")


class EmployeeEditForm(ProfileFields):
    """HR corrects an employee's record; every change is audited with before and after."""

    # Accounts made on the command line may have no hire date; editing does not force one.
    hire_date = DateField(
        _l("入职日期"),
        validators=[Optional()],
        description=_l("改动后，未完成的入职培训截止日期按同样的规则重新计算。"),
    )
    submit = SubmitField(_l("保存修改"))


class EmployeeForm(ProfileFields):
    """Create one employee (no password: they get a set-password link)."""

    employee_no = StringField(
        _l("工号"),
        filters=[_strip],
        validators=[
            DataRequired(_l("请输入工号。")),
            Length(max=32, message=_l("工号最多 32 个字符。")),
            Regexp(
                importer.EMPLOYEE_NO_RE.pattern + "$",
                message=_l("工号只能包含字母、数字、短横线和下划线。"),
            ),
        ],
        render_kw={"autocomplete": "off", "autocapitalize": "none"},
    )
    submit = SubmitField(_l("创建员工"))

    def validate_employee_no(self, field):
        """Refuse a 工号 that exists, also when it differs only in upper/lower case."""
        taken = db.session.scalar(select(User.employee_no).where(User.employee_no_is(field.data)))
        if taken is not None:
            raise ValidationError(_l("工号 %(no)s 已存在。", no=taken))


class ImportUploadForm(FlaskForm):
    """Upload an employee list to preview."""

    file = FileField(
        _l("员工名单文件"),
        validators=[FileRequired(_l("请选择要导入的文件。"))],
        description=_l(
            "CSV（UTF-8 或 Excel 默认的 GBK 编码）或 Excel .xlsx 文件，第一行为表头："
            "工号、姓名、部门、入职日期，可选 邮箱、岗位、角色（员工/部门负责人/人事）、"
            "负责部门（部门负责人所管的部门，多个用顿号分隔）、语言（中文 或 English，邮件所用的语言）。"
            "填了邮箱的新员工会收到设置密码的邀请邮件。"
        ),
        render_kw={"accept": ".csv,.xlsx,text/csv"},
    )
    submit = SubmitField(_l("上传并预览"))


class ImportConfirmForm(FlaskForm):
    """Commit a previewed upload."""

    upload_id = HiddenField(validators=[DataRequired(), Length(max=64)])
    fingerprint = HiddenField(validators=[DataRequired(), Length(max=64)])
    policy = HiddenField(validators=[Optional(), AnyOf(["strict", "grace"])])
    submit = SubmitField(_l("确认导入"))


class DueDateMixin:
    """A due date that is not in the past."""

    def validate_due_date(self, field):
        """Refuse a due date before today."""
        if field.data and field.data < local_today():
            raise ValidationError(_l("截止日期不能早于今天。"))


class AssignForm(DueDateMixin, FlaskForm):
    """Assign (or re-assign) the course to one employee."""

    due_date = DateField(_l("截止日期"), validators=[DataRequired(_l("请选择有效的截止日期。"))])
    submit = SubmitField(_l("分配培训"))


class DepartmentAssignForm(DueDateMixin, FlaskForm):
    """Assign the course to every active employee of a department."""

    department = SelectField(_l("部门"), validators=[DataRequired(_l("请选择部门。"))])
    due_date = DateField(_l("截止日期"), validators=[DataRequired(_l("请选择有效的截止日期。"))])
    submit = SubmitField(_l("为该部门分配培训"))
