"""Every route against a policy table, as anonymous, learner, another learner, a manager of
the employee's department, a manager of another department, and HR.

A route added without a policy fails this suite. URLs that take an id are
tried with another employee's id.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from training.app import create_app
from training.auth.models import ManagedDepartment, Role
from training.course.models import Certificate
from training.course.versions import current_norm_version
from training.extensions import db
from training.jobs.files import store
from training.jobs.models import JobState
from training.jobs.runner import enqueue
from training.quizzes.models import QuizQuestion
from training.quizzes.services import start_attempt
from training.refresher.models import RefresherAttempt

PUBLIC, USER, OWNER, HR = "public", "user", "owner", "hr"
# The JSON API: a bearer token only; a session cookie, whoever's, is not enough (tests/api).
TOKEN = "token"
# HR, and managers for the people of their own departments (404 for anyone else's).
STAFF = "staff"
# Only the staff member who asked for it (here the manager); 404 for other staff, HR included.
CREATOR = "creator"

POLICY = {
    "static": PUBLIC,
    "auth.login": PUBLIC,
    "auth.set_password": PUBLIC,
    # Sign-in through an identity provider (tests/oidc: a session it creates passes this table).
    "auth.sso_start": PUBLIC,
    "auth.sso_callback": PUBLIC,
    "auth.logout": USER,
    # The header's language switch: on the login page too (a cookie; saved for a user).
    "language.choose": PUBLIC,
    "auth.change_password": USER,
    "lessons.home": USER,
    "lessons.lesson": USER,
    "lessons.acknowledge": USER,
    "quizzes.quiz_start": USER,
    "quizzes.quiz_new": USER,
    "quizzes.certificate": USER,
    "quizzes.certificate_pdf": USER,
    "quizzes.attempt": OWNER,
    "quizzes.result": OWNER,
    "quizzes.verify_certificate": HR,
    "practice.index": USER,
    "phrasebook.index": USER,
    "refresher.index": USER,
    "refresher.start": USER,
    "refresher.attempt": OWNER,
    "refresher.result": OWNER,
    "practice.chapter": USER,
    "practice.start_chapter": USER,
    "practice.start_today": USER,
    "practice.start_weak": USER,
    "practice.question": USER,
    "practice.feedback": USER,
    "practice.done": USER,
    "practice.stats": HR,
    "reports.dashboard": HR,
    "reports.employee_list": STAFF,
    "reports.employee_detail": STAFF,
    "reports.attempt_detail": HR,
    "reports.export_employees": STAFF,
    "reports.export_attempts": HR,
    "reports.item_analysis": HR,
    "reports.export_job": CREATOR,
    "reports.export_download": CREATOR,
    "employees.create": HR,
    "employees.edit": HR,
    "employees.import_upload": HR,
    "employees.import_confirm": HR,
    "employees.import_links_xlsx": HR,
    "employees.import_preview": HR,
    "employees.import_job_links": HR,
    "jobs.index": HR,
    "jobs.show": HR,
    "employees.assign": HR,
    "employees.assign_department": HR,
    "employees.deactivate": HR,
    "employees.reactivate": HR,
    "employees.issue_link": HR,
    "audit.index": HR,
    "audit.export": HR,
    "notifications.index": HR,
    "notifications.nudge": STAFF,
    "notifications.retry": HR,
    "notifications.cancel": HR,
    "notifications.save_robot": HR,
    "notifications.delete_robot": HR,
    "revisions.index": HR,
    "revisions.upload": HR,
    "revisions.preview": HR,
    "revisions.publish": HR,
    "revisions.review": HR,
    "revisions.review_decide": HR,
    "revisions.version_detail": HR,
    "revisions.cancel_scheduled": HR,
    "revisions.version_export": HR,
    "revisions.archived_lesson": HR,
    "banks.index": HR,
    "banks.export": HR,
    "banks.template": HR,
    "banks.scorm_package": HR,
    "banks.preview": HR,
    "banks.publish": HR,
    "api.index": TOKEN,
    "api.employees": TOKEN,
    "api.employee": TOKEN,
    "api.certificates": TOKEN,
    "api.attempts": TOKEN,
    "api.departments": TOKEN,
    "api.openapi_document": PUBLIC,
    "api_tokens.index": HR,
    "api_tokens.revoke": HR,
    "xapi.index": HR,
    "xapi.push": HR,
    "xapi.retry": HR,
}


def _routes():
    app = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, rule.rule, method


ROUTES = list(_routes())


def test_every_route_has_a_policy():
    missing = sorted({endpoint for endpoint, _, _ in ROUTES} - set(POLICY))
    assert missing == [], f"routes without an access policy: {missing}"


@pytest.fixture
def world(app, lessons, create_user):
    """A learner, another learner with an attempt, an HR user; ids to put in URLs."""
    learner = create_user(name="学员甲")
    other = create_user(name="学员乙")
    hr = create_user(role=Role.HR, name="人事丙")
    manager = create_user(role=Role.MANAGER, name="测试部负责人", department="测试部")
    manager.managed.append(ManagedDepartment(department="测试部"))
    elsewhere = create_user(role=Role.MANAGER, name="销售部负责人", department="销售部")
    elsewhere.managed.append(ManagedDepartment(department="销售部"))
    attempt = start_attempt(other.id, lessons[0])
    certificate = Certificate(
        user_id=other.id,
        source_sha256=current_norm_version().source_sha256,
        norm_title="公司服务规范",
        code="TEST-CODE-0001",
    )
    db.session.add(certificate)
    db.session.flush()
    refresher = RefresherAttempt(
        user_id=other.id,
        certificate_id=certificate.id,
        seed=1,
        draw={"seed": 1, "questions": []},
        pass_mark="4/5",
    )
    db.session.add(refresher)
    job = enqueue("employee_import", title="导入员工:x.csv", params={}, actor=hr)
    job.state = JobState.DONE
    job.result = {"created": 0, "updated": 0, "unchanged": 1, "created_ids": [], "mailed": 0}
    export = enqueue("report.export", title="导出员工培训进度", params={}, actor=manager)
    export.state = JobState.DONE
    export.result = {"filename": "员工培训进度.csv", "rows": 0}
    db.session.flush()
    store(export, filename="员工培训进度.csv", mimetype="text/csv", data=b"x")
    db.session.commit()
    question = db.session.scalar(select(QuizQuestion.id).limit(1))
    return {
        "learner": learner,
        "other": other,
        "hr": hr,
        "manager": manager,
        "elsewhere": elsewhere,
        "values": {
            "user_id": other.id,
            "attempt_id": attempt.id,
            "question_id": question,
            "version_id": current_norm_version().id,
            "number": lessons[0].number,
            "upload_id": "u" * 32,
            "token": "t" * 32,
            "filename": "css/app.css",
            "fmt": "xlsx",  # every export route takes it
            "lesson": lessons[0].number,
            "employee_no": other.employee_no,
            "token_id": 1,
            "hold_id": 1,
            "notification_id": 1,
            "refresher_id": refresher.id,
            "job_id": job.id,
            "export_id": export.id,
            "department": "测试部",
            "provider": "oidc",
        },
    }


def _url(app, endpoint, values):
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    with app.test_request_context():
        from flask import url_for

        return url_for(endpoint, **{k: values[k] for k in rule.arguments})


def _request(client, method, url):
    response = client.open(url, method=method, data={})
    response.close()
    return response


def _login(app, user):
    client = app.test_client()
    response = client.post(
        "/login", data={"employee_no": user.employee_no, "password": "Correct-Horse-42"}
    )
    assert response.status_code == 302
    return client


@pytest.mark.parametrize(
    ("endpoint", "rule", "method"), ROUTES, ids=[f"{m} {r}" for _, r, m in ROUTES]
)
def test_route_follows_its_policy(app, world, endpoint, rule, method):
    policy = POLICY[endpoint]
    url = _url(app, endpoint, world["values"])

    anonymous = _request(app.test_client(), method, url)
    if policy == TOKEN:
        for who in (None, "learner", "other", "manager", "elsewhere", "hr"):
            client = app.test_client() if who is None else _login(app, world[who])
            response = _request(client, method, url)
            assert response.status_code in (401, 405), (who, url, response.status_code)
        return
    if policy == PUBLIC:
        assert not anonymous.headers.get("Location", "").startswith("/login"), url
        assert anonymous.status_code < 500
    else:
        assert anonymous.status_code == 302, (url, anonymous.status_code)
        assert anonymous.headers["Location"].startswith("/login")

    learner = _request(_login(app, world["learner"]), method, url)
    if policy == CREATOR:
        assert learner.status_code == 403, (url, learner.status_code)
        owner = _request(_login(app, world["manager"]), method, url)
        assert owner.status_code == 200, (url, owner.status_code)
        for who in ("elsewhere", "hr"):
            response = _request(_login(app, world[who]), method, url)
            assert response.status_code == 404, (who, url, response.status_code)
        return
    if policy in (HR, STAFF):
        assert learner.status_code == 403, (url, learner.status_code)
    elif policy == OWNER:
        assert learner.status_code == 404, (url, learner.status_code)  # another learner's attempt
    elif policy == USER:
        assert learner.status_code not in (401, 403, 500), (url, learner.status_code)
        if endpoint != "auth.logout":  # logging out ends at the login page by design
            assert not learner.headers.get("Location", "").startswith("/login")

    if policy == OWNER:
        owner = _request(_login(app, world["other"]), method, url)
        assert owner.status_code in (200, 302, 400, 422), (url, owner.status_code)

    for who in ("manager", "elsewhere"):
        response = _request(_login(app, world[who]), method, url)
        if policy == HR:
            assert response.status_code == 403, (who, url, response.status_code)
        elif policy == OWNER:
            assert response.status_code == 404, (who, url, response.status_code)
        elif policy == STAFF and who == "elsewhere" and "user_id" in rule:
            # Another department's employee does not exist for this manager.
            assert response.status_code == 404, (who, url, response.status_code)
        elif policy in (STAFF, USER):
            assert response.status_code not in (401, 403, 500), (who, url, response.status_code)

    hr = _request(_login(app, world["hr"]), method, url)
    if policy == OWNER:
        assert hr.status_code == 404, (url, hr.status_code)  # HR reads attempts in the HR pages
    elif policy in (HR, USER, STAFF):
        assert hr.status_code not in (401, 403, 500), (url, hr.status_code)
