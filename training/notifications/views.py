"""HR's notifications page: what was sent, what failed and why, retry or cancel; group robots."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import SelectField, StringField, SubmitField, URLField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from training.audit.models import AuditEvent
from training.audit.services import record
from training.auth.decorators import hr_required, may_view, staff_required
from training.auth.models import User
from training.db import company_today, local_day_start, page_number, utcnow
from training.extensions import db
from training.forms import choices, require_action_form
from training.i18n import N_, term
from training.notifications import jobs as _jobs  # noqa: F401 - registers notify.send
from training.notifications import messages, outbox, planner
from training.notifications.channels import WEBHOOK_KINDS, masked
from training.notifications.models import Channel, Delivery, DepartmentWebhook, Notification
from training.notifications.status import (
    CANCELLABLE,
    LABELS,
    RETRYABLE,
    Status,
    counts,
    listing,
    page_of,
)
from training.reports.status import Filters, status_select

bp = Blueprint(
    "notifications", __name__, url_prefix="/hr/notifications", template_folder="templates"
)

PER_PAGE = 50
ROBOT_TERMS = {"wecom": N_("企业微信"), "dingtalk": N_("钉钉"), "feishu": N_("飞书")}
ROBOT_LABELS = {kind: _l(word) for kind, word in ROBOT_TERMS.items()}
KIND_LABELS = {
    "invitation": _l("账号邀请"),
    "reminder": _l("截止提醒"),
    "retraining": _l("重新学习通知"),
    "manager_digest": _l("部门周报"),
    "hr_digest": _l("人事周报"),
    "nudge": _l("催办提醒"),
    "recertification": _l("复训提醒"),
}


class FilterForm(FlaskForm):
    """Filters as GET parameters (they change nothing, so no CSRF token)."""

    class Meta:
        csrf = False

    status = SelectField(
        _l("状态"),
        choices=choices([("", _l("全部")), *((s.value, label) for s, label in LABELS.items())]),
        default="",
        validators=[Optional()],
    )
    q = StringField(_l("收件人"), validators=[Optional(), Length(max=100)])


class WebhookForm(FlaskForm):
    """A department's group robot."""

    department = SelectField(_l("部门"), validators=[DataRequired(_l("请选择部门。"))])
    kind = SelectField(_l("类型"), choices=choices([(k, ROBOT_LABELS[k]) for k in WEBHOOK_KINDS]))
    url = URLField(
        _l("机器人地址（Webhook）"),
        validators=[
            DataRequired(_l("请填写机器人地址。")),
            Length(max=500),
            Regexp(r"(?i)^https?://[^\s/]+/\S*$", message=_l("请填写以 https:// 开头的完整地址。")),
        ],
        description=_l(
            "在群设置 → 群机器人中复制。部门周报会发到这个群。地址含密钥，保存后只显示开头。"
        ),
    )
    submit = SubmitField(_l("保存"))


bp.add_app_template_filter(masked, "masked_url")


def _departments() -> list[str]:
    return list(
        db.session.scalars(
            select(User.department)
            .where(User.department != "")
            .group_by(User.department)
            .order_by(User.department)
        )
    )


def _webhook_form() -> WebhookForm:
    form = WebhookForm()
    form.department.choices = choices([(d, d) for d in _departments()])
    return form


@bp.route("/")
@hr_required
def index():
    """List notifications newest first with their status; filter by status and recipient."""
    form = FilterForm(request.args)
    status = None
    if form.validate() and form.status.data:
        status = Status(form.status.data)
    search = (form.q.data or "").strip()
    page = page_of(listing(status, search), page_number(request.args.get("page")), PER_PAGE)
    last_run = db.session.scalar(
        select(func.max(Delivery.at))
        .join(Notification, Notification.id == Delivery.notification_id)
        .where(Notification.channel != Channel.LRS)
    )
    return render_template(
        "notifications/index.html",
        form=form,
        page=page,
        rows=page.items,
        counts=counts(),
        labels=LABELS,
        kind_labels=KIND_LABELS,
        retryable=RETRYABLE,
        cancellable=CANCELLABLE,
        filters={"status": form.status.data or "", "q": search},
        mail_configured=bool(current_app.config["MAIL_SERVER"]),
        quiet=planner.quiet_window(),
        held_until=planner.held_until(utcnow()),
        last_run=last_run,
        robots=db.session.scalars(
            select(DepartmentWebhook).order_by(DepartmentWebhook.department)
        ).all(),
        robot_labels=ROBOT_LABELS,
        webhook_form=_webhook_form(),
    )


