"""/api/v1/: employees with progress and due dates, certificates, attempts, departments.

Read only. Every call needs ``Authorization: Bearer <token>`` (HR creates tokens at
/hr/api-tokens/); a department token sees that department only. Lists are ordered by id
and paged with an opaque cursor (``next_cursor``), so rows inserted while a client pages
never shift a page; every answer carries an ETag and honours ``If-None-Match``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from flask import Blueprint, current_app, g, jsonify, request
from sqlalchemy import select

from training.api import openapi, tokens
from training.auth.models import User, employee_no_matches
from training.course.models import Certificate, Lesson, NormVersion, QuizAttempt, QuizSubmission
from training.db import company_today
from training.extensions import db
from training.reports.dashboard import summary
from training.reports.listing import keyset_page
from training.reports.status import STATUSES, Filters, employee_rows
from training.urls import public_url

bp = Blueprint("api", __name__, url_prefix="/api/v1")


class ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@bp.errorhandler(ApiError)
def _api_error(error: ApiError):
    response = jsonify({"error": error.message, "status": error.status})
    response.status_code = error.status
    if error.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


@bp.before_request
def _authenticate():
    if request.endpoint == "api.openapi_document":
        return None
    try:
        g.api_caller = tokens.authenticate(
            request.headers.get("Authorization"), rate=current_app.config["API_RATE_PER_MINUTE"]
        )
    except tokens.Refused as refused:
        db.session.commit()  # a counted call stays counted
        raise ApiError(refused.status, refused.message) from refused
    db.session.commit()
    return None


def _caller() -> tokens.Caller:
    return g.api_caller


def _json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _answer(payload: dict[str, Any]):
    """JSON with a strong ETag of its body; 304 when the client already has it."""
    response = jsonify(payload)
    response.add_etag()
    response.headers["Cache-Control"] = "private, no-cache"
    return response.make_conditional(request)


def _limit() -> int:
    most = current_app.config["API_PAGE_MAX"]
    raw = request.args.get("limit", "50")
    if not raw.isdigit() or not 1 <= int(raw) <= most:
        raise ApiError(400, f"limit must be a whole number from 1 to {most}")
    return int(raw)


def _cursor() -> int:
    raw = request.args.get("cursor")
    if not raw:
        return 0
    try:
        after = json.loads(base64.urlsafe_b64decode(raw.encode() + b"=" * (-len(raw) % 4)))["a"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise ApiError(400, "cursor is not one this API gave out") from None
    if not isinstance(after, int) or not 0 <= after < 2**62:
        raise ApiError(400, "cursor is not one this API gave out")
    return after


def _next_cursor(rows: list, key: Callable[[Any], int], limit: int) -> str | None:
    if len(rows) <= limit:
        return None
    last = key(rows[limit - 1])
    return base64.urlsafe_b64encode(json.dumps({"a": last}).encode()).decode().rstrip("=")


def _paged(stmt) -> tuple[list, str | None]:
    """One page of a statement over User rows ordered by the selected ``id``, in scope."""
    departments = _departments()
    if departments:
        stmt = stmt.where(User.department.in_(departments))
    limit = _limit()
    rows = list(db.session.execute(stmt.limit(limit + 1)))
    return rows[:limit], _next_cursor(rows, lambda r: r.id, limit)


def _departments() -> tuple[str, ...] | None:
    """The departments the caller may read, refusing a ?department= outside them."""
    scope = _caller().department
    asked = request.args.get("department") or None
    if scope is not None and asked is not None and asked != scope:
        raise ApiError(403, f"this token reads department {scope!r} only")
    if scope is not None:
        return (scope,)
    return (asked,) if asked else None


def _employee(row: Any) -> dict[str, Any]:
    return {
        "employee_no": row.employee_no,
        "name": row.name,
        "department": row.department,
        "position": row.position,
        "hire_date": _json(row.hire_date),
        "active": bool(row.active),
        "status": row.status,
        "due_date": _json(row.due_date),
        "lessons": {
            "read": row.read_count,
            "passed": row.passed_count,
            "completed": row.completed_count,
            "total": row.total,
        },
        "last_activity": _json(row.last_activity),
        "completed_at": _json(row.completed_at),
        "certificate_code": row.certificate_code,
    }


@bp.route("/")
def index():
    """Where everything is."""
    return _answer(
        {
            "employees": public_url("api.employees"),
            "certificates": public_url("api.certificates"),
            "attempts": public_url("api.attempts"),
            "departments": public_url("api.departments"),
            "openapi": public_url("api.openapi_document"),
        }
    )


@bp.route("/employees")
def employees():
    """Employees with their progress, status and due date (trainees; inactive on request)."""
    status = request.args.get("status") or None
    if status is not None and status not in STATUSES:
        raise ApiError(400, f"status must be one of {', '.join(STATUSES)}")
    filters = Filters(
        departments=_departments(),
        status=status,
        include_inactive=request.args.get("include_inactive") == "true",
    )
    limit = _limit()
    rows = list(db.session.execute(keyset_page(filters, _cursor(), limit + 1)))
    return _answer(
        {
            "data": [_employee(row) for row in rows[:limit]],
            "next_cursor": _next_cursor(rows, lambda r: r.user_id, limit),
        }
    )


@bp.route("/employees/<employee_no>")
def employee(employee_no: str):
    """One employee by 工号 (case-insensitive); another department's is not found."""
    filters = Filters(departments=_departments(), include_inactive=True, include_staff=True)
    rows_q = employee_rows(filters)
    row = db.session.execute(
        select(rows_q).where(employee_no_matches(rows_q.c.employee_no, employee_no))
    ).first()
    if row is None:
        raise ApiError(404, "no such employee")
    return _answer(_employee(row))


