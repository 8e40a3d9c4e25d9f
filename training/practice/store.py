"""Practice in the database: available questions, reviews, cards and aggregates.

Every learner-facing query here is filtered by the user id it is given; the
views only ever pass the current user's id. HR aggregates never return a
user id or an answer.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, cast

from flask import current_app
from fsrs import Card, Rating, Scheduler
from sqlalchemy import case, func, select, true

from training.course.models import Lesson, ReadEvent
from training.db import insert_ignoring_duplicates, utcnow
from training.extensions import db
from training.practice import services
from training.practice.models import CardState, PracticeCard, PracticeReview
from training.quizzes.items import Question
from training.quizzes.models import QuizQuestion
from training.quizzes.services import question_from_dict

if TYPE_CHECKING:
    from fsrs.card import CardDict


@dataclass(frozen=True)
class Available:
    """A question the learner may practise, with its lesson."""

    row: QuizQuestion
    lesson: Lesson

    @property
    def candidate(self) -> services.Candidate:
        return services.Candidate(self.row.id, self.lesson.id, tuple(self.row.data["cites"]))


def practised_lessons(user_id: int) -> list[Lesson]:
    """Return the active lessons the user has read in any version, in course order."""
    read = select(ReadEvent.lesson_id).where(ReadEvent.user_id == user_id)
    return list(
        db.session.scalars(
            select(Lesson)
            .where(Lesson.active.is_(True), Lesson.id.in_(read))
            .order_by(Lesson.position, Lesson.number)
        )
    )


def available_questions(user_id: int, lessons: Sequence[Lesson] | None = None) -> list[Available]:
    """Return the active questions of lessons the user has read, in course order."""
    lessons = practised_lessons(user_id) if lessons is None else lessons
    by_id = {lesson.id: lesson for lesson in lessons}
    if not by_id:
        return []
    rows = db.session.scalars(
        select(QuizQuestion)
        .where(QuizQuestion.lesson_id.in_(by_id), QuizQuestion.drawable())
        .order_by(QuizQuestion.position, QuizQuestion.id)
    )
    available = [Available(row, by_id[row.lesson_id]) for row in rows]
    order = {lesson.id: i for i, lesson in enumerate(lessons)}
    return sorted(available, key=lambda a: order[a.lesson.id])


def cards_for(user_id: int) -> dict[int, PracticeCard]:
    """Return the user's cards by question id."""
    rows = db.session.scalars(select(PracticeCard).where(PracticeCard.user_id == user_id))
    return {row.question_id: row for row in rows}


def fsrs_cards(rows: dict[int, PracticeCard]) -> dict[int, Card]:
    """Return the FSRS cards of card rows, by question id."""
    # The JSON column holds what Card.to_dict() returned.
    return {qid: Card.from_dict(cast("CardDict", row.card)) for qid, row in rows.items()}


def last_correct(user_id: int) -> dict[int, bool]:
    """Return whether the user's latest answer to each question they practised was right."""
    latest = (
        select(PracticeReview.question_id, func.max(PracticeReview.id).label("id"))
        .where(PracticeReview.user_id == user_id)
        .group_by(PracticeReview.question_id)
        .subquery()
    )
    rows = db.session.execute(
        select(PracticeReview.question_id, PracticeReview.correct).join(
            latest, latest.c.id == PracticeReview.id
        )
    )
    return dict(rows.tuples().all())


def own_clause_scores(user_id: int) -> list[services.ClauseScore]:
    """Return the user's own per-clause scores, worst first."""
    rows = db.session.execute(
        select(PracticeReview.cites, PracticeReview.correct).where(
            PracticeReview.user_id == user_id
        )
    )
    return services.clause_scores((tuple(cites), correct) for cites, correct in rows)


def own_review(user_id: int, review_id: int) -> PracticeReview | None:
    """Return one of the user's own reviews; another user's is not found."""
    return db.session.scalar(
        select(PracticeReview).where(
            PracticeReview.id == review_id, PracticeReview.user_id == user_id
        )
    )


