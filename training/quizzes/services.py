"""Quiz banks in the database, attempts, submissions and course completion."""

from __future__ import annotations

import functools
import hashlib
import json
import secrets
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, cast

from flask import current_app
from sqlalchemy import (
    JSON,
    Integer,
    Select,
    Table,
    bindparam,
    func,
    insert,
    select,
    true,
    type_coerce,
)

from training.auth.models import User
from training.course.completion import retraining_on
from training.course.lessons import in_force
from training.course.models import (
    Lesson,
    QuizAttempt,
    QuizSubmission,
)
from training.course.services import learning_recorded
from training.course.signals import questions_changed
from training.db import insert_ignoring_duplicates, insert_returning_id, utcnow
from training.extensions import db
from training.quizzes import grading, holds
from training.quizzes.bank import load_all_banks, load_banks
from training.quizzes.items import (
    Bank,
    Option,
    Problem,
    Question,
    question_from_dict,
    question_to_dict,
)
from training.quizzes.models import QuestionVersion, QuizAnswer, QuizQuestion


class BankError(ValueError):
    """The quiz banks cannot be loaded; ``problems`` lists each with its file and question."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


# --- banks -------------------------------------------------------------------------------


def load_course_banks(
    quiz_dir: Path, *, clause_numbers: Iterable[str], lesson_numbers: Iterable[str]
) -> dict[str, list[Question]]:
    """Load authored and generated banks, questions by lesson; raise BankError on any problem."""
    by_lesson, problems = load_all_banks(
        quiz_dir, clause_numbers=set(clause_numbers), lesson_numbers=set(lesson_numbers)
    )
    if problems:
        raise BankError(problems)
    return by_lesson


def pass_marks(quiz_dir: Path) -> dict[str, Fraction]:
    """Return per-lesson pass marks set in the authored banks."""
    banks, _ = load_banks(quiz_dir)
    return {lesson: bank.pass_mark for lesson, bank in banks.items() if bank.pass_mark is not None}


def _digest(data: Mapping[str, Any]) -> str:
    encoded = json.dumps(data, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(encoded).hexdigest()


@dataclass
class QuestionSyncReport:
    """What `sync_questions` changed."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)


def sync_questions(
    by_lesson: Mapping[str, list[Question]],
    marks: Mapping[str, Fraction],
    *,
    only: Collection[str] | None = None,
) -> QuestionSyncReport:
    """Upsert questions by id and retire those no longer in any bank (no commit).

    With ``only`` (lesson numbers), just those lessons' questions and pass marks are
    touched: a bank published for one lesson retires nothing elsewhere.
    """
    lessons = {
        lesson.number: lesson
        for lesson in db.session.scalars(select(Lesson).where(Lesson.active.is_(True)))
        if only is None or lesson.number in only
    }
    existing = {q.qid: q for q in db.session.scalars(select(QuizQuestion))}
    report = QuestionSyncReport()
    for number, lesson in lessons.items():
        mark = marks.get(number)
        lesson.quiz_pass_mark = None if mark is None else str(mark)
    for number, questions in by_lesson.items():
        lesson = lessons[number]
        for position, question in enumerate(questions):
            data = question_to_dict(question)
            values = {
                "lesson_id": lesson.id,
                "position": position,
                "data": data,
                "content_hash": _digest(data),
                "generated": question.generated,
                "active": True,
            }
            insert_ignoring_duplicates(
                QuestionVersion,
                content_hash=values["content_hash"],
                qid=question.id,
                data=data,
                created_at=utcnow(),
            )
            row = existing.pop(question.id, None)
            if row is None:
                db.session.add(QuizQuestion(qid=question.id, updated_at=utcnow(), **values))
                report.created.append(question.id)
            elif any(getattr(row, key) != value for key, value in values.items()):
                for key, value in values.items():
                    setattr(row, key, value)
                row.updated_at = utcnow()
                report.updated.append(question.id)
            else:
                report.unchanged.append(question.id)
    in_scope = {lesson.id for lesson in lessons.values()}
    for row in existing.values():
        if row.active and (only is None or row.lesson_id in in_scope):
            row.active = False
            row.updated_at = utcnow()
            report.retired.append(row.qid)
    db.session.flush()
    holds.refresh_withheld()  # a bank may now carry `reviewed_for` for a held question
    if report.created or report.updated or report.retired:
        questions_changed.send(None, report=report)
    return report


