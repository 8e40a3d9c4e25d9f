"""Periodic recertification: a completion expires, the refresher renews it once, HR sees
将到期 / 已过期, and reminders go out; off by default."""

from __future__ import annotations

import random
import re
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import AuthActions
from tests.quizzes.conftest import form_for_items
from training.auth.models import Role
from training.course.certificates import EXPIRED, EXPIRING, VALID, certificate_code, validity
from training.course.models import Certificate, CertificateRenewal
from training.course.versions import current_norm_version
from training.db import company_today, utcnow
from training.extensions import db
from training.notifications import planner
from training.quizzes.items import question_from_dict
from training.quizzes.models import QuizQuestion
from training.refresher import services
from training.refresher.models import RefresherAttempt, RefresherSubmission
from training.reports.dashboard import expiring_count
from training.reports.status import Filters, employee_rows


@pytest.fixture
def app(make_app):
    app = make_app(RECERTIFY_DAYS=365, RECERTIFY_WARN_DAYS=30, RECERTIFY_QUIZ_SIZE=10)
    with app.app_context():
        yield app


def _certified(create_user, records, lessons, *, days_ago: int, **fields):
    """An employee who completed the course; the certificate issued ``days_ago`` days ago."""
    user = create_user(**fields)
    db.session.add(
        Certificate(
            user_id=user.id,
            source_sha256=current_norm_version().source_sha256,
            norm_title="公司服务规范",
            code=certificate_code(),
            issued_at=utcnow() - timedelta(days=days_ago),
        )
    )
    db.session.commit()
    records.complete(user, lessons)
    return user


def _login(app, user):
    client = app.test_client()
    assert AuthActions(client).login(user.employee_no).status_code == 302
    return client


def test_recertification_is_off_by_default(make_app, create_user, records, lessons):
    plain = make_app()
    with plain.app_context():
        user = create_user()
        records.complete(user, lessons)
        client = _login(plain, user)
        assert client.get("/refresher/").status_code == 404
        assert "有效期至" not in client.get("/certificate").get_data(as_text=True)


def test_a_certificate_holds_then_warns_then_expires(app, create_user, records, lessons):
    fresh = _certified(create_user, records, lessons, days_ago=10)
    near = _certified(create_user, records, lessons, days_ago=350)
    old = _certified(create_user, records, lessons, days_ago=400)
    states = {
        user.id: validity(
            db.session.scalar(select(Certificate).where(Certificate.user_id == user.id))
        ).state
        for user in (fresh, near, old)
    }
    assert states == {fresh.id: VALID, near.id: EXPIRING, old.id: EXPIRED}


@pytest.mark.parametrize(
    ("days_ago", "state"),
    [(335, VALID), (336, EXPIRING), (365, EXPIRING), (366, EXPIRED)],
)
def test_the_reports_and_the_certificate_agree_on_the_boundary_days(
    app, create_user, records, lessons, days_ago, state
):
    """365 days of validity, 30 of warning: the SQL of the reports and the Python of the
    certificate page draw the lines on the same days."""
    user = _certified(create_user, records, lessons, days_ago=days_ago)
    certificate = db.session.scalar(select(Certificate).where(Certificate.user_id == user.id))
    assert validity(certificate).state == state
    [row] = db.session.execute(select(employee_rows(Filters())))
    assert (row.status == "expired") == (state == EXPIRED)
    assert expiring_count(company_today()) == (1 if state == EXPIRING else 0)


def test_hr_sees_expiring_and_expired(app, client, hr, create_user, records, lessons):
    _certified(create_user, records, lessons, days_ago=10)
    _certified(create_user, records, lessons, days_ago=350, employee_no="NEAR1")
    _certified(create_user, records, lessons, days_ago=400, employee_no="OLD01")
    page = client.get("/hr/").get_data(as_text=True)
    assert re.search(r'data-count="expiring">1<', page)
    assert re.search(r'data-count="expired">1<', page)
    assert re.search(r'data-count="completed">2<', page)
    listed = client.get("/hr/employees?status=expired").get_data(as_text=True)
    assert "OLD01" in listed
    assert "NEAR1" not in listed


def test_the_learner_is_told_and_the_refresher_renews_the_certificate_once(
    app, create_user, records, lessons
):
    user = _certified(create_user, records, lessons, days_ago=400)
    client = _login(app, user)
    home = client.get("/").get_data(as_text=True)
    assert 'data-certificate="expired"' in home
    certificate_page = client.get("/certificate").get_data(as_text=True)
    assert 'data-expired="yes"' in certificate_page
    started = client.post("/refresher/start")
    assert started.status_code == 302
    db.session.rollback()
    attempt = db.session.scalar(select(RefresherAttempt))
    shown = services.shown(attempt)
    assert len(shown) == 10
    per_lesson = Counter(
        db.session.scalar(
            select(QuizQuestion.lesson_id).where(QuizQuestion.qid == item.question.id)
        )
        for item in shown
    )
    assert max(per_lesson.values()) <= 2
    assert all(not item.question.generated for item in shown)
    # Starting again continues the open attempt.
    assert client.post("/refresher/start").headers["Location"] == started.headers["Location"]
    form = form_for_items(shown, correct=True)
    for _ in range(2):  # a double click records one submission
        client.post(f"/refresher/{attempt.id}", data=form)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(RefresherSubmission)) == 1
    [renewal] = db.session.scalars(select(CertificateRenewal)).all()
    result = client.get(f"/refresher/{attempt.id}/result").get_data(as_text=True)
    assert "data-renewed" in result
    assert renewal.code in result
    renewed = validity(db.session.get(Certificate, renewal.certificate_id))
    assert renewed.state == VALID
    assert renewed.expires_on == company_today() + timedelta(days=365)
    assert 'data-certificate="valid"' in client.get("/").get_data(as_text=True)


