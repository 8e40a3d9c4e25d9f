"""The OpenAPI 3.1 document of /api/v1/, written out by hand.

Five read-only GET endpoints do not justify moving the app onto APIFlask or spectree
(both want to own request parsing and the blueprint); instead ``tests/api`` checks that
every route of the blueprint is described here and that real answers have exactly the
properties described.
"""

from __future__ import annotations

from typing import Any

from training.reports.status import STATUSES

_STR = {"type": "string"}
_NSTR = {"type": ["string", "null"]}
_INT = {"type": "integer"}
_DATE = {"type": ["string", "null"], "format": "date"}
_TIME = {"type": ["string", "null"], "format": "date-time"}


def _obj(properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


EMPLOYEE = _obj(
    {
        "employee_no": _STR,
        "name": _STR,
        "department": _STR,
        "position": _STR,
        "hire_date": _DATE,
        "active": {"type": "boolean"},
        "status": {"type": "string", "enum": [*STATUSES, "exempt"]},
        "due_date": _DATE,
        "lessons": _obj({"read": _INT, "passed": _INT, "completed": _INT, "total": _INT}),
        "last_activity": _TIME,
        "completed_at": _TIME,
        "certificate_code": _NSTR,
    }
)
CERTIFICATE = _obj(
    {
        "code": _STR,
        "employee_no": _STR,
        "department": _STR,
        "issued_at": _TIME,
        "version": _obj({"sha256": _STR, "label": _STR, "title": _STR, "effective_date": _DATE}),
    }
)
ATTEMPT = _obj(
    {
        "id": _INT,
        "employee_no": _STR,
        "department": _STR,
        "lesson": _STR,
        "started_at": _TIME,
        "submitted_at": _TIME,
        "correct": {"type": ["integer", "null"]},
        "total": {"type": ["integer", "null"]},
        "passed": {"type": ["boolean", "null"]},
        "pass_mark": _STR,
    }
)
DEPARTMENT = _obj(
    {
        "name": _STR,
        "employees": _INT,
        "by_status": _obj(dict.fromkeys(STATUSES, _INT)),
    }
)
INDEX = _obj(
    dict.fromkeys(("employees", "certificates", "attempts", "departments", "openapi"), _STR)
)
ERROR = _obj({"error": _STR, "status": _INT})

SCHEMAS = {
    "Employee": EMPLOYEE,
    "Certificate": CERTIFICATE,
    "Attempt": ATTEMPT,
    "Department": DEPARTMENT,
    "Index": INDEX,
    "Error": ERROR,
}


def _page(item: str) -> dict[str, Any]:
    return _obj(
        {
            "data": {"type": "array", "items": {"$ref": f"#/components/schemas/{item}"}},
            "next_cursor": _NSTR,
        }
    )


def _param(name: str, description: str, schema: dict | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or _STR,
    }


PAGING = [
    _param("limit", "rows per page (1–API_PAGE_MAX, default 50)", _INT),
    _param("cursor", "next_cursor of the previous page"),
]
DEPARTMENT_PARAM = _param(
    "department", "only this department (a department token: its own only, else 403)"
)


def _get(summary: str, schema: dict[str, Any], params: list | None = None) -> dict[str, Any]:
    errors = {
        str(code): {
            "description": text,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for code, text in (
            (400, "a bad parameter"),
            (401, "missing, unknown or revoked token"),
            (403, "outside the token's department"),
            (429, "over the token's rate"),
        )
    }
    return {
        "get": {
            "summary": summary,
            "parameters": params or [],
            "responses": {
                "200": {
                    "description": "OK",
                    "headers": {"ETag": {"schema": _STR}},
                    "content": {"application/json": {"schema": schema}},
                },
                "304": {"description": "not modified (If-None-Match)"},
                **errors,
            },
        }
    }


def document(server: str) -> dict[str, Any]:
    """Return the OpenAPI document, with this site's API as its server."""
    ref = {"$ref": "#/components/schemas/Employee"}
    return {
        "openapi": "3.1.0",
        "info": {"title": "服务规范培训 API", "version": "1"},
        "servers": [{"url": server}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": SCHEMAS,
        },
        "paths": {
            "/": _get("where everything is", {"$ref": "#/components/schemas/Index"}),
            "/employees": _get(
                "employees with progress, status and due date",
                _page("Employee"),
                [
                    DEPARTMENT_PARAM,
                    _param("status", "one status", {"type": "string", "enum": list(STATUSES)}),
                    _param("include_inactive", "true: also deactivated employees"),
                    *PAGING,
                ],
            ),
            "/employees/{employee_no}": _get(
                "one employee by 工号",
                ref,
                [{"name": "employee_no", "in": "path", "required": True, "schema": _STR}],
            ),
            "/certificates": _get(
                "certificates, by norm version", _page("Certificate"), [DEPARTMENT_PARAM, *PAGING]
            ),
            "/attempts": _get(
                "quiz attempts and their scores (not the answers)",
                _page("Attempt"),
                [
                    DEPARTMENT_PARAM,
                    _param("employee_no", "one employee"),
                    _param("lesson", "one lesson number"),
                    *PAGING,
                ],
            ),
            "/departments": _get(
                "departments and their employees by status",
                _obj(
                    {
                        "data": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Department"},
                        }
                    }
                ),
                [DEPARTMENT_PARAM],
            ),
            "/openapi.json": {
                "get": {
                    "summary": "this document",
                    "security": [],
                    "responses": {"200": {"description": "OK"}},
                }
            },
        },
    }
