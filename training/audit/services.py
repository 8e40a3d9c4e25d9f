"""Recording audit events (the caller commits, in the same transaction as the action)."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterable, Iterator
from typing import Any, cast

from flask import has_request_context
from flask_login import current_user
from sqlalchemy import Table, insert

from training.audit.models import AuditEvent
from training.auth.models import User
from training.db import utcnow
from training.extensions import db

# Action names, so filters and tests do not depend on free text.
ACTIONS = {
    "user.create": "创建员工",
    "user.import": "导入员工",
    "user.update": "更新员工",
    "user.deactivate": "停用员工",
    "user.reactivate": "恢复员工",
    "user.provision": "公司目录首次登录创建员工",
    "link.setup": "发放设置密码链接",
    "link.reset": "发放重置密码链接",
    "assignment.set": "分配或调整培训",
    "export": "导出数据",
    "norm.publish": "发布规范新版本",
    "norm.schedule": "预约规范新版本生效",
    "norm.cancel": "取消预约的规范版本",
    "norm.activation_failed": "预约版本未能生效",
    "norm.editorial": "判定为措辞修改(无需复训)",
    "question.keep": "复核题目:仍然正确",
    "question.withdraw": "复核题目:撤下",
    "employee.nudge": "提醒员工完成培训",
    "notification.retry": "重新发送通知",
    "notification.cancel": "取消通知",
    "webhook.set": "设置部门群机器人",
    "webhook.delete": "删除部门群机器人",
    "evidence.link": "把没有哈希链接的记录纳入防篡改链",
    "bank.publish": "发布题库",
    "bank.repository": "题库改回以仓库文件为准",
    "api.token_create": "创建 API 令牌",
    "xapi.retry": "重新推送学习记录",
    "api.token_revoke": "吊销 API 令牌",
}


# Set while a background job does work that someone asked for in the browser: its events say
# "web", like the request that queued it, not "cli".
_CHANNEL: contextvars.ContextVar[str | None] = contextvars.ContextVar("channel", default=None)


@contextlib.contextmanager
def channel(value: str) -> Iterator[None]:
    """Record the events of this block as coming from ``value`` ("web" or "cli")."""
    token = _CHANNEL.set(value)
    try:
        yield
    finally:
        _CHANNEL.reset(token)


def record(
    action: str,
    summary: str,
    *,
    target: User | None = None,
    details: dict[str, Any] | None = None,
    actor: User | None = None,
) -> AuditEvent:
    """Add an audit event for an HR action to the session; the action's commit writes both.

    The actor is the logged-in user in a request, else the given one, else
    the command line.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user._get_current_object()
    event = AuditEvent(
        at=utcnow(),
        actor_id=actor.id if actor else None,
        channel=_channel(),
        action=action,
        target_user_id=target.id if target is not None else None,
        summary=summary,
        details=details or {},
    )
    db.session.add(event)
    return event


def _channel() -> str:
    return _CHANNEL.get() or ("web" if has_request_context() else "cli")


BATCH = 5000  # rows per INSERT statement of ``record_many``


def record_many(
    action: str,
    events: Iterable[tuple[int | None, str, dict[str, Any]]],
    *,
    actor: User | None = None,
) -> int:
    """Add many events of one action at once — (target user id, summary, details) each — with
    multi-row INSERTs in the caller's transaction (an import of thousands of employees);
    return how many. The same rows as ``record`` writes, without an ORM object each."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user._get_current_object()
    at, actor_id, channel = utcnow(), actor.id if actor else None, _channel()
    rows = [
        {
            "at": at,
            "actor_id": actor_id,
            "channel": channel,
            "action": action,
            "target_user_id": target,
            "summary": summary,
            "details": details,
        }
        for target, summary, details in events
    ]
    statement = insert(cast(Table, AuditEvent.__table__))  # Core: no ORM object per row
    for start in range(0, len(rows), BATCH):
        db.session.execute(statement, rows[start : start + BATCH])
    return len(rows)
