"""xAPI: every learning event becomes a valid 1.0.3 statement, reaches a real ralph LRS once
through the outbox (retried while the LRS is down), and exports as NDJSON."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from tests.conftest import PASSWORD as PASSWORD_OF_USERS
from tests.conftest import AuthActions
from tests.quizzes.conftest import form_for_items
from tests.reports.conftest import Records
from tests.xapi.conftest import PASSWORD, USER
from training.audit.models import AuditEvent
from training.auth.models import Role
from training.course.certificates import certificate_code
from training.course.models import Certificate, ReadEvent
from training.course.versions import current_norm_version
from training.db import company_today, utcnow
from training.extensions import db
from training.notifications import outbox
from training.notifications.models import Channel, Delivery, Notification, Outcome, QueueEntry
from training.practice import services as practice_services
from training.practice import store
from training.quizzes.items import question_from_dict
from training.quizzes.models import QuizQuestion
from training.refresher import services as refresher_services
from training.refresher.models import RefresherAttempt
from training.xapi import feed, statements

ADL = "http://adlnet.gov/expapi/verbs/"


@pytest.fixture
def site() -> str:
    """The site's BASE_URL, its own per test: the tests share one LRS, and statement ids
    derive from the site and the row, so each test's ids are its own."""
    return f"https://training-{uuid.uuid4().hex[:12]}.example.com"


@pytest.fixture
def app(make_app, lrs, site):
    app = make_app(
        BASE_URL=site,
        XAPI_ENDPOINT=lrs.url,
        XAPI_USERNAME=USER,
        XAPI_PASSWORD=PASSWORD,
        RECERTIFY_DAYS=365,
        RECERTIFY_QUIZ_SIZE=10,
    )
    with app.app_context():
        yield app


@pytest.fixture
def records(create_user) -> Records:
    return Records(create_user)


def _practice(user, lesson, *, correct: bool):
    row = db.session.scalar(
        select(QuizQuestion).where(QuizQuestion.lesson_id == lesson.id).limit(1)
    )
    question = question_from_dict(row.data)
    keys = list(question.correct_keys()) if correct else [question.options[-1].key]
    store.record_review(
        user.id,
        row,
        question,
        answer=keys,
        correct=correct,
        rating=practice_services.rating_for(correct),
        scheduler=practice_services.make_scheduler(0.9),
        since=utcnow(),
        duration_ms=4200,
    )
    db.session.commit()


def _history(app, records, lessons):
    """One employee's whole history: every kind of event the product records."""
    user = records.employee(employee_no="E7001", name="张三", department="销售部")
    records.complete(user, lessons)  # reads, attempts, answers, passes, the certificate
    records.attempt(user, lessons[0], correct=False)  # a failed retry
    _practice(user, lessons[1], correct=True)
    _practice(user, lessons[2], correct=False)
    return user


def _refresher(app, records, lessons):
    """An employee whose certificate lapsed renews it with the refresher (in the browser)."""
    user = records.employee(employee_no="E7002", name="李四", department="销售部")
    db.session.add(
        Certificate(
            user_id=user.id,
            source_sha256=current_norm_version().source_sha256,
            norm_title="公司服务规范",
            code=certificate_code(),
            issued_at=utcnow() - timedelta(days=400),
        )
    )
    db.session.commit()
    records.complete(user, lessons)
    client = app.test_client()
    assert AuthActions(client).login(user.employee_no).status_code == 302
    assert client.post("/refresher/start").status_code == 302
    db.session.rollback()
    attempt = db.session.scalar(select(RefresherAttempt).where(RefresherAttempt.user_id == user.id))
    form = form_for_items(refresher_services.shown(attempt), correct=True)
    client.post(f"/refresher/{attempt.id}", data=form)
    db.session.rollback()
    return user


def _all_statements() -> list[dict]:
    return [built.statement for built in statements.since(utcnow() - timedelta(days=3650))]


