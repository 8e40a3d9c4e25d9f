"""Where each notification stands, from its latest delivery and whether it is still queued.

One statement for a page of the HR list and one for the counts: the latest delivery comes
from a grouped subquery, not a query per row.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Row, Select, case, func, or_, select
from sqlalchemy.orm import aliased

from training.auth.models import User, employee_no_matches
from training.extensions import db
from training.notifications.models import Channel, Delivery, Notification, Outcome, QueueEntry


class Status(enum.StrEnum):
    """What HR sees for a notification."""

    PENDING = "pending"  # queued, never tried
    SENDING = "sending"  # a sender holds it now
    RETRYING = "retrying"  # the last attempt failed; tried again at due_at
    SENT = "sent"
    GAVE_UP = "gave_up"
    UNCERTAIN = "uncertain"
    CANCELLED = "cancelled"


LABELS = {
    Status.PENDING: _l("待发送"),
    Status.SENDING: _l("发送中"),
    Status.RETRYING: _l("失败，等待重试"),
    Status.SENT: _l("已发送"),
    Status.GAVE_UP: _l("已放弃"),
    Status.UNCERTAIN: _l("不确定是否送达"),
    Status.CANCELLED: _l("已取消"),
}

# HR may send these again (a new attempt), or cancel those still queued.
RETRYABLE = {Status.GAVE_UP, Status.UNCERTAIN, Status.CANCELLED}
CANCELLABLE = {Status.PENDING, Status.RETRYING}


def listing(status: Status | None = None, search: str = "") -> Select[Any]:
    """Return notifications with their status, latest delivery, queue row and recipient."""
    last = (
        select(Delivery.notification_id, func.max(Delivery.id).label("delivery_id"))
        .group_by(Delivery.notification_id)
        .subquery()
    )
    latest = aliased(Delivery)
    recipient = aliased(User)
    status_expr = case(
        (
            QueueEntry.notification_id.is_not(None),
            case(
                (latest.outcome == Outcome.STARTED, Status.SENDING.value),
                (latest.outcome == Outcome.FAILED, Status.RETRYING.value),
                else_=Status.PENDING.value,
            ),
        ),
        (latest.outcome == Outcome.SENT, Status.SENT.value),
        (latest.outcome == Outcome.GAVE_UP, Status.GAVE_UP.value),
        (latest.outcome == Outcome.UNCERTAIN, Status.UNCERTAIN.value),
        (latest.outcome == Outcome.CANCELLED, Status.CANCELLED.value),
        else_=Status.PENDING.value,
    ).label("status")
    stmt = (
        select(
            Notification,
            status_expr,
            latest.error.label("error"),
            latest.at.label("tried_at"),
            QueueEntry.due_at.label("due_at"),
            QueueEntry.attempts.label("attempts"),
            recipient.name.label("recipient_name"),
            recipient.employee_no.label("recipient_no"),
        )
        .outerjoin(last, last.c.notification_id == Notification.id)
        .outerjoin(latest, latest.id == last.c.delivery_id)
        .outerjoin(QueueEntry, QueueEntry.notification_id == Notification.id)
        .outerjoin(recipient, recipient.id == Notification.user_id)
        .where(Notification.channel != Channel.LRS)  # statements have their own page
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )
    if search:
        like = f"%{search}%"
        stmt = stmt.where(
            or_(
                Notification.address.ilike(like),
                employee_no_matches(recipient.employee_no, search),
                recipient.name.ilike(like),
            )
        )
    if status is not None:
        stmt = stmt.where(status_expr == status.value)
    return stmt


def counts() -> dict[str, int]:
    """Return how many notifications are in each status (one statement)."""
    rows = listing().subquery()
    result = {status.value: 0 for status in Status}
    for status, count in db.session.execute(
        select(rows.c.status, func.count()).group_by(rows.c.status)
    ):
        result[status] = count
    return result


@dataclass(frozen=True)
class RowsPage:
    """One page of the listing: rows, and what the pager needs."""

    items: Sequence[Row[Any]]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


def page_of(stmt: Select[Any], page: int, per_page: int) -> RowsPage:
    """Return one page of a listing in two statements (count and rows)."""
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    page = min(max(page, 1), max(1, -(-total // per_page)))
    items = db.session.execute(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    return RowsPage(items, total, page, per_page)