@bp.route("/<int:notification_id>/retry", methods=["POST"])
@hr_required
def retry(notification_id: int):
    """Send a given-up, uncertain or cancelled notification again."""
    notification = db.get_or_404(Notification, notification_id)
    require_action_form()
    row = db.session.execute(listing().where(Notification.id == notification.id)).one()
    if Status(row.status) not in RETRYABLE:
        flash(_("这条通知正在队列中或已发送，无需重新发送。"), "info")
    elif outbox.requeue(notification):
        db.session.commit()
        flash(_("已重新加入发送队列，下一次发送时送出。"), "success")
    else:
        flash(_("这条通知已在发送队列中。"), "info")
    return redirect(url_for(".index"))


@bp.route("/<int:notification_id>/cancel", methods=["POST"])
@hr_required
def cancel(notification_id: int):
    """Withdraw a notification that has not been sent yet."""
    notification = db.get_or_404(Notification, notification_id)
    require_action_form()
    if outbox.cancel(notification):
        db.session.commit()
        flash(_("已取消，这条通知不会发出。"), "success")
    else:
        flash(_("这条通知正在发送或已结束，无法取消。"), "error")
    return redirect(url_for(".index"))


@bp.route("/robots", methods=["POST"])
@hr_required
def save_robot():
    """Set (or replace) a department's group robot."""
    form = _webhook_form()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
        return redirect(url_for(".index") + "#robots")
    robot = db.session.get(DepartmentWebhook, form.department.data)
    before = {"kind": robot.kind, "url": masked(robot.url)} if robot else None
    if robot is None:
        robot = DepartmentWebhook(department=form.department.data)
        db.session.add(robot)
    robot.kind = form.kind.data
    robot.url = form.url.data or ""
    robot.updated_at = utcnow()
    record(
        "webhook.set",
        N_("设置 %(department)s 的群机器人（%(kind)s）"),
        params={"department": robot.department, "kind": term(ROBOT_TERMS[robot.kind])},
        details={
            "department": robot.department,
            "before": before,
            "after": {"kind": robot.kind, "url": masked(robot.url)},
        },
    )
    db.session.commit()
    flash(_("已保存 %(department)s 的群机器人。", department=form.department.data), "success")
    return redirect(url_for(".index") + "#robots")


@bp.route("/robots/<department>/delete", methods=["POST"])
@hr_required
def delete_robot(department: str):
    """Stop sending a department's digests to its group robot."""
    robot = db.get_or_404(DepartmentWebhook, department)
    require_action_form()
    record(
        "webhook.delete",
        N_("删除 %(department)s 的群机器人"),
        params={"department": department},
        details={
            "department": department,
            "before": {"kind": robot.kind, "url": masked(robot.url)},
        },
    )
    db.session.delete(robot)
    db.session.commit()
    flash(_("已删除 %(department)s 的群机器人。", department=department), "success")
    return redirect(url_for(".index") + "#robots")


@bp.route("/nudge/<int:user_id>", methods=["POST"])
@staff_required
def nudge(user_id: int):
    """Send an employee a reminder now: HR, or the manager of their department; audited.

    Once per employee and day (whoever asks), and at most NOTIFY_NUDGES_PER_DAY per sender.
    """
    employee = db.get_or_404(User, user_id)
    if not may_view(current_user, employee):
        abort(404)
    require_action_form()
    back = redirect(url_for("reports.employee_detail", user_id=employee.id))
    if not employee.active or not employee.email:
        flash(_("该员工没有可用的邮箱，无法发送提醒。"), "error")
        return back
    today = company_today()
    sent_today = db.session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(
            AuditEvent.action == "employee.nudge",
            AuditEvent.actor_id == current_user.id,
            AuditEvent.at >= local_day_start(today),
        )
    )
    if (sent_today or 0) >= current_app.config["NOTIFY_NUDGES_PER_DAY"]:
        flash(_("您今天发送的提醒已达上限，请明天再试。"), "error")
        return back
    row = db.session.execute(status_select(Filters(), user_id=employee.id)).one()
    sender = current_user._get_current_object()
    if messages.nudge(employee, row.due_date, sender, today) is None:
        flash(_("今天已经提醒过 %(name)s，明天可以再次提醒。", name=employee.name), "info")
        return back
    record(
        "employee.nudge",
        N_("提醒 %(name)s（%(employee_no)s）完成培训"),
        params={"name": employee.name, "employee_no": employee.employee_no},
        target=employee,
        details={"due_date": row.due_date.isoformat() if row.due_date else None},
    )
    db.session.commit()
    flash(_("已安排提醒邮件发给 %(name)s。", name=employee.name), "success")
    return back
