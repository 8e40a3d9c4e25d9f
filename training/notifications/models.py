"""The outbox: notifications (what was to be said to whom, insert-only), their delivery
attempts (insert-only), and the queue of those still to send (operational, rows come and go).

A notification is written in the same transaction as the event that causes it, under an
idempotency key (employee, kind, due date or revision…), so the same notice is never queued
twice. ``flask notify send`` claims queued rows, sends them and records every attempt.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from training.db import UTCDateTime, one_of, utcnow
from training.extensions import Model


class Kind(enum.StrEnum):
    """What a notification is about."""

    INVITATION = "invitation"  # a new account's set-password link
    REMINDER = "reminder"  # before, on or after the due date (the key says which)
    RETRAINING = "retraining"  # a revision took effect: retrain on changed lessons
    MANAGER_DIGEST = "manager_digest"  # a department head's weekly overview
    HR_DIGEST = "hr_digest"  # HR's weekly overview
    NUDGE = "nudge"  # a manager or HR asked to remind someone now
    RECERTIFICATION = "recertification"  # a completion is about to expire or has
    XAPI = "xapi"  # a learning-record statement for the company's LRS (training.xapi)


class Channel(enum.StrEnum):
    """How a notification travels."""

    EMAIL = "email"
    WEBHOOK = "webhook"  # a 企业微信 / 钉钉 / 飞书 group robot
    LRS = "lrs"  # an xAPI learning record store (XAPI_ENDPOINT)


class Outcome(enum.StrEnum):
    """What one delivery attempt came to."""

    STARTED = "started"  # written before sending: a crash leaves it without an ending
    SENT = "sent"
    FAILED = "failed"  # this attempt failed; the queue retries later
    GAVE_UP = "gave_up"  # the last allowed attempt failed
    UNCERTAIN = "uncertain"  # a sender stopped mid-send: not retried, HR decides
    CANCELLED = "cancelled"  # HR withdrew it before it was sent


class Notification(Model):
    """One message to one recipient (an address or a group robot), written once."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_id_created_at", "user_id", "created_at"),
        one_of("kind", Kind),
        one_of("channel", Channel),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)  # the idempotency key
    kind: Mapped[Kind] = mapped_column(String(32))
    channel: Mapped[Channel] = mapped_column(String(16))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    address: Mapped[str] = mapped_column(String(500))  # e-mail address or webhook URL
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text, default="", server_default="")
    # A webhook's JSON body; for mail, what the templates were rendered with.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Delivery(Model):
    """One attempt to send a notification, and what came of it; insert-only."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (
        Index("ix_notification_deliveries_notification_id", "notification_id", "id"),
        one_of("outcome", Outcome),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id"))
    attempt: Mapped[int]
    outcome: Mapped[Outcome] = mapped_column(String(16))
    error: Mapped[str] = mapped_column(Text, default="", server_default="")
    sender: Mapped[str] = mapped_column(String(100), default="", server_default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class QueueEntry(Model):
    """A notification still to send: when to try next, and who holds it now.

    Operational state, not evidence: the row is removed once the notification is sent,
    given up or cancelled (the deliveries say which).
    """

    __tablename__ = "notification_queue"
    __table_args__ = (Index("ix_notification_queue_due_at", "due_at"),)

    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id"), primary_key=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RobotKind(enum.StrEnum):
    """Which group robot a department's webhook belongs to."""

    WECOM = "wecom"  # 企业微信
    DINGTALK = "dingtalk"  # 钉钉
    FEISHU = "feishu"  # 飞书


class DepartmentWebhook(Model):
    """A department's group robot (企业微信, 钉钉 or 飞书) that receives its digests."""

    __tablename__ = "department_webhooks"
    __table_args__ = (one_of("kind", RobotKind),)

    department: Mapped[str] = mapped_column(String(100), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # a RobotKind
    url: Mapped[str] = mapped_column(String(500))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
