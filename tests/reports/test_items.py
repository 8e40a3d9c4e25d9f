"""Item analysis: facility, point-biserial discrimination, option choices, flags, fixed queries."""

from __future__ import annotations

import statistics

import pytest
from sqlalchemy import select

from training.extensions import db
from training.quizzes import services as quiz_services
from training.quizzes.models import QuizAnswer
from training.reports.items import MIN_LEARNERS, item_analysis, point_biserial


def _answer(attempt, rule) -> dict[str, list[str]]:
    """Answer each drawn question right when ``rule(question_id)`` says so."""
    questions = quiz_services.attempt_questions(attempt)
    answers = {}
    for drawn in quiz_services.attempt_draw(attempt).questions:
        question = questions[drawn.question_id]
        expected = list(question.correct_keys())
        if rule(drawn.question_id):
            answers[drawn.question_id] = expected
        elif question.kind == "order":
            answers[drawn.question_id] = expected[::-1]
        else:
            answers[drawn.question_id] = [o.key for o in question.options if not o.correct][:1]
    return answers


@pytest.mark.parametrize(
    "pairs",
    [
        [(1, 4), (0, 1), (1, 3), (0, 2), (1, 4), (0, 0)],
        [(1, 2), (1, 2), (0, 3), (0, 1), (1, 0)],
    ],
)
def test_point_biserial_is_pearsons_r_from_sums(pairs):
    xs, rs = [p[0] for p in pairs], [p[1] for p in pairs]
    got = point_biserial(
        len(pairs), sum(xs), sum(rs), sum(r * r for r in rs), sum(x * r for x, r in pairs)
    )
    assert got == pytest.approx(statistics.correlation(xs, rs))


def test_point_biserial_of_a_flat_item_is_none():
    assert point_biserial(5, 5, 10, 30, 10) is None  # everybody right: no spread
    assert point_biserial(1, 1, 2, 4, 2) is None


def test_facility_discrimination_and_options_from_first_attempts(app, lessons, records):
    lesson = next(lesson for lesson in lessons if lesson.number == "4.2")
    strong = [records.employee() for _ in range(3)]
    weak = [records.employee() for _ in range(3)]
    for user in strong:
        attempt = quiz_services.start_attempt(user.id, lesson)
        quiz_services.submit_attempt(attempt, _answer(attempt, lambda qid: True))
    for user in weak:
        attempt = quiz_services.start_attempt(user.id, lesson)
        quiz_services.submit_attempt(attempt, _answer(attempt, lambda qid: False))
        # a second attempt, all right, must not count: only first attempts do
        again = quiz_services.start_attempt(user.id, lesson)
        quiz_services.submit_attempt(again, _answer(again, lambda qid: True))

    analysis = item_analysis()

    assert analysis.first_attempts == 6
    answered = [item for item in analysis.items if item.learners]
    assert answered
    rows = db.session.execute(select(QuizAnswer.qid, QuizAnswer.submission_id)).all()
    assert len(rows) == 6 * 5 + 3 * 5
    for item in answered:
        expected_right = sum(
            1
            for user in strong
            for a in db.session.scalars(
                select(QuizAnswer).where(
                    QuizAnswer.user_id == user.id, QuizAnswer.qid == item.question.id
                )
            )
        )
        assert item.right == expected_right
        if 0 < item.right < item.learners:
            assert item.discrimination is not None
            assert item.discrimination > 0  # the strong get it right, the weak do not
        if item.question.kind != "order":
            assert sum(option.count for option in item.options) >= item.learners
            chosen_right = sum(o.count for o in item.options if o.correct)
            if item.question.kind == "single":
                assert chosen_right == item.right


def test_items_are_flagged_only_with_enough_learners(app, lessons, records):
    lesson = next(lesson for lesson in lessons if lesson.number == "2.1")
    for _ in range(MIN_LEARNERS):
        user = records.employee()
        attempt = quiz_services.start_attempt(user.id, lesson)
        quiz_services.submit_attempt(attempt, _answer(attempt, lambda qid: True))
    analysis = item_analysis()
    everyone_right = [item for item in analysis.items if item.learners >= MIN_LEARNERS]
    few = [item for item in analysis.items if 0 < item.learners < MIN_LEARNERS]
    assert all(item.too_easy and item.flagged for item in everyone_right)
    assert not any(item.flagged for item in few)


def test_item_analysis_runs_the_same_statements_for_1_or_20_attempts(
    app, lessons, records, count_queries
):
    lesson = lessons[0]
    counts = []
    for batch in (1, 19):
        for _ in range(batch):
            user = records.employee()
            attempt = quiz_services.start_attempt(user.id, lesson)
            quiz_services.submit_attempt(attempt, _answer(attempt, lambda qid: qid < "m"))
        with count_queries() as statements:
            item_analysis()
        counts.append(len(statements))
    assert counts[0] == counts[1] <= 4


def test_the_page_shows_every_item_by_its_scenario_with_its_figures(client, hr, lessons, records):
    attempt = quiz_services.start_attempt(records.employee().id, lessons[0])
    quiz_services.submit_attempt(attempt, _answer(attempt, lambda qid: True))
    db.session.commit()
    html = client.get("/hr/items").get_data(as_text=True)
    drawn = quiz_services.attempt_questions(attempt)
    for question in drawn.values():
        assert f'data-qid="{question.id}"' in html
        assert question.title(80) in html
    assert "100%" in html
    assert client.get("/hr/items?flagged=1").status_code == 200


def test_a_bank_change_clears_the_cached_item_analysis(app, lessons, cached_statistics):
    from training.quizzes.services import sync_questions
    from training.reports import items

    first = items.cached_item_analysis()
    assert items.cached_item_analysis() is first  # cached
    sync_questions({}, {})  # every question retired: the questions that can be drawn changed
    assert items.cached_item_analysis() is not first
