"""Scheduling practice with FSRS and choosing what to practise (pure: no Flask, no database).

Every interval comes from the ``fsrs`` library. The scheduler runs without
learning or relearning steps: practice is a daily routine and the answer is
shown right after each question, so asking it again ten minutes later would
only test short-term memory. Without steps FSRS schedules in whole days
(a miss comes back the next day). Fuzzing is off so that replaying the
reviews always yields the same cards.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo

from fsrs import Card, Rating, ReviewLog, Scheduler, State

# A few new questions (up to a third of the set) join the daily set even when
# many are due, so a backlog never stops the learner from meeting the rest of
# what they have read.
NEW_PER_DAY_MIN = 3


def make_scheduler(desired_retention: float) -> Scheduler:
    """Return the FSRS scheduler practice uses: whole-day intervals, no fuzz."""
    return Scheduler(
        desired_retention=desired_retention,
        learning_steps=(),
        relearning_steps=(),
        enable_fuzzing=False,
    )


def rating_for(correct: bool, sure: bool = True) -> Rating:
    """Return the FSRS rating of an answer: a miss is Again, an unsure hit Hard, else Good."""
    if not correct:
        return Rating.Again
    return Rating.Good if sure else Rating.Hard


def new_card(card_id: int, now: datetime) -> Card:
    """Return an unreviewed card; its id is the question's, so rebuilds are reproducible."""
    return Card(card_id=card_id, due=now)


def review(scheduler: Scheduler, card: Card, rating: Rating, at: datetime) -> Card:
    """Return the card after one review at ``at`` (an aware datetime in any zone)."""
    reviewed, _log = scheduler.review_card(card, rating, review_datetime=at.astimezone(UTC))
    return reviewed


def replay(
    scheduler: Scheduler, card_id: int, reviews: Iterable[tuple[int | Rating, datetime]]
) -> Card:
    """Return the card that the reviews (rating, time) produce, replayed in time order."""
    logs = [
        ReviewLog(
            card_id=card_id,
            rating=Rating(rating),
            review_datetime=at.astimezone(UTC),
            review_duration=None,
        )
        for rating, at in reviews
    ]
    if not logs:
        raise ValueError("a card needs at least one review")
    # reschedule_card starts from a fresh card and keeps the given order for equal times.
    start = new_card(card_id, logs[0].review_datetime)
    return scheduler.reschedule_card(start, logs)


def is_mastered(
    scheduler: Scheduler, card: Card, now: datetime, *, last_correct: bool = True
) -> bool:
    """Return True when the card's recall probability now is above the target retention.

    FSRS counts elapsed time in whole days, so a question missed today still
    reads as fully recalled until tomorrow; a question whose latest answer was
    wrong is therefore never mastered.
    """
    if not last_correct or card.state != State.Review:
        return False
    return (
        scheduler.get_card_retrievability(card, current_datetime=now) > scheduler.desired_retention
    )


def end_of_local_day(now: datetime, zone: tzinfo) -> datetime:
    """Return the first instant of the next local calendar day (what "due today" runs up to)."""
    local = now.astimezone(zone)
    tomorrow = datetime.combine(local.date() + timedelta(days=1), time(), tzinfo=zone)
    return tomorrow.astimezone(now.tzinfo)


# --- choosing questions ------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """A question the learner may practise, in course order (lesson position, bank position)."""

    question_id: int
    lesson_id: int
    cites: tuple[str, ...] = ()


