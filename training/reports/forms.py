"""The employee filter form (a GET form: bookmarkable, no CSRF needed)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, Form, SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from training.reports.status import STATUS_LABELS, STATUSES, Filters, parse_status


class FilterForm(Form):
    """Filter employees by 部门, 状态, 入职日期 and a name or 工号 search."""

    class Meta:
        # WTForms' own messages (an unreadable date) in Chinese too.
        locales = ("zh_CN", "zh")

    q = StringField(
        _l("姓名或工号"), validators=[Optional(), Length(max=100)], render_kw={"type": "search"}
    )
    department = SelectField(_l("部门"), choices=[], validate_choice=False)
    status = SelectField(_l("状态"), choices=[], validate_choice=False)
    hired_from = DateField(_l("入职日期从"), validators=[Optional()])
    hired_to = DateField(_l("入职日期至"), validators=[Optional()])
    include_inactive = BooleanField(_l("包含已停用员工"))
    include_staff = BooleanField(_l("包含未分配培训的人事和负责人"))

    def set_departments(self, names: list[str]) -> None:
        """Offer the departments that exist (plus "all")."""
        self.department.choices = [("", _l("全部部门"))] + [(name, name) for name in names]
        self.status.choices = [("", _l("全部状态"))] + [(s, STATUS_LABELS[s]) for s in STATUSES]

    def validate_hired_to(self, field: DateField) -> None:
        """Refuse a range that ends before it starts."""
        if field.data and self.hired_from.data and field.data < self.hired_from.data:
            raise ValidationError(_l("结束日期不能早于开始日期。"))

    def filters(self) -> Filters:
        """Return the filters from the fields that are valid (invalid ones are ignored)."""

        def ok(field):
            return field.data if not field.errors else None

        return Filters(
            department=ok(self.department) or None,
            status=parse_status(ok(self.status)),
            hired_from=ok(self.hired_from),
            hired_to=ok(self.hired_to),
            search=(ok(self.q) or "").strip() or None,
            include_inactive=bool(self.include_inactive.data),
            include_staff=bool(self.include_staff.data),
        )
