"""Sending the outbox as a background job (``notify.send``), queued by a schedule of the runner.

``send_now`` is what ``flask notify send`` does and what the job does: let the calendar's due
events happen (a scheduled revision takes effect), plan today's reminders and digests, then,
outside quiet hours, send everything due. The job kind is ``single`` (one queued or running at
a time) and ``own_transactions``: the outbox commits each claim and each outcome itself, so a
message once sent is marked sent whatever happens to the job afterwards.

What a runner killed mid-send means, honestly:

- a message marked sent is never sent again (at most once, by the outbox);
- a message not yet claimed is sent by the run that takes over (nothing is lost);
- a message claimed and ``started`` when the runner died may or may not have reached the mail
  server. It is not sent again automatically — once its claim's lease has run out, the next
  run marks it 不确定是否送达 and HR decides (resending it is HR's at-least-once choice). So
  every message goes out at most once on its own, and is never lost without HR seeing it.

The schedule queues the job when due mail waits and can go out now (outside quiet hours, on a
channel that is configured), or when today's reminders have not been planned yet (no
``notify.send`` job was queued since the company's midnight).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import exists, select

from training.course.signals import clock_ticked
from training.db import company_today, local_day_start, utcnow, write_transaction
from training.extensions import db
from training.i18n import N_
from training.jobs import runner
from training.jobs.models import Job, JobState
from training.notifications import channels, outbox, planner
from training.notifications.models import Channel, Notification, QueueEntry

KIND = "notify.send"


def deliverable() -> tuple[Channel, ...]:
    """The channels that can go out now: webhooks always, e-mail once MAIL_SERVER is set."""
    if current_app.config["MAIL_SERVER"]:
        return (Channel.EMAIL, Channel.WEBHOOK)
    return (Channel.WEBHOOK,)


@dataclass(frozen=True)
class SendRun:
    """What one ``send_now`` did: notices newly planned, and the send (None in quiet hours)."""

    planned: int
    held_until: datetime | None
    report: outbox.SendReport | None


def send_now(channels_to_send: tuple[Channel, ...] = outbox.MESSAGES) -> SendRun:
    """Plan today's notices, then send what is due unless it is quiet hours."""
    clock_ticked.send()
    with write_transaction():
        planned = len(planner.plan(company_today()).queued)
    held = planner.held_until(utcnow())
    if held is not None:
        return SendRun(planned, held, None)
    return SendRun(planned, None, outbox.send_due(channels.deliver, channels=channels_to_send))


@runner.register(
    KIND,
    result_template="notifications/send_job_result.html",
    own_transactions=True,
    single=True,
)
def run_send(job: Job, progress: runner.Progress) -> dict[str, Any]:
    """Send the due outbox; a failed message is retried later by the outbox, never lost."""
    done = send_now(deliverable())
    planned, report = done.planned, done.report
    if report is None:
        return {"planned": planned, "held_until": str(done.held_until)}
    progress(report.sent + report.failed + report.gave_up)
    if report.failed or report.gave_up:
        raise runner.JobFailed(
            _(
                "已发送 %(sent)d 条；%(failed)d 条发送失败，稍后自动重试；%(gave_up)d 条已放弃。"
                "第一条错误：%(error)s。详情见“通知”页。",
                sent=report.sent,
                failed=report.failed,
                gave_up=report.gave_up,
                error=report.errors[0] if report.errors else "",
            )
        )
    return {"planned": planned, "sent": report.sent}


@runner.schedule
def schedule_send() -> None:
    """Queue ``notify.send`` when mail is due and may go now, or today is not planned yet."""
    now = utcnow()
    planned_today = db.session.scalar(
        select(exists().where(Job.kind == KIND, Job.created_at >= local_day_start(company_today())))
    )
    due = False
    if planner.held_until(now) is None:
        due = (
            db.session.scalar(
                select(QueueEntry.notification_id)
                .join(Notification, Notification.id == QueueEntry.notification_id)
                .where(
                    QueueEntry.due_at <= now,
                    (QueueEntry.claimed_until.is_(None)) | (QueueEntry.claimed_until < now),
                    Notification.channel.in_([c.value for c in deliverable()]),
                )
                .limit(1)
            )
            is not None
        )
    if not due and planned_today:
        db.session.rollback()
        return
    open_job = db.session.scalar(
        select(exists().where(Job.kind == KIND, Job.state == JobState.QUEUED))
    )
    if open_job:
        db.session.rollback()
        return
    with write_transaction():
        runner.enqueue(KIND, title=N_("发送到期的通知"), params={"channel": "cli"})