# --- attempts ----------------------------------------------------------------------------


def graded_question_rows(lesson_ids: Iterable[int]) -> list[QuizQuestion]:
    """Return the questions graded quizzes draw from: authored ones, not held back.

    The generated phrase items (the exact words of 3.3.2.x and 4.2.1.x) are drills for 练习
    only: blind readers without the norm answered 27 of 28 of them, so they prove nothing
    about having learnt it (quizzes/README.md).
    """
    return list(
        db.session.scalars(
            select(QuizQuestion)
            .where(
                QuizQuestion.lesson_id.in_(list(lesson_ids)),
                QuizQuestion.drawable(),
                QuizQuestion.generated.is_(False),
            )
            .order_by(QuizQuestion.lesson_id, QuizQuestion.position, QuizQuestion.id)
        )
    )


def graded_question_count(lesson: Lesson) -> int:
    """Return how many questions the lesson's quiz draws from (counted, not loaded)."""
    return db.session.execute(
        select(func.count())
        .select_from(QuizQuestion)
        .where(
            QuizQuestion.lesson_id == lesson.id,
            QuizQuestion.drawable(),
            QuizQuestion.generated.is_(False),
        )
    ).scalar_one()


def _lesson_question_rows(lesson: Lesson) -> list[QuizQuestion]:
    return graded_question_rows([lesson.id])


@functools.cache
def _drawable_statement() -> Select:
    """A lesson's graded questions as (qid, content_hash, data), in bank order (built once)."""
    return (
        select(QuizQuestion.qid, QuizQuestion.content_hash, QuizQuestion.data)
        .where(
            QuizQuestion.lesson_id == bindparam("lesson_id", type_=Integer()),
            QuizQuestion.drawable(),
            QuizQuestion.generated.is_(False),
        )
        .order_by(QuizQuestion.position, QuizQuestion.id)
    )


def lesson_questions(lesson: Lesson) -> list[Question]:
    """Return the lesson's active questions in bank order."""
    return [question_from_dict(row.data) for row in _lesson_question_rows(lesson)]


def pass_mark_for(lesson: Lesson) -> Fraction:
    """Return the lesson's pass mark, or the configured default."""
    if lesson.quiz_pass_mark:
        return Fraction(lesson.quiz_pass_mark)
    return Fraction(str(current_app.config["QUIZ_PASS_MARK"]))


def submitted_count(user_id: int, lesson: Lesson) -> int:
    """Return how many attempts at the lesson's current content the user has submitted."""
    return db.session.execute(
        select(func.count())
        .select_from(QuizSubmission)
        .join(QuizAttempt, QuizAttempt.id == QuizSubmission.attempt_id)
        .where(
            QuizAttempt.user_id == user_id,
            QuizAttempt.lesson_id == lesson.id,
            QuizAttempt.lesson_hash == lesson.content_hash,
        )
    ).scalar_one()


def attempts_left(user_id: int, lesson: Lesson) -> int | None:
    """Return the attempts left under QUIZ_MAX_ATTEMPTS, or None when retries are unlimited."""
    limit = current_app.config.get("QUIZ_MAX_ATTEMPTS")
    if not limit:
        return None
    return max(0, int(limit) - submitted_count(user_id, lesson))


