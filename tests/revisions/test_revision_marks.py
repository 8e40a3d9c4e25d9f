"""During retraining the changed clauses are marked in the lesson and drawn first in its quiz."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.conftest import AuthActions
from tests.revisions.conftest import EFFECTIVE
from training.auth.models import Role
from training.course.models import Lesson
from training.course.versions import current_norm_version
from training.extensions import db
from training.quizzes.holds import review_hold
from training.quizzes.items import question_from_dict
from training.quizzes.models import QuestionHold, QuizQuestion, ReviewDecision
from training.quizzes.services import cites_any, start_attempt

ONE_CLAUSE = ("一般不得超过三声", "一般不得超过两声")
BADGE = '<span class="revision-badge">本次修订</span>'


def _publish(runner, path):
    result = runner.invoke(
        args=[
            "content",
            "import-norm",
            str(path),
            "--label",
            "v2",
            "--effective",
            EFFECTIVE,
            "--publish",
        ]
    )
    assert result.exit_code == 0, result.output
    db.session.rollback()


@pytest.fixture
def retraining(runner, lessons, revised, create_user, complete_lessons):
    """Publish a revision changing only 4.2.1.2; return (retrainer, new hire)."""
    retrainer = create_user(name="复训员工")
    complete_lessons(retrainer, [lesson.number for lesson in lessons])
    new_hire = create_user(name="新员工")
    _publish(runner, revised(ONE_CLAUSE))
    return retrainer, new_hire


def _article(client, number):
    response = client.get(f"/lessons/{number}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    return page, re.search(r'<article class="lesson card"[^>]*>(.*?)</article>', page, re.S).group(
        1
    )


def test_a_retraining_learner_sees_the_changed_clause_marked_and_only_it(app, client, retraining):
    retrainer, _ = retraining
    assert AuthActions(client).login(retrainer.employee_no).status_code == 302
    page, article = _article(client, "4.2")
    assert article.count(BADGE) == 1
    # The badge and the marks sit inside clause 4.2.1.2, not in its neighbours.
    clause = article.split('id="s-4.2.1.2"', 1)[1].split('id="s-4.2.1.3"', 1)[0]
    assert BADGE in clause
    assert (
        '<del><span class="visually-hidden">删除：</span>三</del>'
        '<ins><span class="visually-hidden">新增：</span>两</ins>'
    ) in clause
    rest = article.replace(clause, "")
    assert "<ins>" not in rest
    assert "<del>" not in rest
    assert 'data-revision-marks="yes"' in page
    assert '<a href="#s-4.2.1.2">4.2.1.2</a>' in page.split("<article", 1)[0]
    # The anchors and the 要点 box are all still there.
    for number in ("4.2.1.1", "4.2.1.2", "4.2.1.8", "4.2.4"):
        assert f'id="s-{number}"' in article
    assert 'class="key-points"' in article
    # A lesson the revision did not change reads as usual.
    _, other = _article(client, "3.3")
    assert BADGE not in other
    assert "<ins>" not in other


def test_a_new_hire_sees_the_plain_revised_lesson(app, client, retraining):
    _, new_hire = retraining
    assert AuthActions(client).login(new_hire.employee_no).status_code == 302
    page, article = _article(client, "4.2")
    assert BADGE not in article
    assert "<ins>" not in article
    assert "<del>" not in article
    assert "一般不得超过两声" in article
    assert "data-revision-marks" not in page


def test_the_stored_lesson_keeps_plain_and_marked_texts_apart(retraining):
    lesson = db.session.scalar(select(Lesson).where(Lesson.active, Lesson.number == "4.2"))
    assert lesson.revised_clauses == {"changed": ["4.2.1.2"], "removed": []}
    assert BADGE in lesson.revision_body_html
    assert BADGE not in lesson.body_html
    unchanged = db.session.scalar(select(Lesson).where(Lesson.active, Lesson.number == "3.3"))
    assert unchanged.revision_body_html is None
    assert unchanged.revised_clauses is None


def _release_holds(create_user):
    hr = create_user(role=Role.HR)
    current = current_norm_version()
    for hold in db.session.scalars(select(QuestionHold)).all():
        review_hold(hold.id, ReviewDecision.KEEP, actor=hr, current=current)
    db.session.commit()


def test_the_retraining_quiz_draws_the_changed_clauses_questions_first(
    app, retraining, create_user
):
    retrainer, new_hire = retraining
    _release_holds(create_user)  # HR checked them against the new text
    lesson = db.session.scalar(select(Lesson).where(Lesson.active, Lesson.number == "4.2"))
    rows = db.session.scalars(
        select(QuizQuestion).where(
            QuizQuestion.lesson_id == lesson.id,
            QuizQuestion.drawable(),
            QuizQuestion.generated.is_(False),
        )
    ).all()
    on_clause = {r.qid for r in rows if cites_any(question_from_dict(r.data), ["4.2.1.2"])}
    assert 0 < len(on_clause) < len(rows)
    size = app.config["QUIZ_SIZE"]
    first = min(size, len(on_clause))
    for _ in range(4):
        attempt = start_attempt(retrainer.id, lesson)
        ids = [q["id"] for q in attempt.draw["questions"]]
        assert attempt.draw["focus_clauses"] == ["4.2.1.2"]  # recorded with the evidence
        assert set(ids[:first]) <= on_clause, ids
        assert len(ids) == min(size, len(rows))
    db.session.commit()

    # A new hire's draw is the usual one: no focus, questions from the whole lesson.
    seen: set[str] = set()
    for _ in range(6):
        draw = start_attempt(new_hire.id, lesson).draw
        assert "focus_clauses" not in draw
        seen |= {q["id"] for q in draw["questions"]}
    assert seen - on_clause


def test_held_questions_stay_out_even_of_a_retraining_draw(app, retraining):
    retrainer, _ = retraining
    lesson = db.session.scalar(select(Lesson).where(Lesson.active, Lesson.number == "4.2"))
    held = set(db.session.scalars(select(QuestionHold.qid)))
    assert held
    draw = start_attempt(retrainer.id, lesson).draw
    assert not {q["id"] for q in draw["questions"]} & held


def test_a_revision_published_in_the_browser_marks_the_lesson_too(
    app, client, login_as, lessons, revised, create_user, complete_lessons
):
    retrainer = create_user(name="复训员工")
    complete_lessons(retrainer, [lesson.number for lesson in lessons])
    login_as(Role.HR)
    with revised(ONE_CLAUSE).open("rb") as handle:
        response = client.post(
            "/hr/norm/import",
            data={"file": (handle, "revised.txt"), "label": "2027 修订", "effective": EFFECTIVE},
            content_type="multipart/form-data",
        )
    assert response.status_code == 302
    preview_url = response.headers["Location"]
    page = client.get(preview_url).get_data(as_text=True)
    # HR is told the lesson's 要点 on the changed clause await the editor.
    assert 'data-stale-summaries="4.2"' in page
    assert "本课要点中引用条款 4.2.1.2 的要点尚未按新条文复核" in page
    upload_id = preview_url.split("/import/")[1].split("?")[0]
    base = str(current_norm_version().id)
    db.session.rollback()
    response = client.post(
        f"/hr/norm/import/{upload_id}/publish",
        data={"label": "2027 修订", "effective": EFFECTIVE, "base": base},
    )
    assert response.status_code == 302
    db.session.rollback()
    AuthActions(client).logout()
    assert AuthActions(client).login(retrainer.employee_no).status_code == 302
    _, article = _article(client, "4.2")
    assert article.count(BADGE) == 1
    assert "<ins>" in article
    box = re.search(r'class="key-points">.*?</section>', article, re.S).group()
    assert "三声" not in box  # the outdated point is not shown
    assert "第 4.2.1.2 条已修订" in box


REMOVE_3_4_7 = ("3.4.7工作不努力、背后讲别人坏话,影响了公司效益和内部团结。", "")


def test_a_deleted_clause_is_listed_struck_through_at_the_end_of_its_lesson(
    app, client, runner, lessons, revised, create_user, complete_lessons
):
    retrainer = create_user(name="复训员工")
    complete_lessons(retrainer, [lesson.number for lesson in lessons])
    new_hire = create_user(name="新员工")
    _publish(runner, revised(REMOVE_3_4_7))
    lesson = db.session.scalar(select(Lesson).where(Lesson.active, Lesson.number == "3.4"))
    assert lesson.revised_clauses == {"changed": [], "removed": ["3.4.7"]}

    assert AuthActions(client).login(retrainer.employee_no).status_code == 302
    page, article = _article(client, "3.4")
    assert "删除的条款（3.4.7）列在文末" in page
    removed = article.split('<h2 id="revision-removed">本次删除的条款</h2>', 1)[1]
    assert "<strong>3.4.7</strong>" in removed
    assert (
        '<del><span class="visually-hidden">删除：</span>工作不努力、背后讲别人坏话,'
        "影响了公司效益和内部团结。</del>"
    ) in removed
    assert 'id="s-3.4.7"' not in article  # it is no clause of the lesson any more
    # Nothing in the lesson changed, so the quiz has no focus.
    attempt = start_attempt(retrainer.id, db.session.get(Lesson, lesson.id))
    assert "focus_clauses" not in attempt.draw
    db.session.rollback()

    AuthActions(client).logout()
    assert AuthActions(client).login(new_hire.employee_no).status_code == 302
    _, article = _article(client, "3.4")
    assert "本次删除的条款" not in article
    assert "<del>" not in article