def test_every_event_kind_is_a_valid_xapi_statement(app, records, lessons, ralph_validate, site):
    user = _history(app, records, lessons)
    _refresher(app, records, lessons)
    built = _all_statements()
    by_verb = Counter(s["verb"]["id"].rsplit("/", 1)[-1] for s in built)
    for verb in ("experienced", "attempted", "answered", "passed", "failed", "completed", "earned"):
        assert by_verb[verb], f"no {verb} statement"
    objects = Counter(s["object"]["id"].removeprefix(site).split("/")[1] for s in built)
    assert set(objects) >= {"lessons", "questions", "course", "certificates", "refresher"}
    # lesson completed (one per passed quiz) and course completed (one per certificate)
    completed = [s for s in built if s["verb"]["id"] == ADL + "completed"]
    assert {s["object"]["definition"]["type"].rsplit("/", 1)[-1] for s in completed} == {
        "lesson",
        "course",
    }
    # ralph's xAPI models accept every one of them
    results = ralph_validate(built)
    assert len(results) == len(built)
    bad = [r for r in results if not r["ok"]]
    assert not bad, bad[:3]

    mine = [s for s in built if s["actor"]["account"]["name"] == user.employee_no]
    sample = next(s for s in mine if s["verb"]["id"] == ADL + "passed")
    assert sample["actor"] == {
        "objectType": "Agent",
        "account": {"homePage": site, "name": "E7001"},
    }
    assert "张三" not in json.dumps(mine, ensure_ascii=False)  # no names leave the product
    assert all(s["object"]["id"].startswith(site + "/") for s in built)
    assert sample["result"]["score"]["scaled"] == 1
    assert sample["result"]["success"] is True
    failed = next(s for s in mine if s["verb"]["id"] == ADL + "failed")
    assert failed["result"]["success"] is False
    assert 0 <= failed["result"]["score"]["scaled"] < 1
    norm = current_norm_version()
    extension = sample["context"]["extensions"][f"{site}/xapi/extensions/norm-version"]
    assert extension["sha256"] == norm.source_sha256
    # the answers of one attempt share its registration with its attempted/passed statements
    registration = sample["context"]["registration"]
    assert {
        s["verb"]["id"].rsplit("/", 1)[-1]
        for s in mine
        if s["context"].get("registration") == registration
    } == {"attempted", "answered", "passed"}
    # ids are unique, and building again gives the same ones
    assert len({s["id"] for s in built}) == len(built)
    assert [s["id"] for s in _all_statements()] == [s["id"] for s in built]


def test_a_malformed_statement_is_refused_by_the_validator(app, records, lessons, ralph_validate):
    """The validation above can fail: ralph refuses a statement that breaks xAPI 1.0.3."""
    _history(app, records, lessons)
    good = _all_statements()[0]
    broken = json.loads(json.dumps(good))
    broken["actor"]["account"]["homePage"] = "not a url"
    no_verb = {k: v for k, v in good.items() if k != "verb"}
    bad_score = json.loads(json.dumps(good)) | {"result": {"score": {"scaled": 3}}}
    results = ralph_validate([good, broken, no_verb, bad_score])
    assert [r["ok"] for r in results] == [True, False, False, False]


def _lrs_rows():
    return db.session.scalars(
        select(Notification).where(Notification.channel == Channel.LRS).order_by(Notification.id)
    ).all()