def open_attempt(user_id: int, lesson: Lesson) -> QuizAttempt | None:
    """Return the user's latest unsubmitted attempt at the lesson's current content."""
    return db.session.scalar(
        select(QuizAttempt)
        .outerjoin(QuizSubmission, QuizSubmission.attempt_id == QuizAttempt.id)
        .where(
            QuizAttempt.user_id == user_id,
            QuizAttempt.lesson_id == lesson.id,
            QuizAttempt.lesson_hash == lesson.content_hash,
            QuizSubmission.id.is_(None),
        )
        .order_by(QuizAttempt.id.desc())
        .limit(1)
    )


# The draws a new attempt is ranked against: the learner's latest ones. Each attempt shows a
# third to a half of a bank, so after this many the least-seen order has gone round the bank
# several times; older draws change nothing a learner could notice, and reading them all made
# a start cost grow with every retry.
HISTORY_DRAWS = 20


@functools.cache
def _drawn_before_statement(dialect: str) -> Select:
    # One row per question drawn, unnested in SQL: Python never decodes whole draws (their
    # options and versions), which cost a learner retrying many times milliseconds a start.
    latest = (
        select(QuizAttempt.id)
        .where(
            QuizAttempt.user_id == bindparam("user_id", type_=Integer()),
            QuizAttempt.lesson_id == bindparam("lesson_id", type_=Integer()),
        )
        .order_by(QuizAttempt.id.desc())
        .limit(HISTORY_DRAWS)
        .subquery()
    )
    if dialect == "postgresql":
        entries = func.json_array_elements(QuizAttempt.draw["questions"]).table_valued("value")
    else:
        entries = func.json_each(QuizAttempt.draw, "$.questions").table_valued("value")
    question_id = type_coerce(entries.c.value, JSON)["id"].as_string()
    return (
        select(QuizAttempt.id, question_id)
        .select_from(QuizAttempt)
        .join(latest, latest.c.id == QuizAttempt.id)
        .join(entries, true())
        .order_by(QuizAttempt.id)
    )


def _drawn_before(user_id: int, lesson: Lesson) -> list[list[str]]:
    """Return the question ids of the user's latest draws of this lesson (at most
    ``HISTORY_DRAWS``), oldest first."""
    connection = db.session.connection()
    rows = connection.execute(
        _drawn_before_statement(connection.dialect.name),
        {"user_id": user_id, "lesson_id": lesson.id},
    )
    draws: dict[int, list[str]] = {}
    for attempt_id, question_id in rows:
        draws.setdefault(attempt_id, []).append(question_id)
    return list(draws.values())


def cites_any(question: Question, clauses: Collection[str]) -> bool:
    """Return True if the question cites one of the clauses or a clause beneath one."""
    cited = {*question.cites, *([question.source_clause] if question.source_clause else [])}
    return any(c == n or c.startswith(n + ".") for c in cited for n in clauses)


def retraining_focus(user_id: int, lesson: Lesson) -> list[str]:
    """Return the clauses a retraining quiz draws from first: those the revision changed in
    this lesson, when the user is retraining on it (completed the lesson it supersedes)."""
    changed = (lesson.revised_clauses or {}).get("changed") or []
    if not changed or lesson.supersedes_id is None:
        return []
    retraining = db.session.scalar(select(retraining_on(user_id, lesson.supersedes_id)))
    return list(changed) if retraining else []


