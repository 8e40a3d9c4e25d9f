"""Structured logs: a line per request with its id, security events, and errors with the id."""

from __future__ import annotations

import json
import logging

from training.logs import JsonFormatter


def _records(caplog, event):
    return [r for r in caplog.records if getattr(r, "event", None) == event]


def test_each_request_logs_one_line_with_id_route_status_duration_and_user(
    client, login_as, caplog
):
    user = login_as()
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="training"):
        response = client.get("/", headers={"X-Request-ID": "proxy-given-id-123"})
    assert response.headers["X-Request-ID"] == "proxy-given-id-123"
    (line,) = _records(caplog, "request")
    assert line.request_id == "proxy-given-id-123"
    assert (line.method, line.route, line.status, line.user_id) == ("GET", "/", 200, user.id)
    assert line.duration_ms >= 0
    formatted = json.loads(JsonFormatter().format(line))
    assert formatted["request_id"] == "proxy-given-id-123"
    assert formatted["route"] == "/"


def test_a_malformed_request_id_is_replaced(client, caplog):
    with caplog.at_level(logging.INFO, logger="training"):
        response = client.get("/login", headers={"X-Request-ID": "bad id; DROP"})
    given = response.headers["X-Request-ID"]
    assert given != "bad id; DROP"
    assert len(given) == 16


def test_failed_login_and_export_are_security_events(client, login_as, caplog, create_user):
    from training.auth.models import Role

    user = create_user()
    with caplog.at_level(logging.INFO, logger="training"):
        client.post("/login", data={"employee_no": user.employee_no, "password": "wrong-one-1"})
    (failed,) = _records(caplog, "login.failed")
    assert failed.security is True
    assert failed.employee_no == user.employee_no
    login_as(Role.HR)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="training"):
        client.get("/hr/employees/export.csv").close()
    (export,) = _records(caplog, "export")
    assert export.rows >= 1


def test_an_unhandled_error_is_logged_and_its_id_shown_on_the_500_page(
    app, client, login_as, caplog, monkeypatch
):
    login_as()

    def boom():
        raise RuntimeError("the cause")

    monkeypatch.setattr("training.lessons.views.progress_for", lambda *a, **k: boom())
    app.config["PROPAGATE_EXCEPTIONS"] = False
    with caplog.at_level(logging.INFO, logger="training"):
        response = client.get("/")
    assert response.status_code == 500
    request_id = response.headers["X-Request-ID"]
    page = response.get_data(as_text=True)
    assert f"<code data-request-id>{request_id}</code>" in page
    (error,) = _records(caplog, "error")
    assert error.request_id == request_id
    assert "RuntimeError: the cause" in JsonFormatter().format(error)
    assert "the cause" not in page
