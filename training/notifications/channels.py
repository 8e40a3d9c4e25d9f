"""Sending: e-mail over SMTP (the standard library's ``smtplib`` and ``email``), and group-robot
webhooks for 企业微信, 钉钉 and 飞书 (``urllib``, JSON over HTTPS).

The standard library does both jobs: SMTP with STARTTLS or SSL and a login, and a JSON POST
with a timeout; a mail extension or an HTTP client would add a dependency and nothing we need.
Each function returns, per notification, None when it was handed over, or an error message
that says what failed and where (kept as delivery evidence in the language of the run that
sent it: the company's default for a command or a job).
"""

from __future__ import annotations

import json
import smtplib
import ssl
import urllib.error
import urllib.request
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _

from training.extensions import db
from training.notifications.models import Channel, DepartmentWebhook, Notification, RobotKind

WEBHOOK_KINDS = tuple(RobotKind)
SECRET_MARK = "{secret}"  # noqa: S105 - the placeholder a stored message holds, not a secret


def render(text: str, secret: str | None) -> str:
    """Put the secret (a set-password token) into a message kept without it."""
    return text.replace(SECRET_MARK, secret) if secret else text


def deliver(batch: Sequence[tuple[Notification, str | None]]) -> list[str | None]:
    """Send a batch: all its mail over one SMTP connection, webhooks one by one."""
    results: dict[int, str | None] = {}
    mail = [(n, s) for n, s in batch if n.channel == Channel.EMAIL]
    if mail:
        results.update(send_mail(mail))
    for notification, secret in batch:
        if notification.channel == Channel.WEBHOOK:
            results[notification.id] = post_webhook(notification, secret)
    return [results[notification.id] for notification, _secret in batch]


def _message(notification: Notification, secret: str | None) -> EmailMessage:
    config = current_app.config
    message = EmailMessage()
    message["Subject"] = notification.subject
    message["From"] = formataddr((config["MAIL_SENDER_NAME"], config["MAIL_DEFAULT_SENDER"]))
    message["To"] = notification.address
    message["Message-ID"] = make_msgid(idstring=f"n{notification.id}")
    message["X-Training-Notification"] = notification.key
    message.set_content(render(notification.body_text, secret))
    if notification.body_html:
        message.add_alternative(render(notification.body_html, secret), subtype="html")
    return message


def send_mail(batch: Sequence[tuple[Notification, str | None]]) -> dict[int, str | None]:
    """Send e-mail through MAIL_SERVER; a server that cannot be reached fails the whole batch."""
    config = current_app.config
    host, port = config["MAIL_SERVER"], config["MAIL_PORT"]
    if not host:
        missing = _("没有配置邮件服务器（MAIL_SERVER）")
        return {n.id: missing for n, _secret in batch}
    timeout = config["MAIL_TIMEOUT"]
    results: dict[int, str | None] = {}
    tls = ssl.create_default_context(cafile=config["MAIL_CA_FILE"] or None)
    try:
        if config["MAIL_USE_SSL"]:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=tls)
        else:
            smtp = smtplib.SMTP(host, port, timeout=timeout)
        with smtp:
            if config["MAIL_USE_TLS"] and not config["MAIL_USE_SSL"]:
                smtp.starttls(context=tls)
            if config["MAIL_USERNAME"]:
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
            for notification, secret in batch:
                try:
                    refused = smtp.send_message(_message(notification, secret))
                except smtplib.SMTPException as error:
                    results[notification.id] = _refused(notification.address, error)
                    continue
                results[notification.id] = (
                    _refused(notification.address, refused) if refused else None
                )
    except (OSError, smtplib.SMTPException) as error:
        problem = _(
            "无法通过邮件服务器 %(host)s:%(port)s 发送：%(error)s",
            host=host,
            port=port,
            error=error,
        )
        return {n.id: results.get(n.id, problem) for n, _secret in batch}
    return results


def _refused(address: str, reason: object) -> str:
    return _("邮件服务器拒收 %(address)s：%(reason)s", address=address, reason=reason)


def webhook_body(kind: str, title: str, text: str) -> dict:
    """Return the JSON a group robot of this kind expects for a Markdown message."""
    if kind == "wecom":
        return {"msgtype": "markdown", "markdown": {"content": f"**{title}**\n{text}"}}
    if kind == "dingtalk":
        return {"msgtype": "markdown", "markdown": {"title": title, "text": f"### {title}\n{text}"}}
    if kind == "feishu":
        return {"msg_type": "text", "content": {"text": f"{title}\n{text}"}}
    raise ValueError(f"unknown webhook kind {kind!r}; use one of {', '.join(WEBHOOK_KINDS)}")


def masked(url: str) -> str:
    """Return a robot URL without its key (the query string and the path's last part)."""
    parts = urlsplit(url)
    path = parts.path.rsplit("/", 1)[0] if parts.path.count("/") > 2 else parts.path
    return f"{parts.scheme}://{parts.netloc}{path}/…"


ROBOT_PREFIX = "robot:"


def robot_address(department: str) -> str:
    """The address a digest for a department's robot is stored under (never its secret URL)."""
    return f"{ROBOT_PREFIX}{department}"


def post_webhook(notification: Notification, secret: str | None) -> str | None:
    """POST the notification's JSON to its department's group robot; None when it was accepted.

    The robot's URL (which carries its key) is looked up when sending: the stored
    notification names the department only, and a URL HR corrects applies to what is queued.
    """
    department = notification.address.removeprefix(ROBOT_PREFIX)
    robot = db.session.get(DepartmentWebhook, department)
    if robot is None:
        return _("%(department)s 的群机器人已被删除", department=department)
    # Built now, for the kind of robot the department has now.
    payload = webhook_body(robot.kind, notification.payload["title"], notification.payload["text"])
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(  # noqa: S310 - the URL is one HR configured, http(s) only
        robot.url,
        data=body,
        headers={"Content-Type": "application/json; charset=utf-8"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(  # noqa: S310 - see above
            request, timeout=current_app.config["MAIL_TIMEOUT"]
        ) as response:
            answer = response.read(10_000).decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return _(
            "%(department)s 的群机器人 %(url)s 返回 HTTP %(code)s",
            department=department,
            url=masked(robot.url),
            code=error.code,
        )
    except (OSError, ValueError) as error:
        return _(
            "无法连接 %(department)s 的群机器人 %(url)s：%(error)s",
            department=department,
            url=masked(robot.url),
            error=error,
        )
    try:
        data = json.loads(answer)
    except ValueError:
        return None  # a robot that answers 2xx without JSON took the message
    code = data.get("errcode", data.get("code", 0)) if isinstance(data, dict) else 0
    if code not in (0, None):
        message = data.get("errmsg") or data.get("msg") or ""
        return _(
            "%(department)s 的群机器人拒收：%(code)s %(message)s",
            department=department,
            code=code,
            message=message,
        )
    return None
