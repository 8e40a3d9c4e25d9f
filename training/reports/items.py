"""Item analysis for HR, as Moodle's quiz statistics: facility, discrimination, option choices.

Only each employee's first submitted attempt per lesson counts, and only answers to the
version of a question now in the bank (an item edited to fix it starts afresh). For each
item: facility (share answered right), discrimination (the point-biserial correlation of
the item with the rest of the attempt: did those who got it right do better on the other
questions?) and how often each option was chosen. The database does the counting — one
statement for the sums, one for the options, one for the questions — so the cost is bounded
by the number of items, not of attempts. Flags follow Moodle's rules of thumb once enough
learners have answered.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import String, and_, case, cast, func, select, true

from training.course.models import Lesson, QuizSubmission
from training.course.signals import lessons_changed, questions_changed
from training.extensions import db
from training.quizzes.items import Question, question_from_dict
from training.quizzes.models import QuizAnswer, QuizQuestion
from training.reports.refreshing import Refreshed

MIN_LEARNERS = 30  # flags only mean something once this many have answered
EASY_ABOVE = 0.95  # facility: nearly everyone right, the item teaches and tests nothing
DISCRIMINATION_BELOW = 0.2  # those good at the rest are no likelier to get this one right


@dataclass
class OptionShare:
    """How often one option was chosen on first attempts."""

    key: str
    text: str
    correct: bool
    count: int = 0


@dataclass
class ItemStats:
    """First-attempt statistics for one question in the bank."""

    question: Question
    lesson_number: str
    lesson_position: int
    learners: int = 0
    right: int = 0
    discrimination: float | None = None
    options: list[OptionShare] = field(default_factory=list)

    @property
    def facility(self) -> float | None:
        return self.right / self.learners if self.learners else None

    @property
    def enough(self) -> bool:
        return self.learners >= MIN_LEARNERS

    @property
    def too_easy(self) -> bool:
        return self.enough and (self.facility or 0) > EASY_ABOVE

    @property
    def weak(self) -> bool:
        return self.enough and (
            self.discrimination is None or self.discrimination < DISCRIMINATION_BELOW
        )

    @property
    def flagged(self) -> bool:
        return self.too_easy or self.weak

    def share(self, option: OptionShare) -> float:
        return option.count / self.learners if self.learners else 0.0


@dataclass(frozen=True)
class ItemAnalysis:
    """Every question in the bank with its statistics, in course order."""

    items: list[ItemStats]
    first_attempts: int

    @property
    def flagged(self) -> list[ItemStats]:
        return [item for item in self.items if item.flagged]


def point_biserial(n: int, sx: int, sr: float, sr2: float, sxr: float) -> float | None:
    """Return Pearson's r of a 0/1 item score x with the rest score r, from sums; None if flat."""
    spread = (n * sx - sx * sx) * (n * sr2 - sr * sr)
    if n < 2 or spread <= 0:
        return None
    return (n * sxr - sx * sr) / math.sqrt(spread)


def _first_submissions_select():
    """Each employee's first submission per lesson (at that lesson's content)."""
    return select(func.min(QuizAnswer.submission_id).label("id")).group_by(
        QuizAnswer.user_id, QuizAnswer.lesson_id
    )


def _first_submissions():
    return _first_submissions_select().scalar_subquery()


def _sums():
    """Per question: learners, right answers and the sums the point-biserial needs (one query)."""
    x = case((QuizAnswer.correct, 1), else_=0)
    rest = QuizSubmission.correct_count - x
    stmt = (
        select(
            QuizAnswer.qid,
            func.count(),
            func.sum(x),
            func.sum(rest),
            func.sum(rest * rest),
            func.sum(x * rest),
        )
        .join(QuizSubmission, QuizSubmission.id == QuizAnswer.submission_id)
        .join(
            QuizQuestion,
            and_(
                QuizQuestion.qid == QuizAnswer.qid, QuizQuestion.content_hash == QuizAnswer.version
            ),
        )
        .where(QuizAnswer.submission_id.in_(_first_submissions()))
        .group_by(QuizAnswer.qid)
    )
    return db.session.execute(stmt).all()


def _option_counts():
    """Per question and option key: how many first attempts chose it (one query)."""
    if db.session.get_bind().dialect.name == "postgresql":
        chosen = func.json_array_elements_text(QuizAnswer.chosen).table_valued("value")
    else:
        chosen = func.json_each(QuizAnswer.chosen).table_valued("value")
    value = cast(chosen.c.value, String)
    stmt = (
        select(QuizAnswer.qid, value, func.count())
        .select_from(QuizAnswer)
        .join(chosen, true())
        .join(
            QuizQuestion,
            and_(
                QuizQuestion.qid == QuizAnswer.qid, QuizQuestion.content_hash == QuizAnswer.version
            ),
        )
        .where(
            QuizAnswer.submission_id.in_(_first_submissions()),
            QuizQuestion.data["kind"].as_string() != "order",
        )
        .group_by(QuizAnswer.qid, value)
    )
    return db.session.execute(stmt).all()


def item_analysis() -> ItemAnalysis:
    """Return statistics for every question in the bank (four statements)."""
    rows = db.session.execute(
        select(QuizQuestion.data, Lesson.number, Lesson.position)
        .join(Lesson, Lesson.id == QuizQuestion.lesson_id)
        .where(QuizQuestion.active.is_(True), Lesson.active.is_(True))
    ).all()
    items: dict[str, ItemStats] = {}
    for data, number, position in rows:
        question = question_from_dict(data)
        stats = ItemStats(question, number, position)
        if question.kind != "order":
            stats.options = [OptionShare(o.key, o.text, o.correct) for o in question.options]
        items[question.id] = stats
    for qid, n, right, sr, sr2, sxr in _sums():
        if qid in items:
            stats = items[qid]
            stats.learners, stats.right = int(n), int(right or 0)
            stats.discrimination = point_biserial(
                int(n), int(right or 0), float(sr or 0), float(sr2 or 0), float(sxr or 0)
            )
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for qid, key, number in _option_counts():
        counts[qid][str(key)] = int(number)
    for qid, stats in items.items():
        for option in stats.options:
            option.count = counts[qid].get(option.key, 0)
    first = db.session.scalar(
        select(func.count()).select_from(_first_submissions_select().subquery())
    )
    ordered = sorted(
        items.values(), key=lambda s: (s.lesson_position, s.question.generated, s.question.id)
    )
    return ItemAnalysis(ordered, int(first or 0))


# Off the request path: served while a background thread refreshes it (reports.refreshing).
statistics: Refreshed[ItemAnalysis] = Refreshed("item analysis", item_analysis)


def cached_item_analysis() -> ItemAnalysis | None:
    """Return item analysis at most INSIGHT_CACHE_SECONDS old, refreshed in the background.

    None while the first computation (after a start or a change of lessons or questions)
    is still under way. First-attempt rates are statistics over thousands of answers: a
    minute's delay changes nothing HR would act on.
    """
    return statistics.get()


@lessons_changed.connect
@questions_changed.connect
def _forget(sender: object, **extra: object) -> None:
    """Drop the cached figures: the lessons or questions they describe changed."""
    statistics.forget()
