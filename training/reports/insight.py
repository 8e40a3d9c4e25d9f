"""Quiz insight: how often each question and each cited clause is answered right first time.

Only each employee's first submitted attempt per lesson counts. A submission answers
every drawn question, so its answers say which questions the attempt drew. Each
answer is re-graded with ``grading.grade`` against the question as stored in
``quiz_questions``, counted only for attempts started after the question's last
change: that stored question is then exactly the version in the attempt's
snapshot. The database unnests and counts the answers (``json_each``), so it never
ships the draws with their snapshots (kilobytes per attempt), and Python grades each
distinct answer once: the work is bounded by the bank, not by the number of attempts.
A question edited to fix it starts afresh.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import String, and_, cast, func, select, true

from training.extensions import db
from training.lessons.models import Lesson
from training.lessons.services import lesson_for_clause
from training.quizzes import grading
from training.quizzes.models import QuizAttempt, QuizQuestion, QuizSubmission
from training.quizzes.services import question_from_dict


@dataclass
class Tally:
    """Right and total first answers."""

    correct: int = 0
    total: int = 0

    @property
    def rate(self) -> float:
        return self.correct / self.total if self.total else 0.0

    @property
    def percent(self) -> int:
        return round(self.rate * 100)


@dataclass(frozen=True)
class QuestionStat:
    """First-attempt results for one question."""

    qid: str
    lesson_number: str
    prompt: str
    cites: tuple[str, ...]
    tally: Tally


@dataclass(frozen=True)
class ClauseStat:
    """First-attempt results over all questions citing one clause."""

    clause: str
    lesson_number: str | None
    tally: Tally


@dataclass(frozen=True)
class Insight:
    """Questions and clauses, worst first."""

    questions: list[QuestionStat]
    clauses: list[ClauseStat]
    attempts: int
    clause_lesson: dict[str, str | None]


@dataclass(frozen=True)
class _Current:
    question: Any
    since: datetime
    lesson_number: str


def _first_submissions():
    """Return a subquery of each user's first submission id per lesson."""
    return (
        select(func.min(QuizSubmission.id).label("id"))
        .join(QuizAttempt, QuizAttempt.id == QuizSubmission.attempt_id)
        .group_by(QuizAttempt.user_id, QuizAttempt.lesson_id)
        .subquery("first")
    )


def _first_attempts():
    """Return a subquery of submitted attempts numbered per user and lesson (1: the first)."""
    return (
        select(
            QuizSubmission.answers,
            QuizAttempt.started_at,
            func.row_number()
            .over(
                partition_by=(QuizAttempt.user_id, QuizAttempt.lesson_id),
                order_by=QuizSubmission.id,
            )
            .label("n"),
        )
        .join(QuizAttempt, QuizAttempt.id == QuizSubmission.attempt_id)
        .subquery("ranked")
    )


def answer_counts() -> list[tuple[str, str, int]]:
    """Return (question id, answer as JSON text, how many) over first attempts (one query).

    ``json_each`` (SQLite and PostgreSQL alike) unnests each submission's answers, and
    the join keeps only answers to a question's current version.
    """
    ranked = _first_attempts()
    answer = func.json_each(ranked.c.answers).table_valued("key", "value")
    chosen = cast(answer.c["value"], String)
    stmt = (
        select(answer.c["key"], chosen, func.count())
        .select_from(ranked)
        .join(answer, true())
        .join(
            QuizQuestion,
            and_(
                QuizQuestion.qid == answer.c["key"],
                QuizQuestion.active.is_(True),
                QuizQuestion.updated_at <= ranked.c.started_at,
            ),
        )
        .where(ranked.c.n == 1)
        .group_by(answer.c["key"], chosen)
    )
    return [(qid, text, number) for qid, text, number in db.session.execute(stmt)]


def first_attempt_count() -> int:
    """Return how many first attempts there are (one query)."""
    return db.session.scalar(select(func.count()).select_from(_first_submissions())) or 0


