"""Load the course from the repository (norm version, lessons, quiz banks) in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from training.audit.services import record
from training.banks.services import (
    KeptBank,
    kept_banks,
    lock_banks,
    overlay_on_repository,
    repository_wins,
)
from training.content.build import parse_norm, source_label
from training.content.outline import OUTLINE_FILE, load_outline
from training.course.lessons import SyncReport, install_lessons
from training.course.models import INITIAL_LABEL, REPOSITORY_LABEL, NormVersion
from training.course.progress import rebuild_all
from training.course.versions import current_norm_version
from training.db import company_today, utcnow
from training.extensions import db
from training.i18n import N_
from training.lessons.services import read_lesson_files
from training.quizzes.bank import load_banks
from training.quizzes.services import (
    QuestionSyncReport,
    load_course_banks,
    pass_marks,
    sync_questions,
)
from training.revisions.planning import plan_revision
from training.revisions.publishing import publish_revision


@dataclass
class CourseSyncReport:
    """What `sync_course` did; ``skipped`` explains why nothing was loaded, if so."""

    version: NormVersion
    version_created: bool
    lessons: SyncReport
    questions: QuestionSyncReport
    skipped: str = ""
    kept: list[KeptBank] = field(default_factory=list)  # published banks that won
    repository_won: list[str] = field(default_factory=list)


def sync_course(
    content_dir: Path, quiz_dir: Path, *, repository_wins_for: Sequence[str] = ()
) -> CourseSyncReport:
    """Validate the repository's content and banks, then load them at once; idempotent.

    The first run publishes the repository's norm as the first version. When
    the repository carries a new revision of the norm, it is published like
    one uploaded by HR (compared with the version in force, retraining
    assigned). When HR has since published a newer version from the web,
    the repository's older content is left alone. Raises OutlineError,
    NormParseError, LessonFileError, BankError or RevisionBlocked before
    anything is written. A bank HR published for a lesson stays in force over a
    repository file that differs from it (``kept``), unless the lesson is named in
    ``repository_wins_for``. Flushes; the caller commits.
    """
    lock_banks()  # a publication from the browser waits for this sync, or this sync for it
    outline = load_outline(content_dir / OUTLINE_FILE)
    source = outline.source_path()
    doc = parse_norm(source, outline)
    version = db.session.scalar(
        select(NormVersion).where(NormVersion.source_sha256 == doc.source_sha256)
    )
    current = current_norm_version()
    if version is not None and version.status != "published":
        return CourseSyncReport(
            version,
            False,
            SyncReport(),
            QuestionSyncReport(),
            skipped="a newer version of the norm has been published; the repository's is older",
        )
    if version is None and current is not None:
        return _publish_from_repository(
            doc, source, content_dir, quiz_dir, current, repository_wins_for
        )
    incoming = read_lesson_files(content_dir)
    by_lesson = load_course_banks(
        quiz_dir,
        clause_numbers=[s.number for s in doc.walk()],
        lesson_numbers=[values["number"] for values in incoming],
    )
    created = version is None
    if version is None:
        version = NormVersion(
            source_sha256=doc.source_sha256,
            title=doc.title,
            source_name=source_label(source, content_dir),
            label=INITIAL_LABEL,
            effective_date=company_today(),
            status="published",
            published_at=utcnow(),
            source_bytes=source.read_bytes(),
            changes={},
        )
        db.session.add(version)
        db.session.flush()
        record(
            "norm.publish",
            N_("发布首个规范版本 %(sha)s（来自仓库）"),
            params={"sha": version.source_sha256[:12]},
            details={"version": version.source_sha256, "label": version.label},
        )
    lesson_report = install_lessons(incoming, version_id=version.id)
    marks = pass_marks(quiz_dir)
    won = repository_wins(repository_wins_for, by_lesson, marks)
    by_lesson, marks, kept = overlay_on_repository(by_lesson, marks, record_catch_up=True)
    question_report = sync_questions(by_lesson, marks)
    rebuild_all()
    return CourseSyncReport(
        version, created, lesson_report, question_report, kept=kept, repository_won=won
    )


def _publish_from_repository(
    doc, source: Path, content_dir: Path, quiz_dir: Path, current, repository_wins_for
):
    """Publish the repository's new version of the norm; published banks carry over as in
    a revision HR uploads, except those named in ``repository_wins_for``."""
    authored, _problems = load_banks(quiz_dir, clause_numbers=None, lesson_numbers=None)
    won = repository_wins(
        repository_wins_for,
        {lesson: list(bank.questions) for lesson, bank in authored.items()},
        {lesson: bank.pass_mark for lesson, bank in authored.items() if bank.pass_mark},
    )
    kept = kept_banks(authored)
    plan = plan_revision(
        source.read_bytes(),
        filename=source_label(source, content_dir),
        label=REPOSITORY_LABEL % {"sha": doc.source_sha256[:12]},
        effective_date=company_today(),
        old_version=current,
        old_data=current.source_bytes,
        content_dir=content_dir,
        quiz_dir=quiz_dir,
    )
    published = publish_revision(plan)
    lessons = {values["number"] for values in plan.lessons}
    return CourseSyncReport(
        published.version,
        True,
        published.lessons,
        QuestionSyncReport(),
        kept=[k for k in kept if k.lesson in lessons],
        repository_won=won,
    )
