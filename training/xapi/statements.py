"""xAPI 1.0.3 statements, built from the evidence rows they describe.

Each evidence table is a *source*: a fixed statement reads a batch of its rows (joined with
the learner, the lesson and the norm version in one query) and each row becomes one or more
statements. A statement's id is a UUID derived from the site, the table, the row and the
statement's part, so building it again — a resend, a second feeder, an export — gives the
same id and the LRS keeps one copy.

- ``read_events``: lesson ``experienced``
- ``quiz_attempts``: quiz ``attempted`` (the attempt's UUID is the context registration)
- ``quiz_answers``: question ``answered``, with ``result.success`` and ``result.response``
- ``quiz_submissions``: quiz ``passed`` or ``failed`` with the score; a pass also
  ``completed`` the lesson (a quiz can only be started after the lesson is read)
- ``certificates``: the course ``completed``, and the certificate ``earned``
- ``refresher_submissions``: refresher ``passed`` or ``failed`` with the score
- ``certificate_renewals``: the renewed certificate ``earned``
- ``practice_reviews``: practice question ``answered``

Actors are accounts (``homePage`` = BASE_URL, ``name`` = 工号); no names or e-mail addresses
leave the product. Activity ids live under BASE_URL. ``context.extensions`` names the norm
version (its SHA-256 and HR's label) the event was measured against.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import Select, select
from sqlalchemy.engine import Row
from sqlalchemy.orm import aliased

from training.auth.models import User
from training.course.models import (
    Certificate,
    CertificateRenewal,
    Lesson,
    NormVersion,
    QuizAttempt,
    QuizSubmission,
    ReadEvent,
)
from training.extensions import db
from training.practice.models import PracticeReview
from training.quizzes.models import QuestionVersion, QuizAnswer, QuizQuestion
from training.refresher.models import RefresherAttempt, RefresherSubmission

VERSION = "1.0.3"
ADL = "http://adlnet.gov/expapi"
VERBS = {
    "experienced": f"{ADL}/verbs/experienced",
    "attempted": f"{ADL}/verbs/attempted",
    "answered": f"{ADL}/verbs/answered",
    "passed": f"{ADL}/verbs/passed",
    "failed": f"{ADL}/verbs/failed",
    "completed": f"{ADL}/verbs/completed",
    "earned": "http://id.tincanapi.com/verb/earned",
}
VERB_NAMES = {
    "experienced": "学习了",
    "attempted": "开始测验",
    "answered": "作答",
    "passed": "通过",
    "failed": "未通过",
    "completed": "完成",
    "earned": "获得",
}
TYPES = {
    "course": f"{ADL}/activities/course",
    "lesson": f"{ADL}/activities/lesson",
    "assessment": f"{ADL}/activities/assessment",
    "interaction": f"{ADL}/activities/cmi.interaction",
    "certificate": "https://w3id.org/xapi/tla/activity-types/credential",
}
INTERACTION_TYPES = {
    "single": "choice",
    "multiple": "choice",
    "truefalse": "true-false",
    "order": "sequencing",
}
LANGUAGE = "zh-CN"


def base_url() -> str:
    return str(current_app.config["BASE_URL"]).rstrip("/")


def statement_id(source: str, row_id: int, part: str) -> str:
    """The statement's UUID: the same for the same event on the same site, always."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{base_url()}/xapi/{source}/{row_id}/{part}"))


