"""Structured logs: one JSON line per request with its id, and security events beside the audit.

Every request gets an id (``g.request_id``; the reverse proxy's ``X-Request-ID`` is kept when
it looks like one) that is sent back in the ``X-Request-ID`` header, printed on the 500 page
and carried by every line logged during the request, so HR can quote it and an operator find
the traceback. Lines go to standard error, where gunicorn and systemd collect them.

``security_event`` logs what a security review looks for — failed logins, lockouts, link use,
deactivation, exports — in addition to the audit events HR reads in the browser.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import sys
import time
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, g, has_request_context, request
from sqlalchemy import inspect

LOGGER_NAME = "training"
REQUEST_ID_HEADER = "X-Request-ID"
_GOOD_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
# Attributes every LogRecord has; anything else was passed in ``extra`` and is logged.
_RECORD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
}

log = logging.getLogger(LOGGER_NAME)


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object: time, level, logger, message, request id, extras."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRS and not key.startswith("_"):
                data[key] = value
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)


class RequestIdFilter(logging.Filter):
    """Stamp every record logged during a request with the request's id."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context() and not hasattr(record, "request_id"):
            record.request_id = g.get("request_id")
        return True


def security_event(event: str, **fields: Any) -> None:
    """Log a security-relevant event (``login.failed``, ``link.used``, ``export``, …)."""
    log.warning(event, extra={"event": event, "security": True, **fields})


def _user_id() -> int | None:
    """Return the logged-in user's id without touching the database.

    The view may have committed (expiring the user's attributes): reading ``id`` would
    start a new transaction — on SQLite a write-locking one for a POST — just to log.
    """
    user = g.get("_login_user")
    state = inspect(user, raiseerr=False) if user is not None else None
    identity = state.identity if state is not None else None
    return identity[0] if identity else None


def init_app(app: Flask) -> None:
    """Send the app's logs to stderr as JSON lines and log every request once."""
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        log.addHandler(handler)
        log.addFilter(RequestIdFilter())
    log.setLevel(app.config.get("LOG_LEVEL", "INFO"))

    @app.before_request
    def _start() -> None:
        given = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = given if _GOOD_REQUEST_ID.fullmatch(given) else secrets.token_hex(8)
        g.request_started = time.perf_counter()

    @app.after_request
    def _finish(response: Response) -> Response:
        response.headers[REQUEST_ID_HEADER] = g.get("request_id", "")
        if request.endpoint == "static":
            return response
        started = g.get("request_started")
        log.info(
            "request",
            extra={
                "event": "request",
                "method": request.method,
                "route": request.url_rule.rule if request.url_rule else None,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1)
                if started
                else None,
                "user_id": _user_id(),
                "remote": request.remote_addr,
            },
        )
        return response
