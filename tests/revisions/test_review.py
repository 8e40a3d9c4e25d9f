"""HR reviews the questions a revision held back: keep or withdraw, in the browser, audited."""

from __future__ import annotations

import shutil

import pytest
import yaml
from sqlalchemy import func, select

from tests.revisions.conftest import EFFECTIVE
from training.audit.models import AuditEvent
from training.auth.models import Role
from training.course.models import Lesson
from training.extensions import db
from training.norm.parse import parse_bytes
from training.quizzes.models import QuestionHold, QuestionReview, QuizQuestion
from training.quizzes.services import start_attempt

ONE_CLAUSE = ("一般不得超过三声", "一般不得超过两声")
REMOVE_3_4_7 = ("3.4.7工作不努力、背后讲别人坏话,影响了公司效益和内部团结。", "")


def _publish(runner, path, label="v2"):
    result = runner.invoke(
        args=["content", "import-norm", str(path), "--label", label]
        + ["--effective", EFFECTIVE, "--publish"]
    )
    assert result.exit_code == 0, result.output
    db.session.rollback()


def _hold(qid=None) -> QuestionHold:
    stmt = select(QuestionHold).order_by(QuestionHold.id)
    if qid:
        stmt = stmt.where(QuestionHold.qid == qid)
    return db.session.scalars(stmt).first()


def _withheld(qid: str) -> bool:
    db.session.rollback()
    return db.session.scalar(select(QuizQuestion.withheld).where(QuizQuestion.qid == qid))


def _draws(user, number: str, times: int = 15) -> set[str]:
    lesson = db.session.scalar(select(Lesson).where(Lesson.active, Lesson.number == number))
    drawn: set[str] = set()
    for _ in range(times):
        drawn |= {q["id"] for q in start_attempt(user.id, lesson).draw["questions"]}
    db.session.commit()
    return drawn


@pytest.fixture
def hr_client(client, login_as):
    login_as(Role.HR, name="人事复核员")
    return client


def test_review_page_shows_the_item_beside_old_and_new_text(runner, lessons, revised, hr_client):
    _publish(runner, revised(ONE_CLAUSE))
    hold = _hold()
    row = db.session.scalar(select(QuizQuestion).where(QuizQuestion.qid == hold.qid))

    page = hr_client.get("/hr/norm/review").get_data(as_text=True)

    assert f'data-hold="{hold.id}"' in page
    assert 'data-state="pending"' in page
    assert "<del>三</del><ins>两</ins>" in page
    assert row.data["prompt"] in page  # named by its scenario and prompt, as a learner sees it
    assert row.data["scenario"].split("\n")[0][:20] in page
    assert "reviewed_for" not in page  # no YAML editing is asked of HR


def test_keeping_a_held_item_draws_it_again_and_is_audited(
    runner, lessons, revised, hr_client, create_user
):
    _publish(runner, revised(ONE_CLAUSE))
    hold = _hold()
    learner = create_user()
    assert hold.qid not in _draws(learner, "4.2")

    response = hr_client.post(
        f"/hr/norm/review/{hold.id}", data={"decision": "keep", "note": "只改了声数,题目不涉及"}
    )

    assert response.status_code == 302
    assert not _withheld(hold.qid)
    assert hold.qid in _draws(learner, "4.2", times=30)
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "question.keep")).one()
    assert event.details["question"] == hold.qid
    assert event.details["note"] == "只改了声数,题目不涉及"
    assert "复核题目「" in event.summary
    page = hr_client.get("/hr/norm/review").get_data(as_text=True)
    assert f'data-hold="{hold.id}"' in page
    assert 'data-state="kept"' in page
    assert "人事复核员" in page


def test_withdrawing_a_held_item_keeps_it_out_for_good(
    runner, lessons, revised, hr_client, create_user, app
):
    _publish(runner, revised(ONE_CLAUSE))
    hold = _hold()

    hr_client.post(f"/hr/norm/review/{hold.id}", data={"decision": "withdraw"})

    assert _withheld(hold.qid)
    # a later sync of the repository's banks does not bring it back
    from training.quizzes.services import sync_questions

    sync_questions({}, {})
    assert _withheld(hold.qid)
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "question.withdraw")
        )
        == 1
    )
    assert hold.qid not in _draws(create_user(), "4.2")


