"""Practising in the web app: what is offered, answering, feedback, records and rebuilds."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from fsrs import Rating
from sqlalchemy import func, select, update
from sqlalchemy.exc import DBAPIError

from training.course.lessons import active_lessons, lesson_for_clause
from training.course.models import Certificate, Lesson, QuizAttempt, QuizSubmission, ReadEvent
from training.db import utcnow
from training.extensions import db
from training.practice import services, store
from training.practice.models import PracticeCard, PracticeReview
from training.quizzes.models import QuizQuestion
from training.quizzes.services import question_from_dict

from .conftest import answer_form, current_round


def _count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def _questions(lesson: Lesson) -> list[QuizQuestion]:
    return list(
        db.session.scalars(
            select(QuizQuestion)
            .where(QuizQuestion.lesson_id == lesson.id, QuizQuestion.active.is_(True))
            .order_by(QuizQuestion.position)
        )
    )


def _record(user, row: QuizQuestion, *, correct: bool, at, rating=None):
    """Store a review at a fixed time, as a POST at that time would."""
    question = question_from_dict(row.data)
    keys = list(question.correct_keys()) if correct else [question.options[-1].key]
    return store.record_review(
        user.id,
        row,
        question,
        answer=keys,
        correct=correct,
        rating=rating or services.rating_for(correct),
        scheduler=services.make_scheduler(0.9),
        since=at,
        now=at,
    )


def test_practice_before_reading_anything_says_to_read_first(client, login_as, lessons):
    login_as()
    page = client.get("/practice/").get_data(as_text=True)
    assert "先去阅读课程" in page
    response = client.post("/practice/today")
    assert response.status_code == 302
    assert response.headers["Location"] == "/practice/"


def test_nav_links_to_practice_for_every_logged_in_user(client, login_as, lessons):
    login_as()
    page = client.get("/").get_data(as_text=True)
    assert '<a href="/practice/">练习</a>' in page


def test_daily_round_serves_only_read_lessons_without_repeats(
    client, login_as, read_lessons, start_round
):
    user = login_as()
    read = read_lessons(user, "1.1", "2.2")
    practice_round = start_round()
    assert len(practice_round.queue) == 10
    assert len(set(practice_round.queue)) == 10
    rows = [db.session.get(QuizQuestion, qid) for qid in practice_round.queue]
    assert {row.lesson_id for row in rows} <= {lesson.id for lesson in read}
    # New questions are spread over both unpractised lessons from the start.
    assert {row.lesson_id for row in rows[:2]} == {lesson.id for lesson in read}


def test_a_lesson_read_in_an_older_version_counts(client, login_as, lessons, start_round):
    user = login_as()
    lesson = next(lesson for lesson in lessons if lesson.number == "5")
    db.session.add(ReadEvent(user_id=user.id, lesson_id=lesson.id, lesson_hash="0" * 64))
    db.session.commit()
    practice_round = start_round()
    assert {db.session.get(QuizQuestion, q).lesson_id for q in practice_round.queue} == {lesson.id}


def test_daily_set_mixes_due_questions_first_with_new_ones(
    app, client, login_as, read_lessons, lessons
):
    user = login_as()
    (first, second) = read_lessons(user, "1.1", "1.2")
    now = utcnow()
    rows = _questions(first)
    # Missed three and two days ago: due, the older miss more overdue.
    _record(user, rows[0], correct=False, at=now - timedelta(days=2))
    _record(user, rows[1], correct=False, at=now - timedelta(days=3))
    # Answered right just now: not due today.
    _record(user, rows[2], correct=True, at=now)
    available = store.available_questions(user.id)
    day_end = services.end_of_local_day(now, ZoneInfo(app.config["BABEL_DEFAULT_TIMEZONE"]))
    queue = store.daily_queue(user.id, available, day_end, 5)
    assert queue[:2] == [rows[1].id, rows[0].id]
    assert rows[2].id not in queue
    assert len(queue) == len(set(queue)) == 5
    # New ones come first from the lesson not practised yet.
    assert db.session.get(QuizQuestion, queue[2]).lesson_id == second.id


def test_answering_records_a_review_with_cites_and_shows_feedback_with_clause_links(
    client, login_as, read_lessons, start_round, answer
):
    user = login_as()
    read_lessons(user, "3.3")
    practice_round = start_round()
    qid = practice_round.queue[0]
    page = client.get(f"/practice/q/{qid}").get_data(as_text=True)
    assert page.count("<fieldset") == 1
    assert "<legend>" in page
    assert "autofocus" in page
    response = answer(qid, correct=True)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/practice/q/{qid}/feedback"

    db.session.rollback()
    review = db.session.scalar(select(PracticeReview).where(PracticeReview.user_id == user.id))
    row = db.session.get(QuizQuestion, qid)
    assert review.question_id == qid
    assert review.correct is True
    assert review.rating == Rating.Good
    assert review.cites == row.data["cites"]
    card = db.session.scalar(select(PracticeCard).where(PracticeCard.user_id == user.id))
    assert card.question_id == qid
    assert card.due > review.reviewed_at
    assert card.card["card_id"] == qid

    feedback = client.get(f"/practice/q/{qid}/feedback").get_data(as_text=True)
    assert 'data-result="correct"' in feedback
    assert "正确答案" in feedback
    question = question_from_dict(row.data)
    for option in question.options:
        if question.kind != "order":
            assert option.feedback in feedback
    numbers = [lesson.number for lesson in active_lessons()]
    for clause in question.cites:
        target = lesson_for_clause(clause, numbers)
        assert f'<a class="cite" href="/lessons/{target}#s-{clause}">{clause}</a>' in feedback
    assert "下一题" in feedback
    assert f'href="/practice/q/{current_round(client).next_question()}"' in feedback


def test_a_miss_shows_the_right_answer_and_is_rated_again(
    client, login_as, read_lessons, start_round, answer
):
    user = login_as()
    read_lessons(user, "1.1")
    qid = start_round().queue[0]
    answer(qid, correct=False)
    feedback = client.get(f"/practice/q/{qid}/feedback").get_data(as_text=True)
    assert 'data-result="wrong"' in feedback
    assert "您的选择" in feedback
    assert "正确答案" in feedback
    assert 'href="/lessons/1.1#s-1.1"' in feedback
    db.session.rollback()
    assert db.session.scalar(select(PracticeReview.rating)) == Rating.Again


def test_a_right_but_unsure_answer_is_rated_hard(
    client, login_as, read_lessons, start_round, answer
):
    user = login_as()
    read_lessons(user, "1.1")
    qid = start_round().queue[0]
    answer(qid, correct=True, confidence="unsure")
    db.session.rollback()
    assert db.session.scalar(select(PracticeReview.rating)) == Rating.Hard


def test_unanswered_question_returns_the_form(client, login_as, read_lessons, start_round):
    user = login_as()
    read_lessons(user, "1.1")
    practice_round = start_round()
    qid = practice_round.queue[0]
    response = client.post(f"/practice/q/{qid}", data={"round": practice_round.token})
    assert response.status_code == 422
    assert "请先作答" in response.get_data(as_text=True)
    assert _count(PracticeReview) == 0


def test_double_post_records_one_review(client, login_as, read_lessons, start_round):
    user = login_as()
    read_lessons(user, "1.1")
    qid = start_round().queue[0]
    data = answer_form(client, qid)
    first = client.post(f"/practice/q/{qid}", data=data)
    second = client.post(f"/practice/q/{qid}", data=data)
    assert first.status_code == second.status_code == 302
    assert _count(PracticeReview) == 1


def test_a_round_ends_with_a_summary(client, login_as, read_lessons, start_round, answer):
    user = login_as()
    read_lessons(user, "5")
    practice_round = start_round()
    for i, qid in enumerate(practice_round.queue):
        answer(qid, correct=i > 0)
    last = client.get(f"/practice/q/{practice_round.queue[-1]}/feedback").get_data(as_text=True)
    assert 'href="/practice/done"' in last
    done = client.get("/practice/done").get_data(as_text=True)
    n = len(practice_round.queue)
    assert f"答对 {n - 1} / {n} 题" in done


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param({"round": "not-this-round"}, id="other-round"),
        pytest.param({"q0": ["99"]}, id="position-out-of-range"),
        pytest.param({"q0": ["a"]}, id="option-key-instead-of-position"),
        pytest.param({"q1": ["0"]}, id="unknown-field"),
        pytest.param({"confidence": "certain"}, id="bad-confidence"),
    ],
)
def test_tampered_answers_are_refused(client, login_as, read_lessons, start_round, tamper):
    user = login_as()
    read_lessons(user, "1.1")
    qid = start_round().queue[0]
    response = client.post(f"/practice/q/{qid}", data=answer_form(client, qid) | tamper)
    assert response.status_code == 400
    assert _count(PracticeReview) == 0


def test_question_ids_outside_the_round_are_refused(
    client, login_as, read_lessons, lessons, start_round
):
    user = login_as()
    read_lessons(user, "5")
    practice_round = start_round()
    data = answer_form(client, practice_round.queue[0])
    unread = _questions(next(lesson for lesson in lessons if lesson.number == "1.1"))[0]
    for qid in (unread.id, 999_999):
        assert client.post(f"/practice/q/{qid}", data=data).status_code == 400
        assert client.get(f"/practice/q/{qid}").status_code == 404
        assert client.get(f"/practice/q/{qid}/feedback").status_code == 404
    assert _count(PracticeReview) == 0


def test_practice_never_writes_attempts_submissions_reads_or_certificates(
    client, login_as, read_lessons, start_round, answer
):
    user = login_as()
    read_lessons(user, "1.1", "1.2")
    before = {m: _count(m) for m in (QuizAttempt, QuizSubmission, ReadEvent, Certificate)}
    practice_round = start_round()
    for qid in practice_round.queue:
        answer(qid, correct=True)
    client.post("/practice/chapter/1")
    assert _count(PracticeReview) == len(practice_round.queue)
    assert {m: _count(m) for m in before} == before


def test_rebuild_from_reviews_reproduces_every_card(client, login_as, read_lessons, lessons):
    user = login_as()
    (lesson,) = read_lessons(user, "3.2")
    rows = _questions(lesson)[:4]
    start = utcnow() - timedelta(days=40)
    history = [
        (0, True, 0),
        (1, False, 0),
        (0, True, 3),
        (1, True, 1),
        (2, True, 2),
        (0, False, 12),
        (3, True, 5),
        (0, True, 13),
        (1, True, 9),
    ]
    for index, correct, day in history:
        _record(user, rows[index], correct=correct, at=start + timedelta(days=day, hours=index))
    cards_before = {
        row.question_id: (row.due, row.card, row.state) for row in store.cards_for(user.id).values()
    }
    assert len(cards_before) == 4

    db.session.execute(PracticeCard.__table__.delete())
    db.session.commit()
    assert store.rebuild_cards(user.id) == 4
    db.session.expire_all()
    cards_after = {
        row.question_id: (row.due, row.card, row.state) for row in store.cards_for(user.id).values()
    }
    assert cards_after == cards_before
    # Rebuilding again over existing cards changes nothing.
    store.rebuild_cards(user.id, services.make_scheduler(0.9))
    db.session.expire_all()
    assert {
        row.question_id: (row.due, row.card, row.state) for row in store.cards_for(user.id).values()
    } == cards_before


def test_practice_reviews_are_append_only(client, login_as, read_lessons, start_round, answer):
    user = login_as()
    read_lessons(user, "1.1")
    answer(start_round().queue[0], correct=False)
    db.session.rollback()
    for stmt in (
        update(PracticeReview).values(correct=True),
        PracticeReview.__table__.delete(),
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(stmt)
        db.session.rollback()
    assert db.session.scalar(select(PracticeReview.correct)) is False


def test_overview_shows_mastery_and_due_count_per_chapter(app, client, login_as, read_lessons):
    user = login_as()
    (lesson,) = read_lessons(user, "1.1")
    rows = _questions(lesson)
    total = len(rows)
    assert total == 10  # the committed bank of 1.1 (practice also draws the generated drills)
    now = utcnow()
    _record(user, rows[0], correct=True, at=now - timedelta(days=1))  # recalled: mastered
    _record(user, rows[1], correct=False, at=now - timedelta(days=2))  # missed: due
    _record(user, rows[2], correct=False, at=now)  # missed today: due tomorrow
    page = client.get("/practice/").get_data(as_text=True)
    chapter = page.split('data-chapter="1"', 1)[1].split("</li>", 1)[0]
    assert "掌握 10%" in chapter
    assert f"(1 / {total})" in chapter
    assert "今日待复习 1 题" in chapter
    unread = page.split('data-chapter="2"', 1)[1].split("</li>", 1)[0]
    assert "先阅读本章课程" in unread
    detail = client.get("/practice/chapter/1").get_data(as_text=True)
    assert f"掌握 10%（1 / {total} 题），今日待复习 1 题，未练习 {total - 3} 题。" in detail
    assert client.get("/practice/chapter/99").status_code == 404


def test_chapter_round_serves_that_chapter_due_first(
    client, login_as, read_lessons, lessons, start_round
):
    user = login_as()
    read_lessons(user, "1.1", "3.1", "3.4")
    chapter3 = {lesson.id for lesson in lessons if lesson.chapter_number == "3"}
    missed = _questions(next(lesson for lesson in lessons if lesson.number == "3.4"))[2]
    _record(user, missed, correct=False, at=utcnow() - timedelta(days=2))
    practice_round = start_round("/practice/chapter/3")
    assert practice_round.mode == "chapter"
    assert practice_round.chapter == "3"
    assert practice_round.queue[0] == missed.id
    assert {db.session.get(QuizQuestion, q).lesson_id for q in practice_round.queue} <= chapter3
    assert len(practice_round.queue) == 10


def test_weak_spots_list_missed_clauses_and_practise_questions_citing_them(
    client, login_as, read_lessons, lessons, start_round
):
    user = login_as()
    (lesson,) = read_lessons(user, "3.2")
    rows = _questions(lesson)
    now = utcnow()
    target = rows[0]
    clauses = set(target.data["cites"])
    _record(user, target, correct=False, at=now - timedelta(days=1))
    page = client.get("/practice/").get_data(as_text=True)
    weak = page.split("薄弱环节", 1)[1]
    for clause in clauses:
        assert f">{clause}</a>" in weak
    assert "100%" in weak
    practice_round = start_round("/practice/weak")
    assert practice_round.queue[0] == target.id
    worst = [score.clause for score in store.own_clause_scores(user.id)][:3]
    ranks = []
    for qid in practice_round.queue:
        cites = set(db.session.get(QuizQuestion, qid).data["cites"])
        assert clauses & cites
        ranks.append(min(worst.index(c) for c in cites if c in worst))
    assert ranks == sorted(ranks)
