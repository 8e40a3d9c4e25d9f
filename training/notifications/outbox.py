"""Queue notifications with an idempotency key, claim them once, record every attempt.

``enqueue`` runs inside the transaction of the event that causes the notification (flush
only). ``send_due`` is the sender behind ``flask notify send``: it claims due rows — with
``FOR UPDATE SKIP LOCKED`` on PostgreSQL and under the write lock on SQLite, so two senders
never hold the same row — writes a ``started`` delivery, sends, and records the outcome.
A sender that dies mid-send leaves ``started`` without an ending: the row is then marked
uncertain and not sent again automatically (nothing is ever sent twice); HR decides on the
notifications page.

An invitation's set-password link is issued when the invitation is claimed for sending, so no
usable token is ever stored (only its hash, like every link): the stored message holds the
``{secret}`` placeholder, and the token lives in the sender's memory until the mail is out.
An invitation to someone who has set a password meanwhile (HR handed them the link) or was
deactivated is cancelled, not sent.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Table, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from training.audit.services import record
from training.auth import links
from training.auth.models import User
from training.db import insert_ignoring_duplicates, insert_returning_id, utcnow, write_transaction
from training.extensions import db
from training.i18n import N_
from training.notifications.models import (
    Channel,
    Delivery,
    Kind,
    Notification,
    Outcome,
    QueueEntry,
)

LEASE = timedelta(minutes=10)  # how long a claim holds before another sender may take over
FIRST_RETRY = timedelta(minutes=5)
LONGEST_RETRY = timedelta(hours=6)

Send = Callable[[Notification, str | None], None]


def enqueue(
    key: str,
    *,
    kind: Kind,
    channel: Channel,
    address: str,
    subject: str,
    body_text: str,
    body_html: str = "",
    payload: dict[str, Any] | None = None,
    user_id: int | None = None,
    due_at: datetime | None = None,
) -> int | None:
    """Queue a notification unless one with this key exists; return its id, or None if not new.

    The caller's transaction writes it with the event that caused it (flush only).
    """
    notification_id = insert_returning_id(
        Notification,
        key=key,
        kind=kind.value,
        channel=channel.value,
        user_id=user_id,
        address=address,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        payload=payload or {},
        created_at=utcnow(),
    )
    if notification_id is None:
        return None
    # Written with the caller's next flush (an import of thousands writes them in one batch).
    db.session.add(
        QueueEntry(
            notification_id=notification_id,
            due_at=due_at or utcnow(),
            attempts=0,
        )
    )
    return notification_id


BATCH = 2000  # notifications per INSERT of ``enqueue_many`` (their bodies are a few kB each)
LOOKUP = 5000  # keys per IN (…) list, well inside SQLite's and PostgreSQL's bind limits


def enqueue_many(messages: list[dict[str, Any]]) -> dict[str, int]:
    """Queue many notifications at once, each unless one with its key exists; return
    {key: id} of those queued now.

    Each message has the keyword arguments of ``enqueue`` (``kind`` and ``channel`` as
    enums, no ``due_at``: due now). Batched INSERTs in the caller's transaction (flush
    only), for an import that invites thousands of new employees: the keys already taken
    are looked up first, the rest inserted (``ON CONFLICT DO NOTHING`` still), then their
    ids read back by key. No RETURNING: a multi-row INSERT … RETURNING of thousands of mail
    bodies costs the driver more than the INSERT (psycopg rewrites its every placeholder).
    """
    table = cast(Table, Notification.__table__)
    keys = [message["key"] for message in messages]
    taken: set[str] = set()
    for start in range(0, len(keys), LOOKUP):
        taken.update(
            db.session.scalars(
                select(table.c.key).where(table.c.key.in_(keys[start : start + LOOKUP]))
            )
        )
    dialect = db.session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(table).on_conflict_do_nothing()
    now = utcnow()
    fresh = [message for message in messages if message["key"] not in taken]
    for start in range(0, len(fresh), BATCH):
        rows = [
            {
                "key": message["key"],
                "kind": message["kind"].value,
                "channel": message["channel"].value,
                "user_id": message.get("user_id"),
                "address": message["address"],
                "subject": message["subject"],
                "body_text": message["body_text"],
                "body_html": message.get("body_html", ""),
                "payload": message.get("payload") or {},
                "created_at": now,
            }
            for message in fresh[start : start + BATCH]
        ]
        db.session.execute(statement, rows)
    queued: dict[str, int] = {}
    fresh_keys = [message["key"] for message in fresh]
    for start in range(0, len(fresh_keys), LOOKUP):
        chunk = fresh_keys[start : start + LOOKUP]
        queued.update(
            db.session.execute(
                select(table.c.key, table.c.id).where(
                    table.c.key.in_(chunk), table.c.created_at == now
                )
            )
            .tuples()
            .all()
        )
    entries = [
        {"notification_id": notification_id, "due_at": now, "attempts": 0}
        for notification_id in queued.values()
    ]
    queue = insert(cast(Table, QueueEntry.__table__))
    for start in range(0, len(entries), BATCH):
        db.session.execute(queue, entries[start : start + BATCH])
    return queued


def sender_name() -> str:
    """Name this sender in the deliveries it writes (host and process)."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class SendReport:
    """What one run of the sender did."""

    sent: int = 0
    failed: int = 0
    gave_up: int = 0
    uncertain: int = 0
    errors: list[str] = field(default_factory=list)


