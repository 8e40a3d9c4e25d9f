"""The HR audit log: who may see it, its filters, and that no one can change it."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, event, select, update
from sqlalchemy.exc import DBAPIError

from training.audit.models import AuditEvent
from training.audit.services import ACTIONS, record
from training.auth.models import Role, User
from training.extensions import db

T0 = datetime(2024, 5, 1, 2, 0, tzinfo=UTC)  # 2024-05-01 10:00 in Shanghai


@pytest.fixture
def make_event(app) -> Callable[..., AuditEvent]:
    """Return a factory that writes one audit event with the given fields."""

    def factory(
        action: str = "user.update",
        *,
        actor: User | None = None,
        target: User | None = None,
        at: datetime = T0,
        channel: str = "web",
        summary: str = "更新了员工信息",
        details: dict | None = None,
    ) -> AuditEvent:
        row = AuditEvent(
            at=at,
            actor_id=actor.id if actor else None,
            channel=channel,
            action=action,
            target_user_id=target.id if target else None,
            summary=summary,
            details=details or {},
        )
        db.session.add(row)
        db.session.commit()
        return row

    return factory


def event_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'data-event-id="(\d+)"', html)]


@contextmanager
def count_queries() -> Iterator[list[str]]:
    statements: list[str] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)


# --- who may see it --------------------------------------------------------------------------


def test_audit_log_redirects_anonymous_visitors_to_login(client):
    response = client.get("/hr/audit/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_audit_log_is_forbidden_to_learners(client, login_as):
    login_as(Role.LEARNER)
    assert client.get("/hr/audit/").status_code == 403


def test_hr_nav_links_to_audit_log(client, login_as):
    login_as(Role.HR)
    html = client.get("/hr/audit/").get_data(as_text=True)
    assert 'href="/hr/audit/"' in html
    assert "审计日志" in html


# --- what it shows ---------------------------------------------------------------------------


def test_audit_log_lists_events_newest_first_with_actor_target_and_local_time(
    client, login_as, create_user, make_event
):
    hr = login_as(Role.HR, name="王人事", employee_no="H0001")
    employee = create_user(name="李新", employee_no="E2001")
    older = make_event("user.create", actor=hr, target=employee, at=T0, summary="创建员工 李新")
    newer = make_event(
        "link.setup", actor=hr, target=employee, at=T0 + timedelta(hours=1), summary="发放链接"
    )

    html = client.get("/hr/audit/").get_data(as_text=True)

    assert event_ids(html) == [newer.id, older.id]
    assert "王人事(H0001)" in html
    assert "李新(E2001)" in html
    assert str(ACTIONS["user.create"]) in html
    assert str(ACTIONS["link.setup"]) in html
    assert "2024-05-01 10:00:00" in html  # 02:00 UTC shown in Asia/Shanghai
    assert "2024-05-01 11:00:00" in html


def test_audit_log_names_the_command_line_for_cli_events(client, login_as, create_user, app):
    login_as(Role.HR)
    employee = create_user(employee_no="E3001")
    record("user.import", "命令行导入 1 人", target=employee)  # no request: channel "cli"
    db.session.commit()

    html = client.get("/hr/audit/").get_data(as_text=True)

    row = re.search(r'<tr data-event-id="\d+".*?</tr>', html, re.S).group(0)
    assert "命令行" in row
    assert str(ACTIONS["user.import"]) in row


def test_audit_log_escapes_summary_and_pretty_prints_details(client, login_as, make_event):
    login_as(Role.HR)
    make_event(
        summary="<b>粗体</b>",
        details={"字段": "部门", "新值": "<script>alert(1)</script>", "数量": 2},
    )

    html = client.get("/hr/audit/").get_data(as_text=True)

    assert "<script>alert(1)" not in html
    assert "<b>粗体</b>" not in html
    assert "&lt;b&gt;粗体&lt;/b&gt;" in html
    assert "&#34;新值&#34;: &#34;&lt;script&gt;alert(1)&lt;/script&gt;&#34;" in html
    assert "\n  &#34;数量&#34;: 2,\n" in html  # indented, Chinese kept readable


def test_audit_log_pages_by_fifty_and_keeps_filters_in_pager_links(client, login_as, make_event):
    hr = login_as(Role.HR)
    for minute in range(51):
        make_event("export", actor=hr, at=T0 + timedelta(minutes=minute))
    make_event("user.update", actor=hr, at=T0 + timedelta(hours=5))

    first = client.get("/hr/audit/?action=export").get_data(as_text=True)
    assert len(event_ids(first)) == 50
    assert 'href="/hr/audit/?page=2&amp;action=export"' in first

    second = client.get("/hr/audit/?action=export&page=2").get_data(as_text=True)
    assert len(event_ids(second)) == 1
    assert set(event_ids(first)).isdisjoint(event_ids(second))


# --- filters ---------------------------------------------------------------------------------


@pytest.fixture
def filter_events(login_as, create_user, make_event) -> dict[str, AuditEvent]:
    """An HR user viewing events by two actors, on two employees, across a local midnight."""
    hr = login_as(Role.HR, employee_no="H0001")
    other_hr = create_user(role=Role.HR, employee_no="H0002")
    alice = create_user(employee_no="E0101")
    bob = create_user(employee_no="E0102")
    return {
        # 2024-05-01 23:59 and 2024-05-02 00:30 in Shanghai, on either side of midnight.
        "late": make_event(
            "user.create", actor=hr, target=alice, at=datetime(2024, 5, 1, 15, 59, tzinfo=UTC)
        ),
        "after_midnight": make_event(
            "user.update", actor=other_hr, target=bob, at=datetime(2024, 5, 1, 16, 30, tzinfo=UTC)
        ),
        "later": make_event(
            "user.deactivate", actor=hr, target=bob, at=datetime(2024, 5, 3, 1, 0, tzinfo=UTC)
        ),
        "cli": make_event("export", channel="cli", at=datetime(2024, 5, 3, 2, 0, tzinfo=UTC)),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["cli", "later", "after_midnight", "late"]),
        ("action=user.update", ["after_midnight"]),
        ("actor=H0001", ["later", "late"]),
        ("actor=+H0002+", ["after_midnight"]),
        ("target=E0102", ["later", "after_midnight"]),
        ("actor=H0001&target=E0102", ["later"]),
        ("date_from=2024-05-02", ["cli", "later", "after_midnight"]),
        ("date_to=2024-05-01", ["late"]),
        ("date_from=2024-05-02&date_to=2024-05-02", ["after_midnight"]),
        ("date_from=2024-05-03&date_to=2024-05-03&action=export", ["cli"]),
        ("actor=NOBODY", []),
    ],
)
def test_audit_log_filters_by_action_actor_target_and_local_dates(
    client, filter_events, query, expected
):
    response = client.get(f"/hr/audit/?{query}")

    assert response.status_code == 200
    assert event_ids(response.get_data(as_text=True)) == [filter_events[k].id for k in expected]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("action=user.delete", "不是有效的选择"),
        ("date_from=2024-13-01", "不是有效的日期值"),
        ("date_from=2024-05-03&date_to=2024-05-02", "结束日期不能早于开始日期。"),
        ("actor=" + "X" * 33, "不能超过 32 个字符"),
    ],
)
def test_audit_log_rejects_bad_filters_with_a_message_and_no_rows(
    client, filter_events, query, message
):
    response = client.get(f"/hr/audit/?{query}")
    html = response.get_data(as_text=True)

    assert response.status_code == 422
    assert message in html
    assert event_ids(html) == []


def test_audit_log_page_runs_the_same_queries_for_three_events_or_fifty(
    client, login_as, create_user, make_event
):
    hr = login_as(Role.HR)
    client.get("/hr/audit/")  # warm up: first-request work is not per page

    def queries_for_page() -> int:
        with count_queries() as statements:
            assert client.get("/hr/audit/").status_code == 200
        return len(statements)

    for _ in range(3):
        make_event(actor=hr, target=create_user())
    few = queries_for_page()
    for _ in range(47):
        make_event(actor=create_user(role=Role.HR), target=create_user())
    many = queries_for_page()

    assert few == many
    # the session user, the page of events with both users, the count, the chain heads
    assert many <= 5


# --- nobody can change it --------------------------------------------------------------------


def test_audit_log_has_no_route_that_changes_events(app, client, login_as):
    login_as(Role.HR)
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("audit.")]
    assert sorted(rule.endpoint for rule in rules) == ["audit.export", "audit.index"]
    assert all(rule.methods == {"GET", "HEAD", "OPTIONS"} for rule in rules)
    for method in ("post", "put", "patch", "delete"):
        assert getattr(client, method)("/hr/audit/").status_code in {400, 405}


def test_database_refuses_to_update_an_audit_event(make_event):
    row = make_event(summary="原始摘要")

    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(update(AuditEvent).where(AuditEvent.id == row.id).values(summary="篡改"))
    db.session.rollback()

    assert (
        db.session.scalar(select(AuditEvent.summary).where(AuditEvent.id == row.id)) == "原始摘要"
    )


def test_database_refuses_to_delete_an_audit_event(make_event):
    row = make_event()

    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(delete(AuditEvent).where(AuditEvent.id == row.id))
    db.session.rollback()

    assert db.session.get(AuditEvent, row.id) is not None


def test_database_refuses_an_orm_change_to_a_loaded_audit_event(make_event):
    row = make_event(details={"a": 1})

    row.details = {"a": 2}
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.commit()
    db.session.rollback()

    db.session.expire_all()
    assert db.session.get(AuditEvent, row.id).details == {"a": 1}


def test_dates_at_the_ends_of_the_calendar_are_refused_not_crashed(client, login_as):
    from training.auth.models import Role

    login_as(Role.HR)
    for query in ("date_to=9999-12-31", "date_from=0001-01-01"):
        assert client.get(f"/hr/audit/?{query}").status_code == 422, query


# --- export ----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_audit_log_exports_the_filtered_events_like_the_other_lists(
    client, login_as, make_event, create_user, fmt
):
    import csv
    import io

    from openpyxl import load_workbook

    hr = login_as(Role.HR, name="人事甲")
    target = create_user(name="王五")
    make_event("user.update", actor=hr, target=target, summary="改了部门", details={"a": 1})
    make_event("user.deactivate", actor=hr, target=target, summary="=停用")
    make_event("user.update", actor=hr, summary="另一条")
    with client.get(f"/hr/audit/export.{fmt}?action=user.update&target={target.employee_no}") as r:
        assert r.status_code == 200
        data = r.get_data()
        assert "attachment" in r.headers["Content-Disposition"]
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    else:
        sheet = load_workbook(io.BytesIO(data)).active
        assert sheet.auto_filter.ref is not None
        rows = [
            [("" if v is None else str(v)) for v in row]
            for row in sheet.iter_rows(values_only=True)
        ]
    assert rows[0][:4] == ["编号", "时间", "操作人", "操作"]
    assert len(rows) == 2  # the header and the one matching event
    assert rows[1][6] == "改了部门"
    assert rows[1][2] == f"人事甲({hr.employee_no})"
    assert '"a": 1' in rows[1][7]
    db.session.rollback()
    exported = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export")).all()
    assert len(exported) == 1
    assert exported[0].details["what"] == "audit"
    assert exported[0].details["rows"] == 1


def test_audit_log_export_refuses_bad_filters(client, login_as):
    login_as(Role.HR)
    assert client.get("/hr/audit/export.csv?date_from=2024-13-01").status_code == 422


def test_audit_log_filters_collapse_unless_set(client, login_as):
    login_as(Role.HR)
    plain = client.get("/hr/audit/").get_data(as_text=True)
    assert '<details class="filters">' in plain
    filtered = client.get("/hr/audit/?action=user.update").get_data(as_text=True)
    assert '<details class="filters" open>' in filtered