def prepare_attempt(user_id: int, lesson: Lesson) -> dict[str, Any]:
    """Draw questions at random for a new attempt; return the attempt row's values.

    Reads only (the lesson's questions and the user's earlier draws) and computes the draw:
    the part of starting an attempt that needs no write lock. ``record_attempt`` stores it.
    A learner retraining after a revision gets the questions on the changed clauses first;
    the draw then records those clauses (``focus_clauses``).
    """
    rows = db.session.connection().execute(_drawable_statement(), {"lesson_id": lesson.id}).all()
    if not rows:
        raise LookupError(f"lesson {lesson.number} has no quiz questions")
    questions = [question_from_dict(row.data) for row in rows]
    versions = {row.qid: row.content_hash for row in rows}
    seed = secrets.randbits(31)
    bank = Bank(lesson=lesson.number, path=Path(), questions=tuple(questions))
    clauses = retraining_focus(user_id, lesson)
    focus = [q.id for q in questions if cites_any(q, clauses)] if clauses else []
    draw = grading.make_draw(
        bank,
        seed,
        size=current_app.config["QUIZ_SIZE"],
        history=_drawn_before(user_id, lesson),
        focus=focus,
    )
    stored = draw.as_dict()
    if clauses:
        stored["focus_clauses"] = clauses
    for entry in stored["questions"]:
        entry["version"] = versions[entry["id"]]
    return {
        "user_id": user_id,
        "lesson_id": lesson.id,
        "lesson_hash": lesson.content_hash,
        "seed": seed,
        "draw": stored,
        "pass_mark": str(pass_mark_for(lesson)),
    }


def record_attempt(values: Mapping[str, Any]) -> int:
    """Store a prepared attempt and bring the progress summary up to date; return its id."""
    table = cast(Table, QuizAttempt.__table__)
    attempt_id = db.session.execute(
        insert(table).returning(table.c.id), {**values, "started_at": utcnow()}
    ).scalar_one()
    learning_recorded(values["user_id"])
    return attempt_id


def start_attempt(user_id: int, lesson: Lesson) -> QuizAttempt:
    """Draw questions at random and store the draw, naming the question versions shown."""
    attempt_id = record_attempt(prepare_attempt(user_id, lesson))
    return db.session.get_one(QuizAttempt, attempt_id)


@functools.cache
def _lesson_unchanged_statement() -> Select:
    return select(Lesson.id).where(
        Lesson.id == bindparam("lesson_id", type_=Integer()),
        in_force(),
        Lesson.content_hash == bindparam("content_hash"),
    )


def lesson_unchanged(lesson_id: int, content_hash: str) -> bool:
    """Return True if the lesson is still in force with this content (checked before writing
    what was prepared from it)."""
    found = db.session.connection().execute(
        _lesson_unchanged_statement(), {"lesson_id": lesson_id, "content_hash": content_hash}
    )
    return found.first() is not None


def lock_learner(user_id: int) -> None:
    """Serialise this learner's attempt-limit checks until the transaction ends (PostgreSQL;
    SQLite writers are serialised by the write lock)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(User.id).where(User.id == user_id).with_for_update())


@dataclass(frozen=True)
class ShownQuestion:
    """A drawn question with its options in display order, ready for a template."""

    index: int
    question: Question
    options: tuple[Option, ...]


def attempt_draw(attempt: QuizAttempt) -> grading.Draw:
    """Return the attempt's stored draw."""
    return grading.Draw.from_dict(attempt.draw)


def attempt_questions(attempt: QuizAttempt) -> dict[str, Question]:
    """Return the questions exactly as they were shown in the attempt (one query, then cached)."""
    cached = attempt.__dict__.get("_shown_questions")
    if cached is not None:
        return cached
    by_hash = questions_by_version(entry["version"] for entry in attempt.draw["questions"])
    questions = {
        entry["id"]: by_hash[entry["version"]]
        for entry in attempt.draw["questions"]
        if entry["version"] in by_hash
    }
    attempt.__dict__["_shown_questions"] = questions
    return questions


def questions_by_version(hashes: Iterable[str]) -> dict[str, Question]:
    """Return the questions as they read in the given versions, by content hash (one query)."""
    wanted = list(hashes)
    if not wanted:
        return {}
    rows = db.session.connection().execute(_versions_statement(), {"hashes": wanted})
    return {content_hash: question_from_dict(data) for content_hash, data in rows}


@functools.cache
def _versions_statement() -> Select:
    return select(QuestionVersion.content_hash, QuestionVersion.data).where(
        QuestionVersion.content_hash.in_(bindparam("hashes", expanding=True))
    )


