"""Who may see what: learners see only their own practice, HR only aggregates."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import AuthActions
from training.auth.models import Role
from training.db import utcnow
from training.extensions import db
from training.practice import services, store
from training.quizzes.models import QuizQuestion
from training.quizzes.services import question_from_dict

from .conftest import answer_form, current_round


@pytest.mark.parametrize("path", ["/practice/", "/practice/stats", "/practice/chapter/1"])
def test_anonymous_visitors_are_sent_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_learner_cannot_open_practice_stats(client, login_as):
    login_as()
    assert client.get("/practice/stats").status_code == 403


def test_no_practice_route_takes_a_user_id(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("practice."):
            assert not any("user" in argument for argument in rule.arguments), rule.rule


def _learner_practises(app, create_user, read_lessons):
    """Log a learner in on their own client, answer one question wrong; return user, qid."""
    learner = create_user(name="张练习", employee_no="P00042")
    read_lessons(learner, "1.1")
    learner_client = app.test_client()
    AuthActions(learner_client).login(learner.employee_no)
    learner_client.post("/practice/today")
    qid = current_round(learner_client).queue[0]
    response = learner_client.post(
        f"/practice/q/{qid}", data=answer_form(learner_client, qid, correct=False)
    )
    assert response.status_code == 302
    return learner, learner_client, qid


def test_hr_cannot_open_an_employees_practice(app, client, login_as, create_user, read_lessons):
    learner, learner_client, qid = _learner_practises(app, create_user, read_lessons)
    login_as(Role.HR)
    # The learner's question and its feedback are not reachable from HR's session...
    assert client.get(f"/practice/q/{qid}").status_code == 404
    assert client.get(f"/practice/q/{qid}/feedback").status_code == 404
    assert client.get(f"/practice/q/{qid}/feedback?user_id={learner.id}").status_code == 404
    # ...nor can HR post into the learner's round, even with the learner's round token.
    data = answer_form(learner_client, qid)
    assert client.post(f"/practice/q/{qid}", data=data).status_code == 400
    # HR's own practice pages show HR's (empty) practice, whatever is asked for.
    for path in ("/practice/", f"/practice/?user_id={learner.id}", "/practice/chapter/1"):
        page = client.get(path).get_data(as_text=True)
        assert "先去阅读" in page
        assert "答错比例" not in page
    assert client.get("/practice/done").status_code == 302


def test_hr_stats_show_aggregates_without_names_or_answers(
    app, client, login_as, create_user, read_lessons, lessons
):
    learner, _learner_client, qid = _learner_practises(app, create_user, read_lessons)
    second = create_user(name="李同事", employee_no="P00043")
    (lesson,) = read_lessons(second, "1.1")
    row = db.session.get(QuizQuestion, qid)
    question = question_from_dict(row.data)
    last_week = utcnow() - timedelta(days=7)
    store.record_review(
        second.id,
        row,
        question,
        answer=list(question.correct_keys()),
        correct=True,
        rating=services.rating_for(True),
        scheduler=services.make_scheduler(0.9),
        since=last_week,
        now=last_week,
    )
    login_as(Role.HR)
    response = client.get("/practice/stats")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for secret in (learner.name, learner.employee_no, second.name, second.employee_no):
        assert secret not in page
    for option in question.options:
        assert option.text not in page
    weekly = page.split('id="weekly-active"', 1)[1].split("</table>", 1)[0]
    assert weekly.count("<tr>") == 13  # header and 12 weeks
    assert re.findall(r"<td>(\d+)</td></tr>", weekly)[-2:] == ["1", "1"]
    clauses = page.split('id="clause-accuracy"', 1)[1].split("</table>", 1)[0]
    for clause in question.cites:
        assert f">{clause}</a>" in clauses
    assert "50%" in clauses


def test_weekly_active_counts_distinct_employees_per_iso_week(app, create_user, read_lessons):
    zone = ZoneInfo(app.config["BABEL_DEFAULT_TIMEZONE"])
    users = [create_user() for _ in range(3)]
    for user in users:
        (lesson,) = read_lessons(user, "1.1")
    lesson_rows = list(
        db.session.scalars(db.select(QuizQuestion).where(QuizQuestion.lesson_id == lesson.id))
    )
    now = utcnow()
    this_week, previous = services.iso_week_starts(now, zone, 2)
    scheduler = services.make_scheduler(0.9)

    def review(user, row, at):
        question = question_from_dict(row.data)
        store.record_review(
            user.id,
            row,
            question,
            answer=list(question.correct_keys()),
            correct=True,
            rating=services.rating_for(True),
            scheduler=scheduler,
            since=at,
            now=at,
        )

    # previous week: users 0 and 1 (user 0 twice); this week: user 2; long ago: user 1
    review(users[0], lesson_rows[0], this_week + timedelta(hours=1))
    review(users[0], lesson_rows[1], this_week + timedelta(days=2))
    review(users[1], lesson_rows[0], this_week + timedelta(days=6, hours=23))
    review(users[2], lesson_rows[0], previous + timedelta(minutes=1))
    review(users[1], lesson_rows[2], this_week - timedelta(weeks=20))
    weeks = store.weekly_active_users(previous + timedelta(hours=2), zone, 12)
    assert len(weeks) == 12
    assert [w.active_users for w in weeks[-2:]] == [2, 1]
    assert sum(w.active_users for w in weeks[:-2]) == 0
    assert weeks[-1].label == "{}-W{:02d}".format(*previous.isocalendar()[:2])