@bp.route("/certificates")
def certificates():
    """Course certificates, each for the norm version it was earned against."""
    stmt = (
        select(
            Certificate.id,
            Certificate.code,
            Certificate.issued_at,
            Certificate.source_sha256,
            Certificate.norm_title,
            NormVersion.label,
            NormVersion.effective_date,
            User.employee_no,
            User.department,
        )
        .join(User, User.id == Certificate.user_id)
        .outerjoin(NormVersion, NormVersion.source_sha256 == Certificate.source_sha256)
        .where(Certificate.id > _cursor())
        .order_by(Certificate.id)
    )
    rows, cursor = _paged(stmt)
    return _answer(
        {
            "data": [
                {
                    "code": r.code,
                    "employee_no": r.employee_no,
                    "department": r.department,
                    "issued_at": _json(r.issued_at),
                    "version": {
                        "sha256": r.source_sha256,
                        "label": r.label or "",
                        "title": r.norm_title,
                        "effective_date": _json(r.effective_date),
                    },
                }
                for r in rows
            ],
            "next_cursor": cursor,
        }
    )


@bp.route("/attempts")
def attempts():
    """Quiz attempts with their scores (never the answers)."""
    stmt = (
        select(
            QuizAttempt.id,
            QuizAttempt.started_at,
            QuizAttempt.pass_mark,
            User.employee_no,
            User.department,
            Lesson.number,
            QuizSubmission.submitted_at,
            QuizSubmission.correct_count,
            QuizSubmission.total,
            QuizSubmission.passed,
        )
        .join(User, User.id == QuizAttempt.user_id)
        .join(Lesson, Lesson.id == QuizAttempt.lesson_id)
        .outerjoin(QuizSubmission, QuizSubmission.attempt_id == QuizAttempt.id)
        .where(QuizAttempt.id > _cursor())
        .order_by(QuizAttempt.id)
    )
    if request.args.get("employee_no"):
        stmt = stmt.where(User.employee_no_is(request.args["employee_no"]))
    if request.args.get("lesson"):
        stmt = stmt.where(Lesson.number == request.args["lesson"])
    rows, cursor = _paged(stmt)
    return _answer(
        {
            "data": [
                {
                    "id": r.id,
                    "employee_no": r.employee_no,
                    "department": r.department,
                    "lesson": r.number,
                    "started_at": _json(r.started_at),
                    "submitted_at": _json(r.submitted_at),
                    "correct": r.correct_count,
                    "total": r.total,
                    "passed": r.passed,
                    "pass_mark": r.pass_mark,
                }
                for r in rows
            ],
            "next_cursor": cursor,
        }
    )


@bp.route("/departments")
def departments():
    """Departments with how many trainees stand at each status."""
    found = summary(company_today(), departments=_departments())
    return _answer(
        {
            "data": [
                {
                    "name": department.name,
                    "employees": department.total,
                    "by_status": {key: department.counts[key] for key in STATUSES},
                }
                for department in found.departments
            ]
        }
    )


@bp.route("/openapi.json")
def openapi_document():
    """The OpenAPI 3.1 description of this API (public: it holds no data)."""
    return _answer(openapi.document(public_url("api.index").rstrip("/")))
