"""Talking to the LRS: the xAPI 1.0.3 Statement Resource over HTTP(S) with basic auth.

A batch goes out as one POST of a JSON array. When the LRS refuses the batch (409: one of
them is stored already, e.g. a resend after a lost answer; 400: one statement it does not
accept), each statement is PUT on its own under its id, so the others still arrive and the
refused one is named. A PUT answered 409 or 204 means the LRS holds that id.

The standard library's ``urllib`` does this as it does the group-robot webhooks: one JSON
request with a timeout; an HTTP client would add a dependency and nothing we need.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from flask import current_app
from flask_babel import gettext as _

from training.notifications.models import Notification

HEADERS = {"X-Experience-API-Version": "1.0.3", "Content-Type": "application/json"}


def _headers() -> dict[str, str]:
    config = current_app.config
    headers = dict(HEADERS)
    if config["XAPI_USERNAME"]:
        pair = f"{config['XAPI_USERNAME']}:{config['XAPI_PASSWORD']}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
    return headers


def request(method: str, path: str, body: Any = None) -> tuple[int, bytes]:
    """Send one request to the LRS; return (status, body). Network failures raise OSError."""
    config = current_app.config
    data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
    req = urllib.request.Request(  # noqa: S310 - XAPI_ENDPOINT is http(s), checked at start
        config["XAPI_ENDPOINT"] + path, data=data, headers=_headers(), method=method
    )
    try:
        with urllib.request.urlopen(req, timeout=config["XAPI_TIMEOUT"]) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read(2000)


def _problem(status: int, answer: bytes) -> str:
    text = answer.decode("utf-8", "replace").strip().replace("\n", " ")[:300]
    return (
        _("学习记录库（LRS）返回 HTTP %(status)s：%(text)s", status=status, text=text)
        if text
        else _("学习记录库（LRS）返回 HTTP %(status)s", status=status)
    )


def _put(statement: dict[str, Any]) -> str | None:
    status, answer = request("PUT", f"statements?statementId={quote(statement['id'])}", statement)
    if status in (200, 204, 409):
        return None  # stored now, or stored before under the same id
    return _problem(status, answer)


def deliver(batch: Sequence[tuple[Notification, str | None]]) -> list[str | None]:
    """Send a batch of statements; return, per notification, None or what went wrong."""
    endpoint = current_app.config["XAPI_ENDPOINT"]
    if not endpoint:
        return [_("没有配置学习记录库（XAPI_ENDPOINT）")] * len(batch)
    statements = [notification.payload for notification, _secret in batch]
    try:
        status, answer = request("POST", "statements", statements)
        if status in (200, 204):  # 204: every one of them was stored already
            return [None] * len(batch)
        if status not in (400, 409):
            return [_problem(status, answer)] * len(batch)
        return [_put(statement) for statement in statements]
    except (OSError, ValueError) as error:
        return [
            _("无法连接学习记录库 %(endpoint)s：%(error)s", endpoint=endpoint, error=error)
        ] * len(batch)