def daily_set(
    due: Sequence[tuple[int, datetime]],
    new: Sequence[Candidate],
    practised_lesson_ids: Iterable[int],
    size: int,
) -> list[int]:
    """Return today's question ids: due ones first, most overdue first, then a few new ones.

    ``due`` holds (question id, due time) of reviewed questions due today;
    ``new`` the questions never practised, in course order. New questions
    come first from lessons not practised yet, one lesson at a time in turn,
    so a short set still spreads over the course.
    """
    if size < 1:
        return []
    reserved = min(NEW_PER_DAY_MIN, size // 3)
    new_slots = min(len(new), max(reserved, size - len(due)))
    overdue_first = sorted(due, key=lambda item: (item[1], item[0]))
    chosen = [qid for qid, _due in overdue_first[: size - new_slots]]
    chosen += spread_new(new, practised_lesson_ids)[: size - len(chosen)]
    return list(dict.fromkeys(chosen))


def spread_new(new: Sequence[Candidate], practised_lesson_ids: Iterable[int]) -> list[int]:
    """Order new questions: unpractised lessons first, taking one question from each in turn."""
    practised = set(practised_lesson_ids)
    by_lesson: dict[int, list[int]] = defaultdict(list)
    for candidate in new:
        by_lesson[candidate.lesson_id].append(candidate.question_id)
    fresh = [lesson for lesson in by_lesson if lesson not in practised]
    seen = [lesson for lesson in by_lesson if lesson in practised]
    ordered: list[int] = []
    for group in (fresh, seen):
        queues = [list(by_lesson[lesson]) for lesson in group]
        while any(queues):
            for queue in queues:
                if queue:
                    ordered.append(queue.pop(0))
    return ordered


def focus_order(
    candidates: Sequence[Candidate],
    cards: Mapping[int, Card],
    scheduler: Scheduler,
    now: datetime,
) -> list[int]:
    """Order questions for focused practice: due (most overdue first), then unseen, then the rest.

    The rest go weakest first (lowest recall probability now).
    """
    due, unseen, rest = [], [], []
    for candidate in candidates:
        card = cards.get(candidate.question_id)
        if card is None:
            unseen.append(candidate.question_id)
        elif card.due <= now:
            due.append((card.due, candidate.question_id))
        else:
            recall = scheduler.get_card_retrievability(card, current_datetime=now)
            rest.append((recall, card.due, candidate.question_id))
    return [qid for _d, qid in sorted(due)] + unseen + [qid for *_k, qid in sorted(rest)]


# --- aggregates --------------------------------------------------------------------------


@dataclass(frozen=True)
class ClauseScore:
    """How often questions citing a clause were answered right."""

    clause: str
    reviews: int
    misses: int

    @property
    def miss_rate(self) -> float:
        return self.misses / self.reviews if self.reviews else 0.0

    @property
    def accuracy(self) -> float:
        return 1.0 - self.miss_rate


def clause_scores(reviews: Iterable[tuple[Sequence[str], bool]]) -> list[ClauseScore]:
    """Return per-clause scores from (cites, correct) pairs, worst first.

    Ties go to the clause with more misses (more evidence), then clause order.
    """
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for cites, correct in reviews:
        for clause in dict.fromkeys(cites):
            counts[clause][0] += 1
            counts[clause][1] += 0 if correct else 1
    return worst_first(
        ClauseScore(clause, total, missed) for clause, (total, missed) in counts.items()
    )


def worst_first(scores: Iterable[ClauseScore]) -> list[ClauseScore]:
    """Return clause scores worst first: miss rate, then more misses, then clause order."""
    return sorted(scores, key=lambda s: (-s.miss_rate, -s.misses, clause_key(s.clause)))


def weak_clauses(scores: Iterable[ClauseScore], limit: int) -> list[ClauseScore]:
    """Return the clauses missed at least once, worst first, at most ``limit``."""
    return [score for score in scores if score.misses][:limit]


def clause_key(clause: str) -> tuple[int | str, ...]:
    """Sort clause numbers numerically: 3.2.10 after 3.2.9."""
    return tuple(int(part) if part.isdigit() else part for part in clause.split("."))


def iso_week_starts(now: datetime, zone: tzinfo, weeks: int) -> list[datetime]:
    """Return the local Monday midnights that start the last ``weeks`` ISO weeks, oldest first."""
    local = now.astimezone(zone)
    monday = local.date() - timedelta(days=local.weekday())
    return [
        datetime.combine(monday - timedelta(weeks=back), time(), tzinfo=zone)
        for back in range(weeks - 1, -1, -1)
    ]
