"""Load the built course (norm version, lessons, quiz banks) into the database at once."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from training.content.build import parse_norm, source_label
from training.content.outline import OUTLINE_FILE, load_outline
from training.extensions import db
from training.lessons.models import NormVersion
from training.lessons.services import SyncReport, sync_lessons
from training.quizzes.services import (
    QuestionSyncReport,
    load_course_banks,
    pass_marks,
    sync_questions,
)


@dataclass
class CourseSyncReport:
    """What `sync_course` did."""

    version: NormVersion
    version_created: bool
    lessons: SyncReport
    questions: QuestionSyncReport


def sync_course(content_dir: Path, quiz_dir: Path) -> CourseSyncReport:
    """Validate content and banks, then load them in one transaction; idempotent.

    Raises OutlineError, NormParseError, LessonFileError or BankError before
    anything is written.
    """
    outline = load_outline(content_dir / OUTLINE_FILE)
    source = outline.source_path()
    doc = parse_norm(source, outline)
    try:
        lesson_report = sync_lessons(content_dir)
        lesson_numbers = lesson_report.created + lesson_report.updated + lesson_report.unchanged
        by_lesson = load_course_banks(
            quiz_dir,
            clause_numbers=[s.number for s in doc.walk()],
            lesson_numbers=lesson_numbers,
        )
        question_report = sync_questions(by_lesson, pass_marks(quiz_dir))
        version = db.session.scalar(
            select(NormVersion).where(NormVersion.source_sha256 == doc.source_sha256)
        )
        created = version is None
        if created:
            version = NormVersion(
                source_sha256=doc.source_sha256,
                title=doc.title,
                source_name=source_label(source, content_dir),
            )
            db.session.add(version)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return CourseSyncReport(version, created, lesson_report, question_report)