def _retry_delay(attempts: int) -> timedelta:
    return min(FIRST_RETRY * (2 ** max(0, attempts - 1)), LONGEST_RETRY)


MESSAGES = (Channel.EMAIL, Channel.WEBHOOK)  # what people read; the LRS feed is training.xapi


def _claim(
    now: datetime, limit: int, me: str, channels: Iterable[Channel] = MESSAGES
) -> list[tuple[Notification, str | None, int]]:
    """Take up to ``limit`` due rows of these channels for this sender, in one transaction."""
    claimed: list[tuple[Notification, str | None, int]] = []
    with write_transaction():
        stmt = (
            select(QueueEntry)
            .join(Notification, Notification.id == QueueEntry.notification_id)
            .where(
                QueueEntry.due_at <= now,
                (QueueEntry.claimed_until.is_(None)) | (QueueEntry.claimed_until < now),
                Notification.channel.in_([channel.value for channel in channels]),
            )
            .order_by(QueueEntry.due_at, QueueEntry.notification_id)
            .limit(limit)
        )
        if db.session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        entries = list(db.session.scalars(stmt))
        if not entries:
            return claimed
        ids = [entry.notification_id for entry in entries]
        unfinished = _started_without_ending(ids)
        notifications = {
            n.id: n
            for n in db.session.scalars(select(Notification).where(Notification.id.in_(ids)))
        }
        invited = _invited_users(notifications.values())
        for entry in entries:
            if entry.notification_id in unfinished:
                # A sender stopped between "started" and its outcome: the message may have
                # gone out. Never risk sending it twice; HR sees it as uncertain.
                db.session.add(
                    Delivery(
                        notification_id=entry.notification_id,
                        attempt=entry.attempts,
                        outcome=Outcome.UNCERTAIN,
                        error=_("上一次发送中断，无法确定是否已送达"),
                        sender=me,
                        at=now,
                    )
                )
                db.session.delete(entry)
                continue
            notification = notifications[entry.notification_id]
            secret = None
            if notification.kind == Kind.INVITATION:
                user = invited.get(notification.user_id or 0)
                reason = _no_invitation_because(user)
                if reason:
                    db.session.add(
                        Delivery(
                            notification_id=notification.id,
                            attempt=entry.attempts,
                            outcome=Outcome.CANCELLED,
                            error=reason,
                            sender=me,
                            at=now,
                        )
                    )
                    db.session.delete(entry)
                    continue
                secret = _invitation_link(cast(User, user))
            entry.attempts += 1
            entry.claimed_by = me
            entry.claimed_until = now + LEASE
            db.session.add(
                Delivery(
                    notification_id=entry.notification_id,
                    attempt=entry.attempts,
                    outcome=Outcome.STARTED,
                    sender=me,
                    at=now,
                )
            )
            claimed.append((notification, secret, entry.attempts))
    return claimed


def _invited_users(notifications: Iterable[Notification]) -> dict[int, User]:
    wanted = [n.user_id for n in notifications if n.kind == Kind.INVITATION and n.user_id]
    if not wanted:
        return {}
    return {user.id: user for user in db.session.scalars(select(User).where(User.id.in_(wanted)))}


def _no_invitation_because(user: User | None) -> str:
    """Say why an invitation must not go out now, or return "" when it may."""
    if user is None:
        return _("员工不存在")
    if not user.active:
        return _("员工已停用，不再发送邀请")
    if user.password_hash is not None:
        return _("员工已设置密码，不再发送邀请")
    return ""


def _invitation_link(user: User) -> str:
    """Issue the set-password link an invitation carries (earlier links stay valid)."""
    token = links.issue_link(user, "setup", revoke_earlier=False)
    record(
        "link.setup",
        N_("为 %(name)s（%(employee_no)s）发放设置密码链接（邮件邀请）"),
        params={"name": user.name, "employee_no": user.employee_no},
        target=user,
        details={"purpose": "setup", "via": "email"},
    )
    return token


def _started_without_ending(ids: list[int]) -> set[int]:
    """Return the notifications whose latest delivery is a ``started`` with nothing after it."""
    latest = (
        select(func.max(Delivery.id))
        .where(Delivery.notification_id.in_(ids))
        .group_by(Delivery.notification_id)
    )
    return set(
        db.session.scalars(
            select(Delivery.notification_id).where(
                Delivery.id.in_(latest), Delivery.outcome == Outcome.STARTED
            )
        )
    )