def test_a_failed_refresher_renews_nothing_and_can_be_taken_again(
    app, create_user, records, lessons
):
    user = _certified(create_user, records, lessons, days_ago=400)
    client = _login(app, user)
    client.post("/refresher/start")
    db.session.rollback()
    attempt = db.session.scalar(select(RefresherAttempt))
    client.post(
        f"/refresher/{attempt.id}", data=form_for_items(services.shown(attempt), correct=False)
    )
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(CertificateRenewal)) == 0
    again = client.post("/refresher/start")
    assert again.status_code == 302
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(RefresherAttempt)) == 2


def test_a_valid_certificate_cannot_start_the_refresher(app, create_user, records, lessons):
    user = _certified(create_user, records, lessons, days_ago=10)
    client = _login(app, user)
    assert client.post("/refresher/start").status_code == 404
    assert 'data-state="valid"' in client.get("/refresher/").get_data(as_text=True)


def test_the_renewal_code_verifies(app, create_user, records, lessons, login_as):
    user = _certified(create_user, records, lessons, days_ago=400)
    client = _login(app, user)
    client.post("/refresher/start")
    db.session.rollback()
    attempt = db.session.scalar(select(RefresherAttempt))
    client.post(f"/refresher/{attempt.id}", data=form_for_items(services.shown(attempt)))
    db.session.rollback()
    code = db.session.scalar(select(CertificateRenewal.code))
    hr = create_user(role=Role.HR)
    page = _login(app, hr).get(f"/hr/certificates/verify?code={code}").get_data(as_text=True)
    assert 'data-verified="yes"' in page
    assert "最近复训" in page


def test_the_draw_favours_clauses_answered_wrongly_and_changed():
    rows = []
    for n, clause in enumerate(["1.1", "2.1", "3.1", "4.1"]):
        rows.append(
            (
                question_from_dict(
                    {
                        "id": f"q{n}",
                        "kind": "single",
                        "cites": [clause],
                        "prompt": "题目",
                        "scenario": "",
                        "answer": "",
                        "feedback": "",
                        "generated": False,
                        "lesson": f"{n}",
                        "options": [
                            {"key": "a", "text": "甲", "correct": True, "feedback": "是"},
                            {"key": "b", "text": "乙", "correct": False, "feedback": "否"},
                        ],
                    }
                ),
                f"L{n}",
                f"v{n}",
            )
        )
    counts: Counter[str] = Counter()
    for seed in range(3000):
        picks = services.weighted_picks(rows, {"1.1"}, {"2.1"}, 1, random.Random(seed))  # noqa: S311
        counts[picks[0].question.id] += 1
    # Weights 3, 3, 1, 1: about 3/8 each for the two favoured, 1/8 each for the others.
    assert 0.33 < counts["q0"] / 3000 < 0.42
    assert 0.33 < counts["q1"] / 3000 < 0.42
    assert counts["q2"] / 3000 < 0.17
    favoured = services.weighted_picks(rows, {"1.1"}, set(), 4, random.Random(1))  # noqa: S311
    assert {p.question.id: p.reasons for p in favoured}["q0"] == ("wrong",)


def test_refresher_reminders_start_before_expiry_and_repeat_once_expired(
    app, create_user, records, lessons
):
    near = _certified(create_user, records, lessons, days_ago=350, email="near@example.com")
    old = _certified(create_user, records, lessons, days_ago=400, email="old@example.com")
    report = planner.PlanReport()
    planner.plan_recertification(company_today(), report)
    db.session.commit()
    assert any(
        k.startswith(f"recertification:{near.id}:") and ":before:30" in k for k in report.queued
    )
    assert any(
        k.startswith(f"recertification:{old.id}:") and ":overdue:" in k for k in report.queued
    )
    again = planner.PlanReport()
    planner.plan_recertification(company_today(), again)
    assert again.queued == []
    # An expired completion gets no onboarding reminders.
    onboarding = planner.PlanReport()
    planner.plan_reminders(company_today(), onboarding)
    assert onboarding.queued == []
    assert EXPIRING


def test_hr_sees_the_validity_on_the_employee_page(app, client, hr, create_user, records, lessons):
    old = _certified(create_user, records, lessons, days_ago=400)
    page = client.get(f"/hr/employees/{old.id}").get_data(as_text=True)
    assert 'data-validity="expired"' in page