def test_statements_reach_the_lrs_once_and_read_back(app, records, lessons, lrs, runner):
    user = _history(app, records, lessons)
    result = runner.invoke(args=["xapi", "push"])
    assert result.exit_code == 0, result.output
    rows = _lrs_rows()
    built = _all_statements()
    assert len(rows) == len(built)
    assert f"queued {len(built)}, sent {len(built)}," in result.output
    held = {s["id"]: s for s in lrs.all()}
    for row in rows:  # every statement, read back from ralph
        stored = held.get(row.payload["id"])
        assert stored is not None, row.key
        for part in ("actor", "verb", "object", "result"):
            assert stored.get(part) == row.payload.get(part), (row.key, part)
    # A second run finds nothing new and sends nothing.
    again = runner.invoke(args=["xapi", "push"])
    assert "queued 0, sent 0," in again.output
    # A resend (HR re-queues one; or an answer was lost) is accepted and stored once.
    resent = rows[0]
    db.session.add(QueueEntry(notification_id=resent.id, due_at=utcnow(), attempts=0))
    db.session.commit()
    third = runner.invoke(args=["xapi", "push"])
    assert third.exit_code == 0, third.output
    assert "sent 1," in third.output
    ids = [s["id"] for s in lrs.all()]
    assert len(ids) == len(set(ids))
    assert {s["id"] for s in built} <= set(ids)
    # The HR notification pages do not list statements as messages.
    assert outbox.queued_for(user.id) == 0


def test_new_evidence_is_fed_on_the_next_run(app, records, lessons, lrs, runner):
    _history(app, records, lessons)
    first = runner.invoke(args=["xapi", "push"])
    assert first.exit_code == 0, first.output
    before = len(_lrs_rows())
    newcomer = records.employee(employee_no="E7010")
    read = records.read(newcomer, lessons[3])
    result = runner.invoke(args=["xapi", "push"])
    assert "queued 1, sent 1," in result.output, result.output
    statement_id = statements.statement_id("read_events", read.id, "experienced")
    assert lrs.statement(statement_id)["verb"]["id"] == ADL + "experienced"
    assert len(_lrs_rows()) == before + 1