def registration(kind: str, attempt_id: int) -> str:
    """The context registration shared by an attempt's statements."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{base_url()}/xapi/{kind}/{attempt_id}"))


def _timestamp(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _actor(employee_no: str) -> dict[str, Any]:
    return {"objectType": "Agent", "account": {"homePage": base_url(), "name": employee_no}}


def _verb(name: str) -> dict[str, Any]:
    # The verb's English display, as the ADL and Tin Can vocabularies give it (LRSs and
    # ralph's verb models expect exactly that); VERB_NAMES are for our own pages.
    return {"id": VERBS[name], "display": {"en-US": name}}


def _activity(path: str, kind: str, name: str, **definition: Any) -> dict[str, Any]:
    return {
        "objectType": "Activity",
        "id": f"{base_url()}{path}",
        "definition": {"type": TYPES[kind], "name": {LANGUAGE: name}, **definition},
    }


def course() -> dict[str, Any]:
    return _activity("/course", "course", "公司服务规范培训")


def lesson_activity(number: str, title: str) -> dict[str, Any]:
    return _activity(f"/lessons/{number}", "lesson", f"{number} {title}")


def quiz_activity(number: str, title: str) -> dict[str, Any]:
    return _activity(f"/lessons/{number}/quiz", "assessment", f"{number} {title} 测验")


def _refresher() -> dict[str, Any]:
    return _activity("/refresher", "assessment", "复训测验")


def _practice() -> dict[str, Any]:
    return _activity("/practice", "assessment", "自测练习")


def _question(qid: str, data: dict[str, Any] | None) -> dict[str, Any]:
    data = data or {}
    prompt = str(data.get("prompt") or qid)
    return _activity(
        f"/questions/{qid}",
        "interaction",
        prompt[:200],
        interactionType=INTERACTION_TYPES.get(str(data.get("kind")), "other"),
    )


def _context(
    norm_sha256: str | None,
    norm_label: str | None,
    parents: Sequence[dict[str, Any]] = (),
    registration_id: str | None = None,
) -> dict[str, Any]:
    context: dict[str, Any] = {
        "platform": "service-norm-training",
        "language": LANGUAGE,
        "contextActivities": {"grouping": [{"id": course()["id"]}]},
    }
    if parents:
        context["contextActivities"]["parent"] = [{"id": parent["id"]} for parent in parents]
    if registration_id:
        context["registration"] = registration_id
    if norm_sha256:
        context["extensions"] = {
            f"{base_url()}/xapi/extensions/norm-version": {
                "sha256": norm_sha256,
                "label": norm_label or "",
            }
        }
    return context


def _statement(
    source: str,
    row_id: int,
    part: str,
    *,
    employee_no: str,
    verb: str,
    obj: dict[str, Any],
    at: datetime,
    context: dict[str, Any],
    result: dict[str, Any] | None = None,
) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "id": statement_id(source, row_id, part),
        "actor": _actor(employee_no),
        "verb": _verb(verb),
        "object": obj,
        "context": context,
        "timestamp": _timestamp(at),
        "version": VERSION,
    }
    if result is not None:
        statement["result"] = result
    return statement


def _score(correct: int, total: int, passed: bool) -> dict[str, Any]:
    return {
        "score": {
            "scaled": round(correct / total, 4) if total else 0,
            "raw": correct,
            "min": 0,
            "max": total,
        },
        "success": passed,
        "completion": True,
    }


def _response(kind: str | None, chosen: Sequence[Any]) -> str:
    if kind == "truefalse" and len(chosen) == 1:
        return str(chosen[0]).lower()
    return "[,]".join(str(value) for value in chosen)


@dataclass(frozen=True)
class Built:
    """One statement and what the outbox needs to know about it."""

    source: str
    row_id: int
    part: str
    user_id: int
    statement: dict[str, Any]

    @property
    def key(self) -> str:
        return f"xapi:{self.source}:{self.row_id}:{self.part}"


@dataclass(frozen=True)
class Source:
    """One evidence table: its id column, its time column, its query and its statements."""

    name: str
    id_column: Any
    at_column: Any
    query: Callable[[], Select[Any]]
    build: Callable[[Row[Any]], Iterator[Built]]


def _norm_join(stmt: Select[Any], lesson: Any) -> Select[Any]:
    return stmt.outerjoin(NormVersion, NormVersion.source_sha256 == lesson.source_sha256)


def _lesson_columns(lesson: Any) -> tuple[Any, ...]:
    return (
        lesson.number.label("lesson_number"),
        lesson.title.label("lesson_title"),
        lesson.source_sha256.label("norm_sha256"),
        NormVersion.label.label("norm_label"),
    )


# --- read_events -------------------------------------------------------------------------


def _reads() -> Select[Any]:
    stmt = (
        select(ReadEvent.id, ReadEvent.user_id, ReadEvent.read_at, User.employee_no)
        .add_columns(*_lesson_columns(Lesson))
        .join(User, User.id == ReadEvent.user_id)
        .join(Lesson, Lesson.id == ReadEvent.lesson_id)
    )
    return _norm_join(stmt, Lesson)


def _build_read(row: Row[Any]) -> Iterator[Built]:
    lesson = lesson_activity(row.lesson_number, row.lesson_title)
    yield Built(
        "read_events",
        row.id,
        "experienced",
        row.user_id,
        _statement(
            "read_events",
            row.id,
            "experienced",
            employee_no=row.employee_no,
            verb="experienced",
            obj=lesson,
            at=row.read_at,
            context=_context(row.norm_sha256, row.norm_label, [course()]),
        ),
    )


# --- quiz_attempts -----------------------------------------------------------------------


def _attempts() -> Select[Any]:
    stmt = (
        select(QuizAttempt.id, QuizAttempt.user_id, QuizAttempt.started_at, User.employee_no)
        .add_columns(*_lesson_columns(Lesson))
        .join(User, User.id == QuizAttempt.user_id)
        .join(Lesson, Lesson.id == QuizAttempt.lesson_id)
    )
    return _norm_join(stmt, Lesson)


def _build_attempt(row: Row[Any]) -> Iterator[Built]:
    lesson = lesson_activity(row.lesson_number, row.lesson_title)
    yield Built(
        "quiz_attempts",
        row.id,
        "attempted",
        row.user_id,
        _statement(
            "quiz_attempts",
            row.id,
            "attempted",
            employee_no=row.employee_no,
            verb="attempted",
            obj=quiz_activity(row.lesson_number, row.lesson_title),
            at=row.started_at,
            context=_context(
                row.norm_sha256, row.norm_label, [lesson], registration("quiz", row.id)
            ),
        ),
    )


# --- quiz_answers ------------------------------------------------------------------------


def _answers() -> Select[Any]:
    stmt = (
        select(
            QuizAnswer.id,
            QuizAnswer.user_id,
            QuizAnswer.qid,
            QuizAnswer.chosen,
            QuizAnswer.correct,
            QuizSubmission.attempt_id,
            QuizSubmission.submitted_at,
            QuestionVersion.data.label("question"),
            User.employee_no,
        )
        .add_columns(*_lesson_columns(Lesson))
        .join(QuizSubmission, QuizSubmission.id == QuizAnswer.submission_id)
        .join(User, User.id == QuizAnswer.user_id)
        .join(Lesson, Lesson.id == QuizAnswer.lesson_id)
        .outerjoin(QuestionVersion, QuestionVersion.content_hash == QuizAnswer.version)
    )
    return _norm_join(stmt, Lesson)


def _build_answer(row: Row[Any]) -> Iterator[Built]:
    question = row.question or {}
    yield Built(
        "quiz_answers",
        row.id,
        "answered",
        row.user_id,
        _statement(
            "quiz_answers",
            row.id,
            "answered",
            employee_no=row.employee_no,
            verb="answered",
            obj=_question(row.qid, question),
            at=row.submitted_at,
            context=_context(
                row.norm_sha256,
                row.norm_label,
                [quiz_activity(row.lesson_number, row.lesson_title)],
                registration("quiz", row.attempt_id),
            ),
            result={
                "success": bool(row.correct),
                "response": _response(question.get("kind"), row.chosen or []),
            },
        ),
    )


# --- quiz_submissions --------------------------------------------------------------------


def _submissions() -> Select[Any]:
    stmt = (
        select(
            QuizSubmission.id,
            QuizSubmission.attempt_id,
            QuizSubmission.correct_count,
            QuizSubmission.total,
            QuizSubmission.passed,
            QuizSubmission.submitted_at,
            QuizAttempt.user_id,
            User.employee_no,
        )
        .add_columns(*_lesson_columns(Lesson))
        .join(QuizAttempt, QuizAttempt.id == QuizSubmission.attempt_id)
        .join(User, User.id == QuizAttempt.user_id)
        .join(Lesson, Lesson.id == QuizAttempt.lesson_id)
    )
    return _norm_join(stmt, Lesson)


def _build_submission(row: Row[Any]) -> Iterator[Built]:
    lesson = lesson_activity(row.lesson_number, row.lesson_title)
    verdict = "passed" if row.passed else "failed"
    common = {"employee_no": row.employee_no, "at": row.submitted_at}
    yield Built(
        "quiz_submissions",
        row.id,
        verdict,
        row.user_id,
        _statement(
            "quiz_submissions",
            row.id,
            verdict,
            verb=verdict,
            obj=quiz_activity(row.lesson_number, row.lesson_title),
            context=_context(
                row.norm_sha256, row.norm_label, [lesson], registration("quiz", row.attempt_id)
            ),
            result=_score(row.correct_count, row.total, row.passed),
            **common,
        ),
    )
    if row.passed:
        yield Built(
            "quiz_submissions",
            row.id,
            "lesson-completed",
            row.user_id,
            _statement(
                "quiz_submissions",
                row.id,
                "lesson-completed",
                verb="completed",
                obj=lesson,
                context=_context(row.norm_sha256, row.norm_label, [course()]),
                result={"completion": True, "success": True},
                **common,
            ),
        )


# --- certificates ------------------------------------------------------------------------


def _certificates() -> Select[Any]:
    return (
        select(
            Certificate.id,
            Certificate.user_id,
            Certificate.code,
            Certificate.issued_at,
            Certificate.source_sha256.label("norm_sha256"),
            NormVersion.label.label("norm_label"),
            User.employee_no,
        )
        .join(User, User.id == Certificate.user_id)
        .outerjoin(NormVersion, NormVersion.source_sha256 == Certificate.source_sha256)
    )


def _certificate(code: str) -> dict[str, Any]:
    return _activity(f"/certificates/{code}", "certificate", f"培训证书 {code}")


def _build_certificate(row: Row[Any]) -> Iterator[Built]:
    context = _context(row.norm_sha256, row.norm_label)
    common = {"employee_no": row.employee_no, "at": row.issued_at, "context": context}
    yield Built(
        "certificates",
        row.id,
        "course-completed",
        row.user_id,
        _statement(
            "certificates",
            row.id,
            "course-completed",
            verb="completed",
            obj=course(),
            result={"completion": True, "success": True},
            **common,
        ),
    )
    yield Built(
        "certificates",
        row.id,
        "earned",
        row.user_id,
        _statement(
            "certificates", row.id, "earned", verb="earned", obj=_certificate(row.code), **common
        ),
    )


# --- the refresher -----------------------------------------------------------------------


def _refreshers() -> Select[Any]:
    return (
        select(
            RefresherSubmission.id,
            RefresherSubmission.attempt_id,
            RefresherSubmission.correct_count,
            RefresherSubmission.total,
            RefresherSubmission.passed,
            RefresherSubmission.submitted_at,
            RefresherAttempt.user_id,
            Certificate.source_sha256.label("norm_sha256"),
            NormVersion.label.label("norm_label"),
            User.employee_no,
        )
        .join(RefresherAttempt, RefresherAttempt.id == RefresherSubmission.attempt_id)
        .join(Certificate, Certificate.id == RefresherAttempt.certificate_id)
        .join(User, User.id == RefresherAttempt.user_id)
        .outerjoin(NormVersion, NormVersion.source_sha256 == Certificate.source_sha256)
    )


def _build_refresher(row: Row[Any]) -> Iterator[Built]:
    verdict = "passed" if row.passed else "failed"
    yield Built(
        "refresher_submissions",
        row.id,
        verdict,
        row.user_id,
        _statement(
            "refresher_submissions",
            row.id,
            verdict,
            employee_no=row.employee_no,
            verb=verdict,
            obj=_refresher(),
            at=row.submitted_at,
            context=_context(
                row.norm_sha256,
                row.norm_label,
                [course()],
                registration("refresher", row.attempt_id),
            ),
            result=_score(row.correct_count, row.total, row.passed),
        ),
    )


def _renewals() -> Select[Any]:
    return (
        select(
            CertificateRenewal.id,
            CertificateRenewal.user_id,
            CertificateRenewal.code,
            CertificateRenewal.issued_at,
            Certificate.source_sha256.label("norm_sha256"),
            NormVersion.label.label("norm_label"),
            User.employee_no,
        )
        .join(Certificate, Certificate.id == CertificateRenewal.certificate_id)
        .join(User, User.id == CertificateRenewal.user_id)
        .outerjoin(NormVersion, NormVersion.source_sha256 == Certificate.source_sha256)
    )


def _build_renewal(row: Row[Any]) -> Iterator[Built]:
    yield Built(
        "certificate_renewals",
        row.id,
        "earned",
        row.user_id,
        _statement(
            "certificate_renewals",
            row.id,
            "earned",
            employee_no=row.employee_no,
            verb="earned",
            obj=_certificate(row.code),
            at=row.issued_at,
            context=_context(row.norm_sha256, row.norm_label, [_refresher()]),
        ),
    )


# --- practice ----------------------------------------------------------------------------


def _practice_reviews() -> Select[Any]:
    lesson = aliased(Lesson)
    stmt = (
        select(
            PracticeReview.id,
            PracticeReview.user_id,
            PracticeReview.correct,
            PracticeReview.answer,
            PracticeReview.reviewed_at,
            PracticeReview.duration_ms,
            QuizQuestion.qid,
            QuizQuestion.data.label("question"),
            User.employee_no,
        )
        .add_columns(*_lesson_columns(lesson))
        .join(User, User.id == PracticeReview.user_id)
        .join(QuizQuestion, QuizQuestion.id == PracticeReview.question_id)
        .join(lesson, lesson.id == PracticeReview.lesson_id)
    )
    return _norm_join(stmt, lesson)


def _duration(ms: int | None) -> dict[str, Any]:
    if not ms or ms < 0:
        return {}
    return {"duration": f"PT{ms / 1000:.2f}S"}


def _build_practice(row: Row[Any]) -> Iterator[Built]:
    question = row.question or {}
    yield Built(
        "practice_reviews",
        row.id,
        "answered",
        row.user_id,
        _statement(
            "practice_reviews",
            row.id,
            "answered",
            employee_no=row.employee_no,
            verb="answered",
            obj=_question(row.qid, question),
            at=row.reviewed_at,
            context=_context(
                row.norm_sha256,
                row.norm_label,
                [_practice(), lesson_activity(row.lesson_number, row.lesson_title)],
            ),
            result={
                "success": bool(row.correct),
                "response": _response(question.get("kind"), row.answer or []),
                **_duration(row.duration_ms),
            },
        ),
    )


SOURCES: tuple[Source, ...] = (
    Source("read_events", ReadEvent.id, ReadEvent.read_at, _reads, _build_read),
    Source("quiz_attempts", QuizAttempt.id, QuizAttempt.started_at, _attempts, _build_attempt),
    Source("quiz_answers", QuizAnswer.id, QuizSubmission.submitted_at, _answers, _build_answer),
    Source(
        "quiz_submissions",
        QuizSubmission.id,
        QuizSubmission.submitted_at,
        _submissions,
        _build_submission,
    ),
    Source(
        "certificates", Certificate.id, Certificate.issued_at, _certificates, _build_certificate
    ),
    Source(
        "refresher_submissions",
        RefresherSubmission.id,
        RefresherSubmission.submitted_at,
        _refreshers,
        _build_refresher,
    ),
    Source(
        "certificate_renewals",
        CertificateRenewal.id,
        CertificateRenewal.issued_at,
        _renewals,
        _build_renewal,
    ),
    Source(
        "practice_reviews",
        PracticeReview.id,
        PracticeReview.reviewed_at,
        _practice_reviews,
        _build_practice,
    ),
)


def batch(source: Source, after_id: int, limit: int) -> list[Row[Any]]:
    """Rows of a source with an id above ``after_id``, oldest first (one statement)."""
    stmt = source.query().where(source.id_column > after_id)
    return list(db.session.execute(stmt.order_by(source.id_column).limit(limit)))


def since(at: datetime, limit: int = 5000) -> Iterator[Built]:
    """Every statement of every source for events at or after ``at``, source by source."""
    for source in SOURCES:
        last = 0
        while True:
            stmt = source.query().where(source.at_column >= at, source.id_column > last)
            rows = list(db.session.execute(stmt.order_by(source.id_column).limit(limit)))
            for row in rows:
                yield from source.build(row)
            if len(rows) < limit:
                break
            last = rows[-1].id