def question_of(row: QuizQuestion) -> Question:
    """Return the validated question stored in a row."""
    return question_from_dict(row.data)


# --- overview ----------------------------------------------------------------------------


@dataclass
class Standing:
    """A learner's standing over a group of available questions."""

    total: int = 0
    mastered: int = 0
    due_today: int = 0
    unseen: int = 0

    @property
    def mastery_percent(self) -> int:
        return round(100 * self.mastered / self.total) if self.total else 0


@dataclass
class ChapterStanding:
    """One chapter of the course, as far as the learner can practise it."""

    number: str
    title: str
    lessons: list[Lesson]
    read: list[Lesson]
    standing: Standing


def standings(
    user_id: int,
    available: Sequence[Available],
    scheduler: Scheduler,
    now: datetime,
    day_end: datetime,
) -> dict[int, Standing]:
    """Return the user's standing per lesson id over the available questions."""
    rows = cards_for(user_id)
    cards = fsrs_cards(rows)
    right = last_correct(user_id)
    result: dict[int, Standing] = defaultdict(Standing)
    for item in available:
        standing = result[item.lesson.id]
        standing.total += 1
        card = cards.get(item.row.id)
        if card is None:
            standing.unseen += 1
            continue
        if card.due < day_end:
            standing.due_today += 1
        if services.is_mastered(scheduler, card, now, last_correct=right.get(item.row.id, False)):
            standing.mastered += 1
    return result


def chapter_standings(
    lessons: Sequence[Lesson], read: Sequence[Lesson], per_lesson: dict[int, Standing]
) -> list[ChapterStanding]:
    """Group lessons by chapter and add up the standing of the read ones."""
    read_ids = {lesson.id for lesson in read}
    chapters: dict[str, ChapterStanding] = {}
    for lesson in lessons:
        chapter = chapters.setdefault(
            lesson.chapter_number,
            ChapterStanding(lesson.chapter_number, lesson.chapter_title, [], [], Standing()),
        )
        chapter.lessons.append(lesson)
        if lesson.id in read_ids:
            chapter.read.append(lesson)
            part = per_lesson.get(lesson.id, Standing())
            chapter.standing.total += part.total
            chapter.standing.mastered += part.mastered
            chapter.standing.due_today += part.due_today
            chapter.standing.unseen += part.unseen
    return list(chapters.values())


# --- queues ------------------------------------------------------------------------------


def daily_queue(
    user_id: int, available: Sequence[Available], day_end: datetime, size: int
) -> list[int]:
    """Return today's question ids for the user."""
    rows = cards_for(user_id)
    due = [(a.row.id, rows[a.row.id].due) for a in available if a.row.id in rows]
    due = [(qid, when) for qid, when in due if when < day_end]
    new = [a.candidate for a in available if a.row.id not in rows]
    practised = {row.lesson_id for row in rows.values()}
    return services.daily_set(due, new, practised, size)


def focus_queue(
    user_id: int, available: Sequence[Available], scheduler: Scheduler, now: datetime, size: int
) -> list[int]:
    """Return up to ``size`` of the given questions, those most worth practising first."""
    cards = fsrs_cards(cards_for(user_id))
    order = services.focus_order([a.candidate for a in available], cards, scheduler, now)
    return order[:size]


def weak_queue(
    user_id: int,
    available: Sequence[Available],
    clauses: Sequence[str],
    scheduler: Scheduler,
    now: datetime,
    size: int,
) -> list[int]:
    """Return up to ``size`` questions citing the clauses: the worst clause's first, then focus order."""
    rank = {clause: i for i, clause in enumerate(clauses)}

    def best(item: Available) -> int:
        return min((rank[c] for c in item.row.data["cites"] if c in rank), default=len(rank))

    citing = [a for a in available if best(a) < len(rank)]
    focus = focus_queue(user_id, citing, scheduler, now, len(citing))
    place = {qid: i for i, qid in enumerate(focus)}
    ordered = sorted(citing, key=lambda a: (best(a), place[a.row.id]))
    return [a.row.id for a in ordered][:size]


# --- recording ---------------------------------------------------------------------------


