"""The read-only JSON API: tokens, scopes, pagination stable under inserts, ETags, rate
limits, and answers that match the OpenAPI document."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from training.api import openapi, tokens
from training.api.models import ApiToken
from training.audit.models import AuditEvent
from training.auth.models import Role
from training.extensions import db
from training.quizzes.services import shown_questions


def _token(department: str | None = None) -> str:
    _row, secret = tokens.create("test", department, actor=None)
    db.session.commit()
    return secret


def _get(client, url: str, secret: str | None, **headers):
    if secret:
        headers["Authorization"] = f"Bearer {secret}"
    return client.get(url, headers=headers)


def _check(schema: dict, value, path: str = "$") -> None:
    """Check a value against the subset of JSON Schema the document uses."""
    if "$ref" in schema:
        schema = openapi.SCHEMAS[schema["$ref"].rsplit("/", 1)[1]]
    types = schema.get("type")
    types = types if isinstance(types, list) else [types]
    python = {
        "object": dict,
        "array": list,
        "string": str,
        "integer": int,
        "boolean": bool,
        "null": type(None),
    }
    assert any(isinstance(value, python[t]) for t in types), (path, value, types)
    if isinstance(value, dict):
        assert set(value) == set(schema["properties"]), (
            path,
            set(value) ^ set(schema["properties"]),
        )
        for key, sub in schema["properties"].items():
            _check(sub, value[key], f"{path}.{key}")
    if isinstance(value, list):
        for index, item in enumerate(value):
            _check(schema["items"], item, f"{path}[{index}]")
    if "enum" in schema:
        assert value in schema["enum"], (path, value)


def test_hr_creates_a_token_once_and_only_its_hash_is_kept(client, login_as):
    login_as(Role.HR)
    page = client.post("/hr/api-tokens/", data={"name": "HR 系统同步", "department": ""})
    text = page.get_data(as_text=True)
    secret = re.search(r"(trn_[A-Za-z0-9_-]{40,})", text).group(1)
    row = db.session.scalar(select(ApiToken))
    assert row.token_hash != secret
    assert secret not in str(row.__dict__)
    assert secret not in client.get("/hr/api-tokens/").get_data(as_text=True)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "api.token_create"))
    response = _get(client, "/api/v1/employees", secret)
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(ApiToken, row.id).last_used_at is not None
    assert "从未" not in client.get("/hr/api-tokens/").get_data(as_text=True)


def test_missing_unknown_revoked_tokens_and_cookies_get_401(app, client, login_as):
    secret = _token()
    assert _get(client, "/api/v1/employees", None).status_code == 401
    assert _get(client, "/api/v1/employees", "trn_wrong").status_code == 401
    response = client.get("/api/v1/employees", headers={"Authorization": f"Basic {secret}"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    login_as(Role.HR)  # a session cookie is no API credential
    assert _get(client, "/api/v1/employees", None).status_code == 401
    row = db.session.scalar(select(ApiToken))
    client.post(f"/hr/api-tokens/{row.id}/revoke")
    assert _get(client, "/api/v1/employees", secret).status_code == 401
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "api.token_revoke"))


def test_pages_are_stable_while_employees_are_added(app, client, create_user):
    first = [create_user(department="销售部") for _ in range(7)]
    secret = _token()
    seen: list[str] = []
    url = "/api/v1/employees?limit=3"
    pages = 0
    while url:
        body = _get(client, url, secret).get_json()
        seen += [row["employee_no"] for row in body["data"]]
        if pages == 0:
            create_user(department="销售部", employee_no="Z99999")  # arrives mid-paging
        pages += 1
        cursor = body["next_cursor"]
        url = f"/api/v1/employees?limit=3&cursor={cursor}" if cursor else ""
    assert seen[:7] == [u.employee_no for u in first]
    assert seen == [*seen[:7], "Z99999"]
    assert len(set(seen)) == len(seen)
    assert _get(client, "/api/v1/employees?cursor=bad!", secret).status_code == 400
    assert _get(client, "/api/v1/employees?limit=0", secret).status_code == 400
    assert _get(client, "/api/v1/employees?status=nope", secret).status_code == 400


def test_a_department_token_reads_its_department_only(
    app, client, create_user, lessons, login_as, start_quiz
):
    ours = create_user(department="销售部")
    theirs = create_user(department="研发部")
    secret = _token("销售部")
    rows = _get(client, "/api/v1/employees", secret).get_json()["data"]
    assert [r["employee_no"] for r in rows] == [ours.employee_no]
    assert _get(client, "/api/v1/employees?department=研发部", secret).status_code == 403
    assert _get(client, f"/api/v1/employees/{theirs.employee_no}", secret).status_code == 404
    detail = _get(client, f"/api/v1/employees/{ours.employee_no.lower()}", secret)
    assert detail.get_json()["employee_no"] == ours.employee_no
    departments = _get(client, "/api/v1/departments", secret).get_json()["data"]
    assert [d["name"] for d in departments] == ["销售部"]
    everyone = _token()
    names = {d["name"] for d in _get(client, "/api/v1/departments", everyone).get_json()["data"]}
    assert {"销售部", "研发部"} <= names


def test_attempts_give_scores_not_answers(app, client, login_as, lessons, start_quiz, form_for):
    learner = login_as(department="销售部")
    attempt = start_quiz("3.3")
    assert shown_questions(attempt)
    client.post(f"/quiz/{attempt.id}", data=form_for(attempt))
    client.post("/logout")
    secret = _token()
    body = _get(client, f"/api/v1/attempts?employee_no={learner.employee_no}", secret).get_json()
    [row] = body["data"]
    assert row["lesson"] == "3.3"
    assert row["passed"] is True
    assert row["correct"] == row["total"]
    assert "answers" not in row
    assert _get(client, "/api/v1/attempts", _token("研发部")).get_json()["data"] == []


def test_etags_answer_304_until_something_changes(app, client, create_user):
    create_user()
    secret = _token()
    first = _get(client, "/api/v1/employees", secret)
    etag = first.headers["ETag"]
    again = _get(client, "/api/v1/employees", secret, **{"If-None-Match": etag})
    assert again.status_code == 304
    create_user()
    changed = _get(client, "/api/v1/employees", secret, **{"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag


def test_each_token_is_rate_limited(make_app, create_user):
    app = make_app(API_RATE_PER_MINUTE=3)
    with app.app_context():
        secret = _token()
        other = _token()
        client = app.test_client()
        codes = [_get(client, "/api/v1/", secret).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        assert _get(client, "/api/v1/", other).status_code == 200


def test_answers_match_the_openapi_document(
    app, client, create_user, lessons, login_as, start_quiz, form_for
):
    learner = login_as(department="销售部")
    attempt = start_quiz("3.3")
    client.post(f"/quiz/{attempt.id}", data=form_for(attempt))
    client.post("/logout")
    secret = _token()
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    routes = {
        rule.rule.removeprefix("/api/v1").replace("<employee_no>", "{employee_no}") or "/"
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.")
    }
    assert routes == set(document["paths"])
    for path, body in (
        ("/", None),
        ("/employees", None),
        (f"/employees/{learner.employee_no}", None),
        ("/certificates", None),
        ("/attempts", None),
        ("/departments", None),
    ):
        template = "/employees/{employee_no}" if path.startswith("/employees/") else path
        schema = document["paths"][template]["get"]["responses"]["200"]["content"][
            "application/json"
        ]["schema"]
        body = _get(client, f"/api/v1{path}", secret).get_json()
        _check(schema, body, path)
    error = _get(client, "/api/v1/employees", None).get_json()
    _check({"$ref": "#/components/schemas/Error"}, error)


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_the_api_is_read_only(client, method):
    secret = _token()
    response = getattr(client, method)(
        "/api/v1/employees", headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 405
    assert response.get_json()["error"]
