"""The statement feed: evidence rows → statements in the outbox → the LRS.

Statements are not written by the request that records an event: a quiz submit stays one
short write transaction. ``queue_new`` reads each evidence table past its cursor and queues
the statements as notifications (kind ``xapi``, channel ``lrs``) under their statement key,
so a row read twice queues nothing new. The cursor steps back ``LOOKBACK`` ids on every run:
on PostgreSQL a row with a lower id can commit after a higher one, and that row is found on
the next run. ``push`` queues and sends; the outbox's retries, backoff, leases and delivery
records apply as for mail.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import func, select

from training.audit.services import record
from training.auth.models import User
from training.db import insert_ignoring_duplicates, utcnow, write_transaction
from training.extensions import db
from training.i18n import N_
from training.notifications import outbox
from training.notifications.models import Channel, Delivery, Kind, Notification, Outcome, QueueEntry
from training.xapi import lrs
from training.xapi.models import Cursor
from training.xapi.statements import SOURCES, VERB_NAMES, Built, Source, batch

LOOKBACK = 200  # ids re-read below each cursor (late commits on PostgreSQL)


def enabled() -> bool:
    return bool(current_app.config["XAPI_ENDPOINT"])


def _subject(built: Built) -> str:
    statement = built.statement
    verb = VERB_NAMES.get(statement["verb"]["id"].rsplit("/", 1)[-1], "")
    name = next(iter(statement["object"]["definition"]["name"].values()), "")
    return f"{verb} {name}"[:300]


def queue(built: Built) -> bool:
    """Queue one statement unless it is queued already (flush only); True when new."""
    return (
        outbox.enqueue(
            built.key,
            kind=Kind.XAPI,
            channel=Channel.LRS,
            address=current_app.config["XAPI_ENDPOINT"],
            subject=_subject(built),
            body_text="",
            payload=built.statement,
            user_id=built.user_id,
        )
        is not None
    )


def _advance(source: Source, limit: int) -> tuple[int, bool]:
    """Queue one batch of a source; return (statements queued, more rows waiting)."""
    with write_transaction():
        cursor = db.session.get(Cursor, source.name)
        start = max(0, (cursor.last_id if cursor else 0) - LOOKBACK)
        rows = batch(source, start, limit)
        built = [statement for row in rows for statement in source.build(row)]
        known = set(
            db.session.scalars(
                select(Notification.key).where(Notification.key.in_([b.key for b in built]))
            )
        )
        queued = sum(1 for b in built if b.key not in known and queue(b))
        if rows:
            top = max(row.id for row in rows)
            if cursor is None:
                db.session.add(Cursor(source=source.name, last_id=top, updated_at=utcnow()))
            elif top > cursor.last_id:
                cursor.last_id = top
                cursor.updated_at = utcnow()
    return queued, len(rows) == limit


def queue_new(rounds: int = 20) -> int:
    """Queue the statements of evidence written since the last run; return how many."""
    if not enabled():
        return 0
    # Each round must read past the rows it looks back at, or it would never advance.
    limit = max(current_app.config["XAPI_BATCH"], 2 * LOOKBACK)
    queued = 0
    for source in SOURCES:
        for _ in range(rounds):
            count, more = _advance(source, limit)
            queued += count
            if not more:
                break
    return queued


@dataclass
class PushReport:
    queued: int = 0
    sent: int = 0
    failed: int = 0
    gave_up: int = 0
    errors: list[str] = field(default_factory=list)


def push(rounds: int = 20) -> PushReport:
    """Queue new statements and send every statement due to the LRS."""
    report = PushReport(queued=queue_new(rounds))
    if not enabled():
        return report
    sent = outbox.send_due(
        lrs.deliver, channels=(Channel.LRS,), limit=current_app.config["XAPI_BATCH"]
    )
    report.sent, report.failed, report.gave_up = sent.sent, sent.failed, sent.gave_up
    report.errors = sent.errors
    return report


@dataclass
class FeedStatus:
    endpoint: str
    queued: int
    sent: int
    gave_up: int
    last_sent_at: object
    last_error: str
    last_error_at: object


def status() -> FeedStatus:
    """Counts and the latest outcome of the LRS feed (a fixed number of statements)."""
    lrs_only = Notification.channel == Channel.LRS
    queued = db.session.scalar(
        select(func.count())
        .select_from(QueueEntry)
        .join(Notification, Notification.id == QueueEntry.notification_id)
        .where(lrs_only)
    )
    outcomes: dict[str, int] = dict(
        db.session.execute(  # type: ignore[arg-type]
            select(Delivery.outcome, func.count())
            .join(Notification, Notification.id == Delivery.notification_id)
            .where(lrs_only, Delivery.outcome.in_([Outcome.SENT, Outcome.GAVE_UP]))
            .group_by(Delivery.outcome)
        ).all()
    )
    last_sent = db.session.scalar(
        select(func.max(Delivery.at))
        .join(Notification, Notification.id == Delivery.notification_id)
        .where(lrs_only, Delivery.outcome == Outcome.SENT)
    )
    failure = db.session.execute(
        select(Delivery.error, Delivery.at)
        .join(Notification, Notification.id == Delivery.notification_id)
        .where(lrs_only, Delivery.outcome.in_([Outcome.FAILED, Outcome.GAVE_UP]))
        .order_by(Delivery.id.desc())
        .limit(1)
    ).first()
    return FeedStatus(
        endpoint=current_app.config["XAPI_ENDPOINT"],
        queued=queued or 0,
        sent=outcomes.get(Outcome.SENT, 0),
        gave_up=outcomes.get(Outcome.GAVE_UP, 0),
        last_sent_at=last_sent,
        last_error=failure.error if failure else "",
        last_error_at=failure.at if failure else None,
    )


RETRY_MAX = 5000  # statements re-queued by one click


def retry_given_up(actor: User | None) -> int:
    """Queue again the statements whose last attempt gave up (HR's button; flush).

    One audit event says how many; each statement keeps its deliveries, and the LRS keeps
    one copy of any that had arrived after all.
    """
    latest = (
        select(Delivery.notification_id, func.max(Delivery.id).label("delivery_id"))
        .join(Notification, Notification.id == Delivery.notification_id)
        .where(Notification.channel == Channel.LRS)
        .group_by(Delivery.notification_id)
        .subquery()
    )
    ids = list(
        db.session.scalars(
            select(latest.c.notification_id)
            .join(Delivery, Delivery.id == latest.c.delivery_id)
            .outerjoin(QueueEntry, QueueEntry.notification_id == latest.c.notification_id)
            .where(Delivery.outcome == Outcome.GAVE_UP, QueueEntry.notification_id.is_(None))
            .order_by(latest.c.notification_id)
            .limit(RETRY_MAX)
        )
    )
    now = utcnow()
    queued = sum(
        1
        for notification_id in ids
        if insert_ignoring_duplicates(
            QueueEntry, notification_id=notification_id, due_at=now, attempts=0
        )
    )
    if queued:
        record(
            "xapi.retry",
            N_("重新推送 %(count)s 条未送达的学习记录"),
            params={"count": queued},
            actor=actor,
            details={"count": queued, "first": ids[0], "last": ids[-1]},
        )
    return queued
