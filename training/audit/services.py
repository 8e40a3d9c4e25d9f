"""Recording audit events (the caller commits, in the same transaction as the action)."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterable, Iterator
from typing import Any, cast

from flask import has_request_context
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import Table, insert

from training.audit.models import AuditEvent
from training.auth.models import User
from training.db import utcnow
from training.extensions import db

# Action names, so filters and tests do not depend on free text; labels in the reader's language.
ACTIONS = {
    "user.create": _l("创建员工"),
    "user.import": _l("导入员工"),
    "user.update": _l("更新员工"),
    "user.deactivate": _l("停用员工"),
    "user.reactivate": _l("恢复员工"),
    "user.provision": _l("公司目录首次登录创建员工"),
    "link.setup": _l("发放设置密码链接"),
    "link.reset": _l("发放重置密码链接"),
    "assignment.set": _l("分配或调整培训"),
    "export": _l("导出数据"),
    "norm.publish": _l("发布规范新版本"),
    "norm.schedule": _l("预约规范新版本生效"),
    "norm.cancel": _l("取消预约的规范版本"),
    "norm.activation_failed": _l("预约版本未能生效"),
    "norm.editorial": _l("判定为措辞修改（无需复训）"),
    "question.keep": _l("复核题目：仍然正确"),
    "question.withdraw": _l("复核题目：撤下"),
    "employee.nudge": _l("提醒员工完成培训"),
    "notification.retry": _l("重新发送通知"),
    "notification.cancel": _l("取消通知"),
    "webhook.set": _l("设置部门群机器人"),
    "webhook.delete": _l("删除部门群机器人"),
    "evidence.link": _l("把没有哈希链接的记录纳入防篡改链"),
    "bank.publish": _l("发布题库"),
    "bank.repository": _l("题库改回以仓库文件为准"),
    "api.token_create": _l("创建 API 令牌"),
    "xapi.retry": _l("重新推送学习记录"),
    "api.token_revoke": _l("吊销 API 令牌"),
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


PARAMS = "summary_params"  # the key of ``details`` that holds the summary's parameters


def _details(
    summary: str, params: dict[str, Any] | None, details: dict[str, Any] | None
) -> dict[str, Any]:
    """The details to store: the caller's, with the summary's parameters beside them.

    The summary is stored as its message id (Chinese, with ``%(name)s`` placeholders) and
    rendered in the reader's language; filling it in now catches a placeholder without a value
    where the action happens rather than when someone reads the log.
    """
    if params is None:
        return details or {}
    if PARAMS in (details or {}):
        raise ValueError(f"details may not use the key {PARAMS!r}")
    summary % {k: v.get("t") if isinstance(v, dict) else v for k, v in params.items()}
    return {**(details or {}), PARAMS: params}


def record(
    action: str,
    summary: str,
    *,
    params: dict[str, Any] | None = None,
    target: User | None = None,
    details: dict[str, Any] | None = None,
    actor: User | None = None,
) -> AuditEvent:
    """Add an audit event for an HR action to the session; the action's commit writes both.

    ``summary`` is a message id marked with ``N_`` (``N_("停用员工 %(employee_no)s")``) and
    ``params`` its values (plain values, or ``term(N_(...))`` for a word that is translated
    too); it is shown in the reader's language. The actor is the logged-in user in a request,
    else the given one, else the command line.
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
        details=_details(summary, params, details),
    )
    db.session.add(event)
    return event


def _channel() -> str:
    return _CHANNEL.get() or ("web" if has_request_context() else "cli")


BATCH = 5000  # rows per INSERT statement of ``record_many``


def record_many(
    action: str,
    events: Iterable[tuple[int | None, str, dict[str, Any] | None, dict[str, Any]]],
    *,
    actor: User | None = None,
) -> int:
    """Add many events of one action at once — (target user id, summary, params, details)
    each, as ``record`` takes them — with multi-row INSERTs in the caller's transaction (an
    import of thousands of employees); return how many. The same rows as ``record`` writes,
    without an ORM object each."""
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
            "details": _details(summary, params, details),
        }
        for target, summary, params, details in events
    ]
    statement = insert(cast(Table, AuditEvent.__table__))  # Core: no ORM object per row
    for start in range(0, len(rows), BATCH):
        db.session.execute(statement, rows[start : start + BATCH])
    return len(rows)