def record_review(
    user_id: int,
    row: QuizQuestion,
    question: Question,
    *,
    answer: list[str],
    correct: bool,
    rating: Rating,
    scheduler: Scheduler,
    since: datetime,
    duration_ms: int | None = None,
    now: datetime | None = None,
) -> PracticeReview:
    """Store one answer and move the question's card on (flush; the caller commits).

    If the user already answered this question since ``since`` (the start of
    the practice session: a double click or a replayed form), that review is
    returned and nothing is written. Locking the card row first makes two
    concurrent posts write one review.
    """
    now = (now or utcnow()).astimezone(UTC)
    fresh = services.new_card(row.id, now)
    insert_ignoring_duplicates(
        PracticeCard,
        user_id=user_id,
        question_id=row.id,
        lesson_id=row.lesson_id,
        due=now,
        card=dict(fresh.to_dict()),
        state=fresh.state.name,
        updated_at=now,
    )
    card_row = db.session.scalars(
        select(PracticeCard)
        .where(PracticeCard.user_id == user_id, PracticeCard.question_id == row.id)
        .with_for_update()
    ).one()
    earlier = db.session.scalar(
        select(PracticeReview)
        .where(
            PracticeReview.user_id == user_id,
            PracticeReview.question_id == row.id,
            PracticeReview.reviewed_at >= since,
        )
        .order_by(PracticeReview.id)
        .limit(1)
    )
    if earlier is not None:
        return earlier
    # The JSON column holds what Card.to_dict() returned.
    card = services.review(scheduler, Card.from_dict(cast("CardDict", card_row.card)), rating, now)
    entry = PracticeReview(
        user_id=user_id,
        question_id=row.id,
        lesson_id=row.lesson_id,
        correct=correct,
        rating=int(rating),
        answer=answer,
        cites=list(question.cites),
        reviewed_at=now,
        duration_ms=duration_ms,
    )
    db.session.add(entry)
    _set_card(card_row, card, now)
    db.session.flush()
    return entry


def _set_card(row: PracticeCard, card: Card, now: datetime) -> None:
    row.card = dict(card.to_dict())
    row.due = card.due
    row.state = CardState(card.state.name)
    row.updated_at = now


def practice_scheduler() -> Scheduler:
    """Return the scheduler for the configured target retention."""
    return services.make_scheduler(current_app.config["PRACTICE_DESIRED_RETENTION"])


def rebuild_cards(user_id: int, scheduler: Scheduler | None = None) -> int:
    """Recompute every card of the user by replaying their reviews in order (flush).

    Return the number of cards written. Cards without reviews are removed.
    """
    scheduler = scheduler or practice_scheduler()
    rows = db.session.execute(
        select(
            PracticeReview.question_id,
            PracticeReview.lesson_id,
            PracticeReview.rating,
            PracticeReview.reviewed_at,
        )
        .where(PracticeReview.user_id == user_id)
        .order_by(PracticeReview.reviewed_at, PracticeReview.id)
    )
    history: dict[int, list[tuple[int, datetime]]] = defaultdict(list)
    lesson_of: dict[int, int] = {}
    for question_id, lesson_id, rating, reviewed_at in rows:
        history[question_id].append((rating, reviewed_at))
        lesson_of[question_id] = lesson_id
    existing = cards_for(user_id)
    now = utcnow()
    for question_id, reviews in history.items():
        card = services.replay(scheduler, question_id, reviews)
        row = existing.pop(question_id, None)
        if row is None:
            row = PracticeCard(
                user_id=user_id, question_id=question_id, lesson_id=lesson_of[question_id]
            )
            db.session.add(row)
        _set_card(row, card, now)
    for orphan in existing.values():
        db.session.delete(orphan)
    db.session.flush()
    return len(history)


# --- HR aggregates -----------------------------------------------------------------------


@dataclass(frozen=True)
class WeekActivity:
    """How many employees practised in one ISO week."""

    start: datetime  # local Monday midnight
    active_users: int

    @property
    def label(self) -> str:
        year, week, _day = self.start.isocalendar()
        return f"{year}-W{week:02d}"

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=6)