def test_a_dead_lrs_keeps_every_statement_and_the_retry_sends_it(
    make_app, records, lessons, lrs, database_url, site
):
    with socketless() as dead:
        app = make_app(
            BASE_URL=site, XAPI_ENDPOINT=dead, XAPI_USERNAME=USER, XAPI_PASSWORD=PASSWORD
        )
        with app.app_context():
            _history(app, records, lessons)
            result = app.test_cli_runner().invoke(args=["xapi", "push"])
            assert result.exit_code == 1
            assert "无法连接学习记录库" in result.output
            rows = _lrs_rows()
            assert rows
            failed = db.session.scalar(
                select(func.count()).select_from(Delivery).where(Delivery.outcome == Outcome.FAILED)
            )
            assert failed == len(rows)
            assert db.session.scalar(select(func.count()).select_from(QueueEntry)) == len(rows)
            state = feed.status()
            assert state.queued == len(rows)
            assert "无法连接" in state.last_error
    live = make_app(
        BASE_URL=site, XAPI_ENDPOINT=lrs.url, XAPI_USERNAME=USER, XAPI_PASSWORD=PASSWORD
    )
    with live.app_context():
        # The backoff has passed.
        db.session.execute(update(QueueEntry).values(due_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
        result = live.test_cli_runner().invoke(args=["xapi", "push"])
        assert result.exit_code == 0, result.output
        assert f"queued 0, sent {len(rows)}," in result.output
        assert db.session.scalar(select(func.count()).select_from(QueueEntry)) == 0
        assert lrs.statement(rows[-1].payload["id"]) is not None


def test_wrong_lrs_credentials_are_a_clear_error(make_app, records, lessons, lrs, site):
    app = make_app(BASE_URL=site, XAPI_ENDPOINT=lrs.url, XAPI_USERNAME=USER, XAPI_PASSWORD="nope")
    with app.app_context():
        _practice(records.employee(employee_no="E7003"), lessons[0], correct=True)
        result = app.test_cli_runner().invoke(args=["xapi", "push"])
        assert result.exit_code == 1
        assert "HTTP 401" in result.output


def test_export_writes_ndjson_from_a_day_on(app, records, lessons, runner, tmp_path):
    _history(app, records, lessons)
    earlier = records.employee(employee_no="E7011")
    old = ReadEvent(
        user_id=earlier.id,
        lesson_id=lessons[4].id,
        lesson_hash=lessons[4].content_hash,
        read_at=utcnow() - timedelta(days=10),
    )
    db.session.add(old)
    db.session.commit()
    out = tmp_path / "statements.ndjson"
    since = (company_today() - timedelta(days=2)).isoformat()
    result = runner.invoke(args=["xapi", "export", "--since", since, "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == len(_all_statements()) - 1
    assert statements.statement_id("read_events", old.id, "experienced") not in {
        s["id"] for s in lines
    }
    # The same ids as the feed would send.
    assert {s["id"] for s in lines} <= {s["id"] for s in _all_statements()}
    assert f"{len(lines)} statements" in result.output


def test_nothing_is_queued_without_an_endpoint(make_app, records, lessons):
    app = make_app(XAPI_ENDPOINT="")
    with app.app_context():
        _history(app, records, lessons)
        assert feed.queue_new() == 0
        result = app.test_cli_runner().invoke(args=["xapi", "push"])
        assert result.exit_code == 1
        assert "XAPI_ENDPOINT" in result.output
        assert not _lrs_rows()


class socketless:
    """An address where nothing listens (a port bound, then closed)."""

    def __enter__(self) -> str:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        return f"http://127.0.0.1:{port}/xAPI/"

    def __exit__(self, *exc) -> None:
        return None


def _login_with_csrf(client, employee_no, csrf_token_from) -> bool:
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login",
        data={"employee_no": employee_no, "password": PASSWORD_OF_USERS, "csrf_token": token},
    )
    return response.status_code == 302


def test_hr_sees_the_feed_pushes_now_and_requeues_what_gave_up(
    make_app, records, lessons, lrs, site, csrf_token_from
):
    # Requests run outside the test's app context: Flask-WTF keeps a request's CSRF token
    # in `g`, which an outer app context would share between requests.
    with socketless() as dead:
        app = make_app(
            BASE_URL=site, XAPI_ENDPOINT=dead, NOTIFY_MAX_ATTEMPTS=1, WTF_CSRF_ENABLED=True
        )
        with app.app_context():
            _practice(records.employee(employee_no="E7020"), lessons[0], correct=True)
            records.create_user(role=Role.HR, employee_no="HR7001", name="人事")
        client = app.test_client()
        assert _login_with_csrf(client, "HR7001", csrf_token_from)
        page = client.get("/hr/xapi/")
        assert page.status_code == 200
        token = csrf_token_from(page.get_data(as_text=True))
        # no CSRF token: refused, nothing sent
        assert client.post("/hr/xapi/push").status_code == 400
        with app.app_context():
            assert not _lrs_rows()
        pushed = client.post("/hr/xapi/push", data={"csrf_token": token}, follow_redirects=True)
        text = pushed.get_data(as_text=True)
        assert "未送达" in text
        assert "无法连接学习记录库" in text
        assert "data-gave-up>1<" in text
    live = make_app(
        BASE_URL=site,
        XAPI_ENDPOINT=lrs.url,
        XAPI_USERNAME=USER,
        XAPI_PASSWORD=PASSWORD,
        WTF_CSRF_ENABLED=True,
    )
    client = live.test_client()
    assert _login_with_csrf(client, "HR7001", csrf_token_from)
    token = csrf_token_from(client.get("/hr/xapi/").get_data(as_text=True))
    for _ in range(2):  # a doubled click queues once
        assert client.post("/hr/xapi/retry", data={"csrf_token": token}).status_code == 302
    with live.app_context():
        assert db.session.scalar(select(func.count()).select_from(QueueEntry)) == 1
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "xapi.retry")
        ).all()
        assert len(events) == 1
        assert events[0].details["count"] == 1
    done = client.post("/hr/xapi/push", data={"csrf_token": token}, follow_redirects=True)
    assert "送达 1 条" in done.get_data(as_text=True)
    with live.app_context():
        [row] = _lrs_rows()
        assert lrs.statement(row.payload["id"]) is not None
