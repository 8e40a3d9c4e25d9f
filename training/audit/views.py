"""HR view of the audit log: read-only, there is no route to change or remove an event."""

from __future__ import annotations

import io
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, abort, render_template, request, send_file
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import Select, select
from sqlalchemy.orm import aliased, contains_eager
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from training.audit import chain
from training.audit.models import AuditEvent
from training.audit.services import ACTIONS, record
from training.auth.decorators import hr_required
from training.auth.models import User, employee_no_matches
from training.db import company_today, company_zone, local_day_start, page_number, writes
from training.extensions import db
from training.forms import choices
from training.i18n import N_
from training.logs import security_event
from training.sheets import XLSX_MIMETYPE, write_csv, write_xlsx

bp = Blueprint("audit", __name__, url_prefix="/hr/audit", template_folder="templates")

PER_PAGE = 50


class AuditFilterForm(FlaskForm):
    """Filters for the audit log, sent as GET parameters so a filtered view can be bookmarked."""

    # A GET filter changes nothing, so it needs no CSRF token (and the URL stays clean).
    class Meta:
        csrf = False

    action = SelectField(
        _l("操作"),
        choices=choices([("", _l("全部操作")), *ACTIONS.items()]),
        default="",
        validators=[Optional()],
    )
    actor = StringField(_l("操作人工号"), validators=[Optional(), Length(max=32)])
    target = StringField(_l("对象员工工号"), validators=[Optional(), Length(max=32)])
    date_from = DateField(
        _l("开始日期"),
        validators=[Optional()],
        description=_l("按北京时间计算，含当天。"),
    )
    date_to = DateField(
        _l("结束日期"),
        validators=[Optional()],
        description=_l("含当天。"),
    )

    def validate_date_to(self, field: DateField) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("结束日期不能早于开始日期。"))
        _check_year(field)

    def validate_date_from(self, field: DateField) -> None:
        _check_year(field)


def _check_year(field: DateField) -> None:
    # Dates near the ends of the calendar overflow when turned into instants.
    if field.data and not 1900 <= field.data.year <= 2999:
        raise ValidationError(_l("日期超出范围。"))


def filtered_events(form: AuditFilterForm) -> Select[tuple[AuditEvent]]:
    """Return the events matching the form's filters, newest first, actor and target joined in."""
    actor = aliased(User)
    target = aliased(User)
    stmt = (
        select(AuditEvent)
        .outerjoin(actor, AuditEvent.actor)
        .outerjoin(target, AuditEvent.target_user)
        .options(
            contains_eager(AuditEvent.actor.of_type(actor)),
            contains_eager(AuditEvent.target_user.of_type(target)),
        )
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    )
    if form.action.data:
        stmt = stmt.where(AuditEvent.action == form.action.data)
    if form.actor.data and form.actor.data.strip():
        stmt = stmt.where(employee_no_matches(actor.employee_no, form.actor.data.strip()))
    if form.target.data and form.target.data.strip():
        stmt = stmt.where(employee_no_matches(target.employee_no, form.target.data.strip()))
    if form.date_from.data:
        stmt = stmt.where(AuditEvent.at >= local_day_start(form.date_from.data))
    if form.date_to.data:
        stmt = stmt.where(AuditEvent.at < local_day_start(form.date_to.data + timedelta(days=1)))
    return stmt


@bp.app_template_filter("audit_json")
def audit_json(details: Any) -> str:
    """Return event details as indented JSON with readable Chinese (escaped by the template)."""
    return json.dumps(details, ensure_ascii=False, indent=2, sort_keys=True)


@bp.route("/")
@hr_required
def index():
    """List audit events, newest first, filtered by action, actor, employee and local dates."""
    form = AuditFilterForm(request.args)
    valid = form.validate()
    page = None
    if valid:
        page = db.paginate(
            filtered_events(form),
            page=page_number(request.args.get("page")),
            per_page=PER_PAGE,
            max_per_page=PER_PAGE,
            error_out=False,
        )
    heads = chain.heads()
    # Keep the filters (not the page number) in the pager's links.
    filters = {key: value for key, value in request.args.items() if key in FILTER_KEYS and value}
    return render_template(
        "audit/index.html",
        form=form,
        page=page,
        filters=filters,
        actions=ACTIONS,
        heads=heads,
        fingerprint=chain.fingerprint(heads),
    ), (200 if valid else 422)


FILTER_KEYS = ("action", "actor", "target", "date_from", "date_to")
EXPORT_ROWS_MAX = 200_000  # one file; narrow the dates for more


@dataclass(frozen=True)
class _Column:
    label: str
    get: Callable[[AuditEvent], Any]

    def value(self, event: AuditEvent) -> Any:
        value = self.get(event)
        if isinstance(value, datetime):
            return value.astimezone(company_zone()).replace(tzinfo=None)
        return value

    def text(self, event: AuditEvent) -> str:
        value = self.value(event)
        if value is None:
            return ""
        if isinstance(value, datetime):
            return value.strftime("%Y-%m-%d %H:%M:%S")
        return str(value)


def _person(user: User | None) -> str:
    return f"{user.name}({user.employee_no})" if user is not None else ""


def _columns() -> list[_Column]:
    cli = str(_l("命令行"))
    return [
        _Column(str(_l("编号")), lambda e: e.id),
        _Column(str(_l("时间")), lambda e: e.at),
        _Column(str(_l("操作人")), lambda e: cli if e.channel == "cli" else _person(e.actor)),
        _Column(str(_l("操作")), lambda e: str(ACTIONS.get(e.action, e.action))),
        _Column(str(_l("操作代码")), lambda e: e.action),
        _Column(str(_l("对象员工")), lambda e: _person(e.target_user)),
        _Column(str(_l("摘要")), lambda e: e.summary_text),
        _Column(
            str(_l("详情")),
            lambda e: (
                json.dumps(e.details, ensure_ascii=False, sort_keys=True) if e.details else ""
            ),
        ),
    ]


@bp.route("/export.<any(csv, xlsx):fmt>")
@hr_required
@writes
def export(fmt: str):
    """Download the filtered audit log as CSV or XLSX, like the other lists (audited)."""
    form = AuditFilterForm(request.args)
    if not form.validate():
        abort(422)
    stmt = filtered_events(form).limit(EXPORT_ROWS_MAX)
    rows = db.session.scalars(stmt, execution_options={"yield_per": 2000})
    out = tempfile.TemporaryFile()  # noqa: SIM115 - send_file closes it after sending
    if fmt == "csv":
        text = io.TextIOWrapper(out, encoding="utf-8", newline="")
        count = write_csv(_columns(), rows, text)
        text.flush()
        text.detach()
    else:
        count = write_xlsx(_columns(), rows, out, str(_l("审计日志")))
    out.seek(0)
    filters = {key: value for key, value in request.args.items() if key in FILTER_KEYS and value}
    security_event("export", what="audit", format=fmt, rows=count, filters=filters)
    record(
        "export",
        N_("导出审计日志（%(format)s，%(rows)s 行）"),
        params={"format": fmt.upper(), "rows": count},
        details={"what": "audit", "format": fmt, "filters": filters, "rows": count},
    )
    db.session.commit()
    return send_file(
        out,
        mimetype="text/csv; charset=utf-8" if fmt == "csv" else XLSX_MIMETYPE,
        as_attachment=True,
        download_name=f"{_('审计日志')}-{company_today():%Y%m%d}.{fmt}",
    )
