"""Which reminders and digests are due today; each is queued once, under its idempotency key.

A reminder goes out at the latest stage an unfinished employee has reached: N days before the
due date (``NOTIFY_REMIND_BEFORE_DAYS``), on the day, then once a week while overdue
(``NOTIFY_OVERDUE_EVERY_DAYS``). A sender that did not run for a few days sends the current
stage once, not every missed one. Digests go out once per ISO week, from
``NOTIFY_DIGEST_WEEKDAY`` on: HR's for the whole company, a manager's for their departments,
and one per department group robot.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from training.audit import chain
from training.auth.models import Role, User
from training.course.certificates import expiry_date, recertify_days
from training.course.lessons import active_lessons
from training.db import company_zone, local_day_start
from training.extensions import db
from training.i18n import N_
from training.language.selection import DEFAULT
from training.notifications import messages
from training.notifications.models import DepartmentWebhook, Kind, Notification
from training.reports.dashboard import overdue_rows, summary
from training.reports.status import COMPLETED, EXPIRED, Filters, employee_rows
from training.urls import public_url

DIGEST_ROWS = 50  # overdue employees listed in one digest


@dataclass
class PlanReport:
    """The keys of the notifications a planning run queued."""

    queued: list[str] = field(default_factory=list)


def reminder_stage(due: date, today: date, before: list[int] | None = None) -> str | None:
    """Return the reminder an employee due on ``due`` should have had by ``today``, if any.

    ``before`` overrides NOTIFY_REMIND_BEFORE_DAYS (recertification adds its warning days).
    """
    config = current_app.config
    if today > due:
        every = config["NOTIFY_OVERDUE_EVERY_DAYS"]
        if not every:
            return None
        late = (today - due).days
        return f"overdue:{1 + ((late - 1) // every) * every}"
    if today == due:
        return "due"
    ahead = sorted(before or config["NOTIFY_REMIND_BEFORE_DAYS"], reverse=True)
    reached = [days for days in ahead if today >= due - timedelta(days=days)]
    return f"before:{reached[-1]}" if reached else None


def _existing(keys: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        found.update(
            db.session.scalars(select(Notification.key).where(Notification.key.in_(chunk)))
        )
    return found


def plan_reminders(today: date, report: PlanReport) -> None:
    """Queue the current reminder of every active employee who has not finished (flush)."""
    rows = employee_rows(Filters(), today=today)
    stmt = select(rows.c.user_id, rows.c.due_date, rows.c.completed_count).where(
        rows.c.status.not_in([COMPLETED, EXPIRED]),
        rows.c.due_date.is_not(None),
        rows.c.email != "",
    )
    wanted: dict[str, tuple[int, date, str, int]] = {}
    for user_id, due, completed in db.session.execute(stmt):
        stage = reminder_stage(due, today)
        if stage is not None:
            key = f"reminder:{user_id}:{due.isoformat()}:{stage}"
            wanted[key] = (user_id, due, stage, completed)
    existing = _existing(list(wanted))  # once: in the comprehension it ran per key
    new = {key: value for key, value in wanted.items() if key not in existing}
    if not new:
        return
    users = {
        user.id: user
        for user in db.session.scalars(
            select(User).where(User.id.in_([user_id for user_id, *_ in new.values()]))
        )
    }
    lessons = active_lessons()
    for key, (user_id, due, stage, completed) in new.items():
        if messages.reminder(users[user_id], due, stage, today, lessons, completed) is not None:
            report.queued.append(key)


def iso_week(day: date) -> str:
    year, week, _weekday = day.isocalendar()
    return f"{year}-W{week:02d}"


def _digest_counts(counts: Any) -> dict[str, int]:
    return {
        name: counts.get(name, 0) for name in ("completed", "in_progress", "not_started", "overdue")
    }


def plan_digests(today: date, report: PlanReport) -> None:
    """Queue this week's digests once the digest weekday has come (flush)."""
    if today.isoweekday() < current_app.config["NOTIFY_DIGEST_WEEKDAY"]:
        return
    week = iso_week(today)
    overview = summary(today)
    by_department = {d.name: d for d in overview.departments}
    list_url = public_url("reports.employee_list", status="overdue")
    hr_users = db.session.scalars(
        select(User).where(User.role == Role.HR, User.active.is_(True), User.email != "")
    )
    company_overdue = overdue_rows(today, DIGEST_ROWS)
    since = local_day_start(today - timedelta(days=7))
    company_finished = finished_rows(since, DIGEST_ROWS)
    heads = chain.heads()
    evidence = {"heads": heads, "fingerprint": chain.fingerprint(heads)}
    for user in hr_users:
        key = f"hr_digest:{user.id}:{week}"
        if messages.digest(
            key,
            Kind.HR_DIGEST,
            user,
            title=N_("全公司服务规范培训周报"),
            rows=company_overdue,
            finished=company_finished,
            counts=_digest_counts(overview.counts),
            week=week,
            list_url=list_url,
            evidence=evidence,
        ):
            report.queued.append(key)
    managers = db.session.scalars(
        select(User).where(User.role == Role.MANAGER, User.active.is_(True), User.email != "")
    )
    for manager in managers:
        scope = manager.departments_managed
        if not scope:
            continue
        totals: Counter[str] = Counter()
        for name in scope:
            if name in by_department:
                totals.update(by_department[name].counts)
        key = f"manager_digest:{manager.id}:{week}"
        if messages.digest(
            key,
            Kind.MANAGER_DIGEST,
            manager,
            title=N_("%(departments)s服务规范培训周报"),
            title_params={"departments": list(scope)},
            rows=overdue_rows(today, DIGEST_ROWS, departments=scope),
            finished=finished_rows(since, DIGEST_ROWS, departments=scope),
            counts=_digest_counts(totals),
            week=week,
            list_url=public_url("reports.employee_list"),
        ):
            report.queued.append(key)
    for robot in db.session.scalars(select(DepartmentWebhook)):
        department = by_department.get(robot.department)
        if department is None:
            continue
        late = overdue_rows(today, DIGEST_ROWS, department=robot.department)
        done = finished_rows(since, DIGEST_ROWS, department=robot.department)
        key = f"webhook_digest:{robot.department}:{week}"
        # A group has no language of its own: its digest is in the company's.
        with force_locale(DEFAULT):
            title = _(
                "%(department)s服务规范培训周报（%(week)s）", department=robot.department, week=week
            )
            lines = _webhook_lines(_digest_counts(department.counts), late, done)
        if messages.webhook_digest(
            key, Kind.MANAGER_DIGEST, department=robot.department, title=title, lines=lines
        ):
            report.queued.append(key)


