"""Scheduling practice through the fsrs library, and choosing questions (pure, fixed times)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fsrs import Rating, State

from training.practice import services
from training.practice.services import Candidate

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def scheduler():
    return services.make_scheduler(0.9)


def test_scheduler_has_no_fuzz_and_keeps_the_target_retention(scheduler):
    assert scheduler.enable_fuzzing is False
    assert scheduler.desired_retention == 0.9


@pytest.mark.parametrize(
    ("correct", "sure", "rating"),
    [
        (False, True, Rating.Again),
        (False, False, Rating.Again),
        (True, True, Rating.Good),
        (True, False, Rating.Hard),
    ],
)
def test_rating_for_answer(correct, sure, rating):
    assert services.rating_for(correct, sure) == rating


def test_a_miss_is_due_before_a_hit(scheduler):
    missed = services.review(scheduler, services.new_card(1, T0), Rating.Again, T0)
    hit = services.review(scheduler, services.new_card(2, T0), Rating.Good, T0)
    assert T0 < missed.due < hit.due


def test_an_unsure_hit_is_due_no_later_than_a_sure_one(scheduler):
    unsure = services.review(scheduler, services.new_card(1, T0), Rating.Hard, T0)
    sure = services.review(scheduler, services.new_card(2, T0), Rating.Good, T0)
    assert unsure.due <= sure.due


def test_a_miss_after_hits_brings_the_question_back_sooner(scheduler):
    card = services.review(scheduler, services.new_card(1, T0), Rating.Good, T0)
    at = card.due
    lapsed = services.review(scheduler, card, Rating.Again, at)
    kept = services.review(scheduler, card, Rating.Good, at)
    assert lapsed.due < kept.due


def test_repeated_hits_push_the_due_date_out(scheduler):
    card = services.new_card(7, T0)
    at = T0
    intervals = []
    for _ in range(5):
        card = services.review(scheduler, card, Rating.Good, at)
        intervals.append(card.due - at)
        at = card.due
    assert all(later > earlier for earlier, later in zip(intervals, intervals[1:], strict=False))
    assert intervals[-1] > timedelta(days=30)


def test_replay_reproduces_the_card_reviewed_step_by_step(scheduler):
    history = [
        (Rating.Good, T0),
        (Rating.Again, T0 + timedelta(days=3, hours=2)),
        (Rating.Hard, T0 + timedelta(days=4)),
        (Rating.Good, T0 + timedelta(days=9, minutes=5)),
    ]
    card = services.new_card(42, T0)
    for rating, at in history:
        card = services.review(scheduler, card, rating, at)
    # Reviews handed over out of order are replayed in time order.
    replayed = services.replay(scheduler, 42, list(reversed(history)))
    assert replayed.to_dict() == card.to_dict()


def test_replay_needs_reviews(scheduler):
    with pytest.raises(ValueError, match="at least one review"):
        services.replay(scheduler, 1, [])


def test_mastery_needs_a_right_answer_and_recall_above_the_target(scheduler):
    new = services.new_card(1, T0)
    assert not services.is_mastered(scheduler, new, T0)
    hit = services.review(scheduler, new, Rating.Good, T0)
    assert hit.state == State.Review
    assert services.is_mastered(scheduler, hit, T0 + timedelta(days=1))
    # Recall decays below the target some time after the due date.
    assert not services.is_mastered(scheduler, hit, hit.due + timedelta(days=3))
    missed = services.review(scheduler, new, Rating.Again, T0)
    assert not services.is_mastered(scheduler, missed, T0, last_correct=False)


def test_end_of_local_day_is_the_next_local_midnight():
    # 2026-03-02 23:30 in Shanghai is 15:30 UTC; the day ends at 16:00 UTC.
    now = datetime(2026, 3, 2, 15, 30, tzinfo=UTC)
    assert services.end_of_local_day(now, SHANGHAI) == datetime(2026, 3, 2, 16, 0, tzinfo=UTC)
    after_midnight = datetime(2026, 3, 2, 16, 30, tzinfo=UTC)
    assert services.end_of_local_day(after_midnight, SHANGHAI) == datetime(
        2026, 3, 3, 16, 0, tzinfo=UTC
    )


# --- the daily set -----------------------------------------------------------------------


def _new(*pairs: tuple[int, int]) -> list[Candidate]:
    return [Candidate(qid, lesson) for qid, lesson in pairs]


def test_daily_set_puts_due_first_most_overdue_first_then_new():
    due = [(1, T0 - timedelta(days=1)), (2, T0 - timedelta(days=5)), (3, T0)]
    new = _new((10, 100), (11, 100), (12, 101))
    chosen = services.daily_set(due, new, practised_lesson_ids=[], size=5)
    assert chosen[:3] == [2, 1, 3]
    assert set(chosen[3:]) <= {10, 11, 12}
    assert len(chosen) == 5


@pytest.mark.parametrize("size", [1, 3, 10])
def test_daily_set_respects_the_size_without_repeats(size):
    due = [(i, T0 - timedelta(hours=i)) for i in range(1, 9)]
    new = _new(*[(100 + i, i % 3) for i in range(12)])
    chosen = services.daily_set(due, new, practised_lesson_ids=[], size=size)
    assert len(chosen) == size
    assert len(set(chosen)) == len(chosen)


def test_daily_set_keeps_a_few_new_questions_despite_a_backlog():
    due = [(i, T0 - timedelta(hours=i)) for i in range(1, 30)]
    new = _new(*[(100 + i, 7) for i in range(5)])
    chosen = services.daily_set(due, new, practised_lesson_ids=[], size=10)
    assert len(chosen) == 10
    fresh = [q for q in chosen if q >= 100]
    assert len(fresh) == services.NEW_PER_DAY_MIN
    # the due ones kept are the most overdue
    assert chosen[: 10 - len(fresh)] == list(range(29, 29 - (10 - len(fresh)), -1))


def test_daily_set_fills_with_new_when_little_is_due():
    new = _new(*[(100 + i, 1) for i in range(20)])
    chosen = services.daily_set([(1, T0)], new, practised_lesson_ids=[1], size=10)
    assert chosen[0] == 1
    assert len(chosen) == 10


def test_new_questions_come_from_lessons_not_practised_yet_in_turn():
    new = _new((1, 10), (2, 10), (3, 20), (4, 20), (5, 30))
    # lesson 10 was practised before; 20 and 30 not yet
    order = services.spread_new(new, practised_lesson_ids=[10])
    assert order == [3, 5, 4, 1, 2]
    assert services.daily_set([], new, practised_lesson_ids=[10], size=2) == [3, 5]


def test_daily_set_of_nothing_is_empty():
    assert services.daily_set([], [], practised_lesson_ids=[], size=10) == []


def test_focus_order_due_then_unseen_then_weakest(scheduler):
    older = services.review(scheduler, services.new_card(1, T0), Rating.Good, T0)
    fresher = services.review(
        scheduler, services.new_card(2, T0), Rating.Good, T0 + timedelta(hours=12)
    )
    overdue = services.review(scheduler, services.new_card(3, T0), Rating.Again, T0)
    now = T0 + timedelta(days=1)
    assert overdue.due <= now < older.due < fresher.due
    candidates = [Candidate(q, 1) for q in (1, 2, 3, 4)]
    cards = {1: older, 2: fresher, 3: overdue}
    assert services.focus_order(candidates, cards, scheduler, now) == [3, 4, 1, 2]


# --- aggregates --------------------------------------------------------------------------


def test_clause_scores_worst_first_counting_each_clause_once_per_review():
    reviews = [
        (("3.2.1", "3.2.2"), False),
        (("3.2.1",), True),
        (("3.2.2", "3.2.2"), False),
        (("4.1.1",), True),
        (("3.2.10",), False),
        (("3.2.9",), False),
    ]
    scores = services.clause_scores(reviews)
    assert [s.clause for s in scores] == ["3.2.2", "3.2.9", "3.2.10", "3.2.1", "4.1.1"]
    by_clause = {s.clause: s for s in scores}
    assert (by_clause["3.2.2"].reviews, by_clause["3.2.2"].misses) == (2, 2)
    assert by_clause["3.2.1"].miss_rate == 0.5
    assert by_clause["4.1.1"].accuracy == 1.0
    assert [s.clause for s in services.weak_clauses(scores, 4)] == [
        "3.2.2",
        "3.2.9",
        "3.2.10",
        "3.2.1",
    ]


def test_iso_week_starts_are_local_mondays_oldest_first():
    now = datetime(2026, 3, 4, 2, 0, tzinfo=UTC)  # Wednesday 10:00 in Shanghai
    starts = services.iso_week_starts(now, SHANGHAI, 3)
    assert [s.date().isoformat() for s in starts] == ["2026-02-16", "2026-02-23", "2026-03-02"]
    assert all(s.weekday() == 0 and s.hour == 0 for s in starts)


def test_review_times_in_another_zone_are_taken_as_the_same_instant(scheduler):
    local = T0.astimezone(SHANGHAI)
    in_utc = services.review(scheduler, services.new_card(1, T0), Rating.Good, T0)
    in_local = services.review(scheduler, services.new_card(1, T0), Rating.Good, local)
    assert in_local.to_dict() == in_utc.to_dict()
