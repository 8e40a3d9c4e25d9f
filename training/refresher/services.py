"""The refresher: who is due, a draw weighted to what they got wrong and what changed, renewal.

The draw takes RECERTIFY_QUIZ_SIZE graded questions across the lessons in force, at most two
per lesson, each weighted 1, plus 2 if the employee once answered a question on the same
clause wrongly, plus 2 if the clause changed in a revision published since their certificate
was issued or renewed. Passing (the course pass mark) renews the certificate once.
"""

from __future__ import annotations

import random
import secrets
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from training.course.certificates import EXPIRED, EXPIRING, Validity, certificate_for, renew
from training.course.certificates import validity as certificate_validity
from training.course.lessons import active_lessons
from training.course.models import NormVersion, VersionStatus
from training.db import insert_returning_id, utcnow
from training.extensions import db
from training.quizzes import grading
from training.quizzes.items import Bank, Question, question_from_dict
from training.quizzes.models import QuizAnswer, QuizQuestion
from training.quizzes.services import (
    ShownQuestion,
    graded_question_rows,
    questions_by_version,
    shown_in_order,
)
from training.refresher.models import RefresherAttempt, RefresherSubmission

PER_LESSON = 2
WRONG_WEIGHT = 2
CHANGED_WEIGHT = 2


def due_validity(user_id: int) -> Validity | None:
    """Return the certificate's validity when recertification applies to it, else None."""
    if not current_app.config["RECERTIFY_DAYS"]:
        return None
    certificate = certificate_for(user_id)
    return certificate_validity(certificate) if certificate is not None else None


def needs_refresher(user_id: int) -> Validity | None:
    """Return the validity if the employee may take the refresher now (expiring or expired)."""
    validity = due_validity(user_id)
    if validity is None or validity.state not in (EXPIRING, EXPIRED):
        return None
    return validity


def _wrong_clauses(user_id: int, rows: Mapping[str, QuizQuestion]) -> set[str]:
    """Return the clauses of every question the employee ever answered wrongly."""
    wrong_qids = set(
        db.session.scalars(
            select(QuizAnswer.qid).where(
                QuizAnswer.user_id == user_id, QuizAnswer.correct.is_(False)
            )
        )
    )
    clauses: set[str] = set()
    for qid in wrong_qids:
        row = rows.get(qid)
        if row is not None:
            clauses.update(row.data.get("cites", ()))
    return clauses


def _changed_clauses(since: datetime) -> set[str]:
    """Return the clauses changed or added by revisions published after ``since``."""
    clauses: set[str] = set()
    for changes in db.session.scalars(
        select(NormVersion.changes).where(
            NormVersion.status.in_([VersionStatus.PUBLISHED, VersionStatus.SUPERSEDED]),
            NormVersion.published_at > since,
        )
    ):
        for key in ("changed", "added"):
            clauses.update((changes or {}).get(key, ()))
    return clauses


@dataclass(frozen=True)
class Pick:
    question: Question
    version: str
    reasons: tuple[str, ...]


def weighted_picks(
    candidates: list[tuple[Question, str, str]],
    wrong: set[str],
    changed: set[str],
    size: int,
    rng: random.Random,
) -> list[Pick]:
    """Pick ``size`` questions (at most PER_LESSON per lesson) by weight, without replacement.

    ``candidates`` are (question, lesson number, version hash).
    """
    pool = []
    for question, lesson, version in candidates:
        reasons: list[str] = []
        weight = 1
        if wrong & set(question.cites):
            weight += WRONG_WEIGHT
            reasons.append("wrong")
        if changed & set(question.cites):
            weight += CHANGED_WEIGHT
            reasons.append("changed")
        # Efraimidis–Spirakis: the largest u^(1/w) are a weighted sample without replacement.
        pool.append((rng.random() ** (1 / weight), question, lesson, version, tuple(reasons)))
    pool.sort(key=lambda entry: entry[0], reverse=True)
    per_lesson: dict[str, int] = defaultdict(int)
    picks: list[Pick] = []
    for _key, question, lesson, version, why in pool:
        if len(picks) == size:
            break
        if per_lesson[lesson] >= PER_LESSON:
            continue
        per_lesson[lesson] += 1
        picks.append(Pick(question, version, why))
    return picks