def _webhook_lines(counts: dict[str, int], late: list[Any], done: list[Any]) -> list[str]:
    """The Markdown lines of a department robot's digest, in the current locale."""
    lines = [
        _(
            "已完成 %(completed)s 人，进行中 %(in_progress)s 人，"
            "未开始 %(not_started)s 人，已逾期 %(overdue)s 人。",
            **counts,
        )
    ]
    if late:
        lines.append(_("逾期未完成："))
        lines += [
            "- "
            + _(
                "%(name)s（%(employee_no)s）截止 %(due)s",
                name=row.name,
                employee_no=row.employee_no,
                due=row.due_date.isoformat(),
            )
            for row in late
        ]
    if done:
        lines.append(_("最近 7 天完成："))
        lines += [
            "- " + _("%(name)s（%(employee_no)s）", name=row.name, employee_no=row.employee_no)
            for row in done
        ]
    return lines


def finished_rows(
    since: datetime,
    limit: int,
    *,
    department: str | None = None,
    departments: tuple[str, ...] | None = None,
) -> list[Any]:
    """Return who completed the course since ``since`` (of some departments), newest first."""
    rows = employee_rows(Filters(status=COMPLETED, department=department, departments=departments))
    stmt = (
        select(rows)
        .where(rows.c.completed_at >= since)
        .order_by(rows.c.completed_at.desc())
        .limit(limit)
    )
    return list(db.session.execute(stmt))


def plan_recertification(today: date, report: PlanReport) -> None:
    """Queue refresher reminders: RECERTIFY_WARN_DAYS and the usual days before a certificate
    runs out, on the day, then weekly while it is expired (flush)."""
    if not recertify_days():
        return
    warn = current_app.config["RECERTIFY_WARN_DAYS"]
    before = sorted({warn, *current_app.config["NOTIFY_REMIND_BEFORE_DAYS"]} - {0}, reverse=True)
    rows = employee_rows(Filters(), today=today)
    stmt = select(rows.c.user_id, rows.c.certificate_valid_from).where(
        rows.c.status.in_([COMPLETED, EXPIRED]),
        rows.c.certificate_valid_from.is_not(None),
        rows.c.email != "",
    )
    wanted: dict[str, tuple[int, date, str]] = {}
    for user_id, valid_from in db.session.execute(stmt):
        expires = expiry_date(valid_from)
        if expires is None:
            continue
        stage = reminder_stage(expires, today, before)
        if stage is not None:
            key = f"recertification:{user_id}:{expires.isoformat()}:{stage}"
            wanted[key] = (user_id, expires, stage)
    existing = _existing(list(wanted))  # once: in the comprehension it ran per key
    new = {key: value for key, value in wanted.items() if key not in existing}
    if not new:
        return
    users = {
        user.id: user
        for user in db.session.scalars(
            select(User).where(User.id.in_([user_id for user_id, *_ in new.values()]))
        )
    }
    for key, (user_id, expires, stage) in new.items():
        if messages.recertification(key, users[user_id], expires, stage, today) is not None:
            report.queued.append(key)


def plan(today: date) -> PlanReport:
    """Queue every reminder and digest due today (flush; the caller commits)."""
    report = PlanReport()
    plan_reminders(today, report)
    plan_recertification(today, report)
    plan_digests(today, report)
    return report


def quiet_window() -> tuple[time, time] | None:
    """Return NOTIFY_QUIET_HOURS as (start, end) local times, or None when there are none."""
    value = current_app.config["NOTIFY_QUIET_HOURS"]
    if not value:
        return None
    start, end = (time.fromisoformat(part.strip()) for part in value.split("-"))
    return start, end


def held_until(now: datetime) -> datetime | None:
    """Return when the quiet hours end, if ``now`` falls in them; else None."""
    window = quiet_window()
    if window is None:
        return None
    zone = company_zone()
    local = now.astimezone(zone)
    start, end = window
    clock = local.time()
    inside = (start <= clock or clock < end) if start > end else (start <= clock < end)
    if not inside:
        return None
    day = local.date() if clock < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=zone)
