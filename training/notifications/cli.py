"""``flask notify send|preview``: queue today's reminders and digests, and send what is due."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from training.db import company_today, utcnow
from training.extensions import db
from training.notifications import jobs, planner
from training.notifications.models import Notification, QueueEntry

notify_cli = AppGroup("notify", help="Send reminders, digests and invitations.")


@notify_cli.command("send")
def send_command() -> None:
    """Queue today's reminders and digests, then send everything due (outside quiet hours).

    First, whatever is due by the calendar happens (a scheduled revision takes effect and
    queues its retraining notices), so this run sends them. This is the function the
    ``notify.send`` background job runs (``flask jobs run``), called here directly so that
    its report is printed; the two may run at once (the outbox claims each message once).
    """
    done = jobs.send_now()
    report = done.report
    click.echo(f"queued {done.planned} new reminders and digests")
    if report is None:
        click.echo(f"quiet hours: nothing sent before {done.held_until:%Y-%m-%d %H:%M}")
        return
    click.echo(f"sent {report.sent}, failed {report.failed} (will retry), gave up {report.gave_up}")
    for error in report.errors[:20]:
        click.echo(f"error: {error}", err=True)
    if report.errors:
        raise click.exceptions.Exit(1)


@notify_cli.command("preview")
def preview_command() -> None:
    """Print what `notify send` would send now, without queueing or sending anything."""
    nested = db.session.begin_nested()
    planned = planner.plan(company_today())
    due = db.session.execute(
        select(Notification.key, Notification.channel, Notification.address, Notification.subject)
        .join(QueueEntry, QueueEntry.notification_id == Notification.id)
        .where(QueueEntry.due_at <= utcnow())
        .order_by(QueueEntry.due_at, Notification.id)
    ).all()
    nested.rollback()
    db.session.rollback()
    held = planner.held_until(utcnow())
    if held is not None:
        click.echo(f"quiet hours: nothing would be sent before {held:%Y-%m-%d %H:%M}")
    click.echo(f"{len(due)} to send ({len(planned.queued)} of them new today):")
    for key, channel, address, subject in due:
        click.echo(f"  {channel:8} {address:40} {subject}  [{key}]")


def register(app: Flask) -> None:
    """Add the `flask notify` group."""
    app.cli.add_command(notify_cli)