def start(user_id: int, validity: Validity) -> RefresherAttempt:
    """Draw the refresher and store it (flush)."""
    lessons = {lesson.id: lesson.number for lesson in active_lessons()}
    rows = graded_question_rows(lessons)
    if not rows:
        raise LookupError("no graded questions to draw a refresher from")
    by_qid = {row.qid: row for row in rows}
    candidates = [
        (question_from_dict(row.data), lessons[row.lesson_id], row.content_hash) for row in rows
    ]
    seed = secrets.randbits(31)
    rng = random.Random(seed)  # noqa: S311 - a reproducible draw, not a secret
    picks = weighted_picks(
        candidates,
        _wrong_clauses(user_id, by_qid),
        _changed_clauses(validity.valid_from),
        current_app.config["RECERTIFY_QUIZ_SIZE"],
        rng,
    )
    bank = Bank(lesson="refresher", path=Path(), questions=tuple(p.question for p in picks))
    # make_draw keeps all of them (size = their number) and shuffles questions and options.
    draw = grading.make_draw(bank, seed, size=len(picks)).as_dict()
    versions = {p.question.id: p.version for p in picks}
    for entry in draw["questions"]:
        entry["version"] = versions[entry["id"]]
    attempt = RefresherAttempt(
        user_id=user_id,
        certificate_id=validity.certificate.id,
        seed=seed,
        draw=draw,
        reasons={p.question.id: list(p.reasons) for p in picks if p.reasons},
        pass_mark=str(Fraction(grading.DEFAULT_PASS_MARK).limit_denominator()),
        started_at=utcnow(),
    )
    db.session.add(attempt)
    db.session.flush()
    return attempt


def open_attempt(user_id: int) -> RefresherAttempt | None:
    """Return the employee's refresher attempt still waiting for answers, if any."""
    return db.session.scalar(
        select(RefresherAttempt)
        .outerjoin(RefresherSubmission, RefresherSubmission.attempt_id == RefresherAttempt.id)
        .where(RefresherAttempt.user_id == user_id, RefresherSubmission.id.is_(None))
        .order_by(RefresherAttempt.id.desc())
        .limit(1)
    )


def shown(attempt: RefresherAttempt) -> list[ShownQuestion]:
    """Return the attempt's questions as shown, in order."""
    draw = grading.Draw.from_dict(attempt.draw)
    by_hash = questions_by_version(entry["version"] for entry in attempt.draw["questions"])
    questions = {entry["id"]: by_hash[entry["version"]] for entry in attempt.draw["questions"]}
    return shown_in_order(draw, questions)


def grade(attempt: RefresherAttempt, answers: Mapping[str, list[str]]) -> grading.Grade:
    """Grade answers against the question versions the attempt showed."""
    items = shown(attempt)
    return grading.grade(
        grading.Draw.from_dict(attempt.draw), {i.question.id: i.question for i in items}, answers
    )


def submit(attempt: RefresherAttempt, answers: Mapping[str, list[str]]) -> bool:
    """Record the answers once; a pass renews the certificate in the same transaction.

    Returns False when the attempt was already submitted (a double click, a second tab).
    """
    result = grade(attempt, answers)
    did_pass = grading.passed(result, Fraction(attempt.pass_mark))
    submission_id = insert_returning_id(
        RefresherSubmission,
        attempt_id=attempt.id,
        answers={qid: list(keys) for qid, keys in answers.items()},
        correct_count=result.correct_count,
        total=result.total,
        passed=did_pass,
        submitted_at=utcnow(),
    )
    if submission_id is None:
        return False
    if did_pass:
        certificate = certificate_for(attempt.user_id)
        if certificate is not None and certificate.id == attempt.certificate_id:
            renew(certificate, attempt.id)
    db.session.flush()
    return True