def active_questions() -> dict[str, _Current]:
    """Return the active questions by id with the time of their last change (one query)."""
    rows = db.session.execute(
        select(QuizQuestion.qid, QuizQuestion.data, QuizQuestion.updated_at, Lesson.number)
        .join(Lesson, Lesson.id == QuizQuestion.lesson_id)
        .where(QuizQuestion.active.is_(True))
    )
    return {
        qid: _Current(question_from_dict(data), updated_at, number)
        for qid, data, updated_at, number in rows
    }


def tally_questions(
    counts: Iterable[tuple[str, str, int]], questions: Mapping[str, _Current]
) -> dict[str, Tally]:
    """Grade each distinct answer once and add up right and total answers per question."""
    tallies: dict[str, Tally] = defaultdict(Tally)
    for qid, text, number in counts:
        current = questions.get(qid)
        try:
            chosen = json.loads(text)
        except ValueError:
            continue
        if current is None or not isinstance(chosen, list):
            continue
        verdict = _grade_one(current.question, tuple(str(key) for key in chosen))
        if verdict is None:
            continue
        tally = tallies[qid]
        tally.total += number
        tally.correct += number if verdict else 0
    return dict(tallies)


def _grade_one(question: Any, chosen: tuple[str, ...]) -> bool | None:
    """Grade one answer to one question; None when it cannot be graded."""
    draw = grading.Draw(
        seed=0,
        questions=(grading.DrawnQuestion(question.id, tuple(o.key for o in question.options)),),
    )
    try:
        grade = grading.grade(draw, {question.id: question}, {question.id: chosen})
    except grading.StaleDrawError:
        return None
    return grade.per_question[0].is_correct


def quiz_insight(limit: int = 10) -> Insight:
    """Return the worst questions and clauses by first-attempt correct rate (four queries)."""
    questions = active_questions()
    tallies = tally_questions(answer_counts(), questions)
    attempts = first_attempt_count()
    lesson_numbers = list(db.session.scalars(select(Lesson.number).where(Lesson.active.is_(True))))

    stats = [
        QuestionStat(
            qid,
            questions[qid].lesson_number,
            questions[qid].question.prompt,
            questions[qid].question.cites,
            tally,
        )
        for qid, tally in tallies.items()
    ]
    by_clause: dict[str, Tally] = defaultdict(Tally)
    for stat in stats:
        for clause in stat.cites:
            by_clause[clause].correct += stat.tally.correct
            by_clause[clause].total += stat.tally.total
    clause_lesson = {clause: lesson_for_clause(clause, lesson_numbers) for clause in by_clause}
    clauses = [
        ClauseStat(clause, clause_lesson[clause], tally) for clause, tally in by_clause.items()
    ]
    stats.sort(key=lambda s: (s.tally.rate, -s.tally.total, s.qid))
    clauses.sort(key=lambda c: (c.tally.rate, -c.tally.total, _clause_key(c.clause)))
    return Insight(stats[:limit], clauses[:limit], attempts, clause_lesson)


def _clause_key(clause: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else 0 for part in clause.split("."))


_cache: dict[tuple[int, str], tuple[float, Insight]] = {}


def cached_insight(limit: int = 10) -> Insight:
    """Return quiz insight, recomputed at most every INSIGHT_CACHE_SECONDS per worker.

    First-attempt rates are statistics over thousands of answers: a minute's
    delay changes nothing HR would act on, and it keeps the dashboard fast
    at 10,000 employees (the computation takes about half a second there).
    """
    ttl = float(current_app.config.get("INSIGHT_CACHE_SECONDS", 60))
    key = (limit, current_app.config["SQLALCHEMY_DATABASE_URI"])
    now = time.monotonic()
    hit = _cache.get(key)
    if ttl > 0 and hit is not None and now - hit[0] < ttl:
        return hit[1]
    insight = quiz_insight(limit)
    _cache[key] = (now, insight)
    return insight