def _finish(notification: Notification, attempt: int, error: str | None, me: str) -> Outcome:
    """Record the attempt's outcome and update or remove the queue row."""
    max_attempts = current_app.config["NOTIFY_MAX_ATTEMPTS"]
    now = utcnow()
    with write_transaction():
        entry = db.session.get(QueueEntry, notification.id)
        if error is None:
            outcome = Outcome.SENT
        elif attempt >= max_attempts:
            outcome = Outcome.GAVE_UP
        else:
            outcome = Outcome.FAILED
        db.session.add(
            Delivery(
                notification_id=notification.id,
                attempt=attempt,
                outcome=outcome,
                error=error or "",
                sender=me,
                at=now,
            )
        )
        if entry is not None:
            if outcome is Outcome.FAILED:
                entry.due_at = now + _retry_delay(attempt)
                entry.claimed_by = None
                entry.claimed_until = None
            else:
                db.session.delete(entry)
    return outcome


def send_due(
    deliver: Callable[[list[tuple[Notification, str | None]]], list[str | None]],
    *,
    now: datetime | None = None,
    limit: int | None = None,
    channels: Iterable[Channel] = MESSAGES,
) -> SendReport:
    """Claim due notifications in batches and hand them to ``deliver``; record each outcome.

    ``deliver`` sends a batch (one SMTP connection for all its mail) and returns, per
    notification, None when sent or an error message.
    """
    me = sender_name()
    report = SendReport()
    batch = limit or current_app.config["NOTIFY_BATCH_SIZE"]
    while True:
        claimed = _claim(now or utcnow(), batch, me, channels)
        if not claimed:
            break
        errors = deliver([(notification, secret) for notification, secret, _attempt in claimed])
        for (notification, _secret, attempt), error in zip(claimed, errors, strict=True):
            outcome = _finish(notification, attempt, error, me)
            if outcome is Outcome.SENT:
                report.sent += 1
            elif outcome is Outcome.GAVE_UP:
                report.gave_up += 1
                report.errors.append(f"{notification.key}: {error}")
            else:
                report.failed += 1
                report.errors.append(f"{notification.key}: {error}")
        if len(claimed) < batch or report.failed:
            # Failures wait for their backoff; do not spin on a server that is down.
            break
    return report


def requeue(notification: Notification, actor: User | None = None) -> bool:
    """Queue a given-up, uncertain or cancelled notification again (HR's decision; flush).

    Returns False if it is queued already (a doubled form). The attempt count starts again.
    """
    if db.session.get(QueueEntry, notification.id) is not None:
        return False
    inserted = insert_ignoring_duplicates(
        QueueEntry, notification_id=notification.id, due_at=utcnow(), attempts=0
    )
    if inserted:
        record(
            "notification.retry",
            N_("重新发送通知：%(subject)s（%(address)s）"),
            params={"subject": notification.subject, "address": notification.address},
            target=db.session.get(User, notification.user_id) if notification.user_id else None,
            actor=actor,
            details={"notification_id": notification.id, "key": notification.key},
        )
    return inserted


def cancel(notification: Notification, actor: User | None = None, *, audit: bool = True) -> bool:
    """Withdraw a queued notification that no sender holds now; return False if it cannot be."""
    now = utcnow()
    stmt = select(QueueEntry).where(
        QueueEntry.notification_id == notification.id,
        (QueueEntry.claimed_until.is_(None)) | (QueueEntry.claimed_until < now),
    )
    if db.session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    entry = db.session.scalar(stmt)
    if entry is None or notification.id in _started_without_ending([notification.id]):
        return False
    db.session.add(
        Delivery(
            notification_id=notification.id,
            attempt=entry.attempts,
            outcome=Outcome.CANCELLED,
            error=_("人事行政部取消发送"),
            sender="web",
            at=now,
        )
    )
    db.session.delete(entry)
    if not audit:  # part of a larger action that is audited itself (a deactivation)
        db.session.flush()
        return True
    record(
        "notification.cancel",
        N_("取消通知：%(subject)s（%(address)s）"),
        params={"subject": notification.subject, "address": notification.address},
        target=db.session.get(User, notification.user_id) if notification.user_id else None,
        actor=actor,
        details={"notification_id": notification.id, "key": notification.key},
    )
    db.session.flush()
    return True


def queued_for(user_id: int) -> int:
    """Return how many notifications to this user wait in the queue."""
    return (
        db.session.scalar(
            select(func.count())
            .select_from(QueueEntry)
            .join(Notification, Notification.id == QueueEntry.notification_id)
            .where(Notification.user_id == user_id, Notification.channel.in_(MESSAGES))
        )
        or 0
    )


def cancel_for(user_id: int, actor: User | None = None) -> int:
    """Withdraw every queued notification to this user that no sender holds; return how many."""
    pending = db.session.scalars(
        select(Notification)
        .join(QueueEntry, QueueEntry.notification_id == Notification.id)
        .where(Notification.user_id == user_id, Notification.channel.in_(MESSAGES))
    ).all()
    return sum(1 for notification in pending if cancel(notification, actor=actor, audit=False))
