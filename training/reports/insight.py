"""Quiz insight for the dashboard: the questions and clauses answered worst first time.

Built on the item analysis (``reports.items``): each employee's first submitted attempt per
lesson, answers to the questions' current versions only, counted in the database.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select

from training.course.lessons import lesson_for_clause
from training.course.models import Lesson
from training.extensions import db
from training.reports.items import ItemAnalysis, cached_item_analysis, item_analysis


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
    """First-attempt results for one question; ``title`` names it by scenario and prompt."""

    qid: str
    lesson_number: str
    title: str
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


def quiz_insight(limit: int = 10, analysis: ItemAnalysis | None = None) -> Insight:
    """Return the worst questions and clauses by first-attempt correct rate.

    Five queries, or one given the item analysis it is built on.
    """
    analysis = analysis if analysis is not None else item_analysis()
    stats = [
        QuestionStat(
            item.question.id,
            item.lesson_number,
            item.question.title(80),
            item.question.cites,
            Tally(item.right, item.learners),
        )
        for item in analysis.items
        if item.learners
    ]
    by_clause: dict[str, Tally] = defaultdict(Tally)
    for stat in stats:
        for clause in stat.cites:
            by_clause[clause].correct += stat.tally.correct
            by_clause[clause].total += stat.tally.total
    lesson_numbers = list(db.session.scalars(select(Lesson.number).where(Lesson.active.is_(True))))
    clause_lesson = {clause: lesson_for_clause(clause, lesson_numbers) for clause in by_clause}
    clauses = [
        ClauseStat(clause, clause_lesson[clause], tally) for clause, tally in by_clause.items()
    ]
    stats.sort(key=lambda s: (s.tally.rate, -s.tally.total, s.qid))
    clauses.sort(key=lambda c: (c.tally.rate, -c.tally.total, _clause_key(c.clause)))
    return Insight(stats[:limit], clauses[:limit], analysis.first_attempts, clause_lesson)


def _clause_key(clause: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else 0 for part in clause.split("."))


_derived: dict[int, tuple[ItemAnalysis, Insight]] = {}


def cached_insight(limit: int = 10) -> Insight | None:
    """Return quiz insight from the cached item analysis (``items.cached_item_analysis``).

    Derived once per analysis (one query); None while the first analysis is under way.
    """
    analysis = cached_item_analysis()
    if analysis is None:
        return None
    hit = _derived.get(limit)
    if hit is not None and hit[0] is analysis:
        return hit[1]
    insight = quiz_insight(limit, analysis)
    _derived[limit] = (analysis, insight)
    return insight