def shown_in_order(draw: grading.Draw, questions: Mapping[str, Question]) -> list[ShownQuestion]:
    """Return a draw's questions in display order with their options in display order."""
    shown = []
    for index, drawn in enumerate(draw.questions):
        question = questions[drawn.question_id]
        shown.append(ShownQuestion(index, question, question.options_for(drawn.option_keys)))
    return shown


def shown_questions(attempt: QuizAttempt) -> list[ShownQuestion]:
    """Return the attempt's questions in display order with options in display order."""
    return shown_in_order(attempt_draw(attempt), attempt_questions(attempt))


class AttemptLimitReached(Exception):
    """QUIZ_MAX_ATTEMPTS submissions of this lesson's current content exist already."""


@dataclass(frozen=True)
class Graded:
    """Answers graded against an attempt's draw, ready to be recorded."""

    answers: Mapping[str, list[str]]
    result: grading.Grade
    passed: bool


def grade_answers(attempt: QuizAttempt, answers: Mapping[str, list[str]]) -> Graded:
    """Grade answers to the attempt (no writes: the questions are the versions it showed)."""
    result = grading.grade(attempt_draw(attempt), attempt_questions(attempt), answers)
    return Graded(answers, result, grading.passed(result, Fraction(attempt.pass_mark)))


def record_submission(attempt: QuizAttempt, graded: Graded) -> bool:
    """Record graded answers once; return False if the attempt was already submitted.

    The unique attempt id on submissions, with ON CONFLICT DO NOTHING, makes a
    double click, a second tab or a replayed POST leave exactly one row. The
    attempt limit is checked here, under a lock on the employee's row
    (PostgreSQL; SQLite writers are serialised), so attempts opened in several
    tabs cannot all be submitted. A completing pass issues the certificate in
    the same transaction.
    """
    limit = current_app.config.get("QUIZ_MAX_ATTEMPTS")
    if limit:
        lock_learner(attempt.user_id)
        already = db.session.scalar(
            select(QuizSubmission.id).where(QuizSubmission.attempt_id == attempt.id)
        )
        if already is None and submitted_count(attempt.user_id, attempt.lesson) >= int(limit):
            raise AttemptLimitReached
    result = graded.result
    submission_id = insert_returning_id(
        QuizSubmission,
        attempt_id=attempt.id,
        answers={qid: list(keys) for qid, keys in graded.answers.items()},
        correct_count=result.correct_count,
        total=result.total,
        passed=graded.passed,
        submitted_at=utcnow(),
    )
    inserted = submission_id is not None
    if inserted:
        versions = {entry["id"]: entry["version"] for entry in attempt.draw["questions"]}
        db.session.connection().execute(
            _answers_insert(),
            [
                {
                    "submission_id": submission_id,
                    "user_id": attempt.user_id,
                    "lesson_id": attempt.lesson_id,
                    "qid": item.question_id,
                    "version": versions[item.question_id],
                    "position": position,
                    "chosen": list(item.chosen),
                    "correct": item.is_correct,
                }
                for position, item in enumerate(result.per_question)
            ],
        )
        learning_recorded(attempt.user_id, may_complete=graded.passed)
    return inserted


@functools.cache
def _answers_insert() -> Any:
    return insert(cast(Table, QuizAnswer.__table__))


def submit_attempt(attempt: QuizAttempt, answers: Mapping[str, list[str]]) -> bool:
    """Grade and record the answers once; return False if the attempt was already submitted."""
    return record_submission(attempt, grade_answers(attempt, answers))


def grade_submission(attempt: QuizAttempt) -> grading.Grade:
    """Re-grade a stored submission from the question versions it showed (for display)."""
    answers = attempt.submission.answers if attempt.submission else {}
    return grading.grade(attempt_draw(attempt), attempt_questions(attempt), answers)