def test_an_item_citing_a_removed_clause_can_only_be_withdrawn(runner, lessons, revised, hr_client):
    _publish(runner, revised(REMOVE_3_4_7))
    hold = _hold()

    response = hr_client.post(f"/hr/norm/review/{hold.id}", data={"decision": "keep"})

    assert response.status_code == 302
    assert _withheld(hold.qid)
    assert db.session.scalar(select(func.count()).select_from(QuestionReview)) == 0
    page = hr_client.get("/hr/norm/review").get_data(as_text=True)
    assert "只能撤下" in page


@pytest.mark.parametrize(
    "data", [{}, {"decision": "approve"}, {"decision": "keep", "note": "长" * 501}]
)
def test_a_bad_decision_is_refused_and_writes_nothing(runner, lessons, revised, hr_client, data):
    _publish(runner, revised(ONE_CLAUSE))
    hold = _hold()
    assert hr_client.post(f"/hr/norm/review/{hold.id}", data=data).status_code == 400
    assert hr_client.post("/hr/norm/review/999999", data={"decision": "keep"}).status_code == 404
    assert _withheld(hold.qid)
    assert db.session.scalar(select(func.count()).select_from(QuestionReview)) == 0


def test_review_needs_hr_and_a_csrf_token(make_app, create_user, revised):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        from training.revisions.sync import sync_course

        sync_course(app.config["CONTENT_DIR"], app.config["QUIZ_DIR"])
        db.session.commit()
        _publish(app.test_cli_runner(), revised(ONE_CLAUSE))
        hold = _hold()
        users = {role: create_user(role=role) for role in (Role.LEARNER, Role.HR)}
        db.session.commit()
        anonymous = app.test_client()
        assert anonymous.get("/hr/norm/review").headers["Location"].startswith("/login")
        refused = anonymous.post(f"/hr/norm/review/{hold.id}", data={"decision": "keep"})
        assert refused.status_code in (302, 400)
        for role, user in users.items():
            client = app.test_client()
            page = client.get("/login").get_data(as_text=True)
            token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
            login = {"employee_no": user.employee_no, "password": "Correct-Horse-42"}
            client.post("/login", data=login | {"csrf_token": token})
            if role is Role.LEARNER:
                assert client.get("/hr/norm/review").status_code == 403
            # without the form's token the post is refused, whoever sends it
            response = client.post(f"/hr/norm/review/{hold.id}", data={"decision": "keep"})
            assert response.status_code == 400
        assert _withheld(hold.qid)


def test_a_bank_reviewed_in_git_is_not_held(make_app, tmp_path, create_user, revised, runner):
    quiz_dir = tmp_path / "quizzes"
    shutil.copytree(runner.app.config["QUIZ_DIR"], quiz_dir)
    path = revised(ONE_CLAUSE)
    digest = parse_bytes(path.read_bytes(), filename="revised.txt").source_sha256[:12]
    bank_path = quiz_dir / "4.2.yaml"
    bank = yaml.safe_load(bank_path.read_text("utf-8"))
    reviewed = next(q for q in bank["questions"] if "4.2.1.2" in q["cites"])
    reviewed["reviewed_for"] = digest
    bank_path.write_text(yaml.safe_dump(bank, allow_unicode=True, sort_keys=False), "utf-8")

    app = make_app(QUIZ_DIR=quiz_dir)
    with app.app_context():
        from training.revisions.sync import sync_course

        sync_course(app.config["CONTENT_DIR"], quiz_dir)
        db.session.commit()
        _publish(app.test_cli_runner(), path)
        assert _hold(reviewed["id"]) is not None
        assert not _withheld(reviewed["id"])
        others = set(db.session.scalars(select(QuestionHold.qid))) - {reviewed["id"]}
        assert others
        assert all(_withheld(qid) for qid in others)