def weekly_active_users(now: datetime, zone: tzinfo, weeks: int = 12) -> list[WeekActivity]:
    """Return the number of distinct users with a review in each of the last ISO weeks."""
    starts = services.iso_week_starts(now, zone, weeks)
    bucket = case(
        *[
            (PracticeReview.reviewed_at >= start, i)
            for i, start in reversed(list(enumerate(starts)))
        ]
    )
    # Bucket in a subquery so GROUP BY names a column, not a repeated expression.
    reviews = (
        select(bucket.label("week"), PracticeReview.user_id)
        .where(PracticeReview.reviewed_at >= starts[0])
        .subquery()
    )
    counts: dict[int, int] = dict(
        db.session.execute(
            select(reviews.c.week, func.count(reviews.c.user_id.distinct())).group_by(
                reviews.c.week
            )
        )
        .tuples()
        .all()
    )
    return [WeekActivity(start, counts.get(i, 0)) for i, start in enumerate(starts)]


def clause_accuracy() -> list[services.ClauseScore]:
    """Return accuracy per cited clause over everyone's reviews, worst first (one statement).

    The database unpacks each review's cites and counts per clause; a clause a question
    cites twice counts once per review, as ``services.clause_scores`` counts it. PostgreSQL
    takes each review's distinct clauses (``json_array_elements_text`` in a LATERAL subquery,
    so no sort over all reviews); SQLite, which has no LATERAL, takes the distinct
    (review, clause) pairs of ``json_each``.
    """
    missed_when = case((PracticeReview.correct, 0), else_=1)
    if db.session.get_bind().dialect.name == "postgresql":
        elements = func.json_array_elements_text(PracticeReview.cites).table_valued("value")
        cited = select(elements.c.value.label("clause")).distinct().lateral()
        stmt = (
            select(cited.c.clause, func.count(), func.sum(missed_when))
            .select_from(PracticeReview)
            .join(cited, true())
            .group_by(cited.c.clause)
        )
    else:
        elements = func.json_each(PracticeReview.cites).table_valued("value")
        pairs = (
            select(PracticeReview.id, missed_when.label("missed"), elements.c.value.label("clause"))
            .select_from(PracticeReview)
            .join(elements, true())
            .distinct()
            .subquery()
        )
        stmt = select(pairs.c.clause, func.count(), func.sum(pairs.c.missed)).group_by(
            pairs.c.clause
        )
    rows = db.session.execute(stmt).tuples()
    return services.worst_first(
        services.ClauseScore(str(clause), int(reviews), int(misses or 0))
        for clause, reviews, misses in rows
    )


@dataclass(frozen=True)
class PracticeStats:
    """HR's practice statistics: active employees per week and accuracy per clause."""

    weeks: list[WeekActivity]
    clauses: list[services.ClauseScore]


_stats_cache: dict[tuple[str, str, int], tuple[float, PracticeStats]] = {}


def practice_stats(now: datetime, zone: tzinfo, weeks: int) -> PracticeStats:
    """Return the practice statistics (two statements, whatever the number of reviews)."""
    return PracticeStats(weekly_active_users(now, zone, weeks), clause_accuracy())


def cached_practice_stats(now: datetime, zone: tzinfo, weeks: int) -> PracticeStats:
    """Return practice statistics, recomputed at most every INSIGHT_CACHE_SECONDS per worker.

    As the dashboard's quiz insight: aggregates over every review ever written, which a
    minute's delay does not change in any way HR would act on. The weeks are those of the
    time of computing, so for up to that long after Monday midnight the table still ends
    with the week before.
    """
    ttl = current_app.config.get("INSIGHT_CACHE_SECONDS", 60)
    key = (current_app.config["SQLALCHEMY_DATABASE_URI"], str(zone), weeks)
    started = time.monotonic()
    hit = _stats_cache.get(key)
    if ttl > 0 and hit is not None and started - hit[0] < ttl:
        return hit[1]
    stats = practice_stats(now, zone, weeks)
    _stats_cache[key] = (started, stats)
    return stats
