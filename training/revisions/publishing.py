"""Publishing a planned revision: old version kept, retraining assigned, in the caller's transaction."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from training.assignments.services import assign
from training.audit.services import record
from training.auth.models import User
from training.course.certificates import issue_certificates_for_completed
from training.course.completion import complete_user_ids, completed_pairs
from training.course.lessons import SyncReport, active_lessons, install_lessons
from training.course.models import (
    Lesson,
    LessonArchive,
    NormVersion,
    VersionStatus,
)
from training.course.progress import rebuild_all
from training.db import company_today, utcnow
from training.extensions import db
from training.i18n import N_
from training.notifications import messages
from training.quizzes import holds
from training.quizzes.services import sync_questions
from training.revisions.planning import RevisionPlan


class RevisionBlocked(ValueError):
    """Publishing is refused; ``problems`` says what must be fixed first."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass
class PublishReport:
    """What publishing did."""

    version: NormVersion
    lessons: SyncReport
    retrain_users: int
    certificates: int
    held: list[str]  # question ids withheld from draws until HR reviews them


def _archive_current(version: NormVersion) -> None:
    """Keep the lessons in force as they read in the outgoing version (read-only)."""
    exists = db.session.scalar(
        select(LessonArchive.id).where(LessonArchive.version_id == version.id).limit(1)
    )
    if exists is not None:
        return
    for lesson in db.session.scalars(select(Lesson).where(Lesson.active.is_(True))):
        db.session.add(
            LessonArchive(
                version_id=version.id,
                lesson_id=lesson.id,
                number=lesson.number,
                title=lesson.title,
                chapter_number=lesson.chapter_number,
                chapter_title=lesson.chapter_title,
                position=lesson.position,
                content_hash=lesson.content_hash,
                body_html=lesson.body_html,
            )
        )


def check_editorial(plan: RevisionPlan, editorial: Mapping[str, str]) -> None:
    """Refuse editorial decisions for lessons whose content did not change, or without a reason."""
    problems = [
        _("第 %(number)s 课的内容没有变化，不能标为措辞修改", number=number)
        for number in editorial
        if number not in plan.supersedes
    ] + [
        _("第 %(number)s 课标为措辞修改，请写明理由", number=number)
        for number, why in editorial.items()
        if not why
    ]
    if problems:
        raise RevisionBlocked(problems)


def publish_revision(
    plan: RevisionPlan,
    *,
    actor: User | None = None,
    editorial: Mapping[str, str] | None = None,
    scheduled: NormVersion | None = None,
) -> PublishReport:
    """Publish the planned version: archive, install lessons and quizzes, assign retraining.

    ``editorial`` maps the number of a changed lesson HR judged editorial to the reason:
    its new text replaces the old and nobody retrains on it. ``scheduled`` is the row of a
    scheduled version taking effect now (it becomes the published one).

    Flushes; the caller commits (or rolls back: nothing of the version is left then).
    """
    editorial = dict(editorial or {})
    if plan.blocked:
        raise RevisionBlocked(
            plan.problems
            + [f"{i.path}: {i.question_id}: {i.reason}" for i in plan.flagged if i.blocking]
        )
    check_editorial(plan, editorial)
    old = plan.old_version
    # Whoever is complete under the outgoing version holds its certificate
    # (issued now if an earlier failure left it out): that is the evidence
    # the retraining report starts from.
    complete_before = complete_user_ids()
    issue_certificates_for_completed()
    if old is not None:
        _archive_current(old)
        old.status = VersionStatus.SUPERSEDED
    if scheduled is not None:
        version = scheduled
        version.status = VersionStatus.PUBLISHED
        version.published_at = utcnow()
        version.changes = plan.changes
        version.activation_error = ""
    else:
        version = NormVersion(
            source_sha256=plan.doc.source_sha256,
            title=plan.doc.title,
            source_name=plan.filename,
            label=plan.label,
            effective_date=plan.effective_date,
            status=VersionStatus.PUBLISHED,
            published_at=utcnow(),
            published_by_id=actor.id if actor else None,
            source_bytes=plan.data,
            changes=plan.changes,
            editorial=editorial,
        )
        db.session.add(version)
    db.session.flush()
    lessons = install_lessons(
        plan.lessons,
        version_id=version.id,
        supersedes=plan.supersedes,
        revision_html=plan.revision_html,
        editorial=editorial,
        revision_marks=plan.revision_marks,
    )
    sync_questions(plan.questions, plan.pass_marks)
    held = holds.hold_questions(version)

    # Those who had completed the course and no longer have must retrain:
    # on the lessons whose content changed and on lessons that are new. Who
    # had not finished keeps the due date they already have.
    retrain_ids = complete_before - complete_user_ids()
    retrain_users = (
        list(
            db.session.scalars(select(User).where(User.id.in_(retrain_ids), User.active.is_(True)))
        )
        if retrain_ids
        else []
    )
    due = max(plan.effective_date, company_today()) + timedelta(
        days=current_app.config["RETRAIN_DAYS"]
    )
    assign(retrain_users, due, reason="revision", actor=actor)
    certificates = issue_certificates_for_completed()
    rebuild_all()
    _notify_retraining(version, retrain_users, due)
    for number, why in editorial.items():
        record(
            "norm.editorial",
            N_("第 %(lesson)s 课的修改判定为措辞修改，已完成的员工无需复训：%(reason)s"),
            params={"lesson": number, "reason": why},
            actor=actor,
            details={"version": version.source_sha256, "lesson": number, "reason": why},
        )
    record(
        "norm.publish",
        N_(
            "发布规范新版本「%(label)s」（%(sha)s），%(changed)s 课内容有变化，"
            "%(editorial)s 课仅措辞修改，%(users)s 人需复训，%(held)s 道题暂停抽题待复核"
        ),
        params={
            "label": plan.label,
            "sha": version.source_sha256[:12],
            "changed": len(lessons.superseded),
            "editorial": len(lessons.editorial),
            "users": len(retrain_users),
            "held": len(held),
        },
        actor=actor,
        details={
            "version": version.source_sha256,
            "label": plan.label,
            "effective_date": plan.effective_date.isoformat(),
            "changes": plan.changes,
            "editorial": editorial,
            "retrain_users": len(retrain_users),
            "held_questions": held,
            "scheduled": scheduled is not None,
        },
    )
    return PublishReport(version, lessons, len(retrain_users), certificates, held)


def _notify_retraining(version: NormVersion, users: list[User], due: date) -> None:
    """Queue each retraining employee's notice, naming the lessons they must do again."""
    if not users:
        return
    lessons = active_lessons()
    done = completed_pairs()
    for user in users:
        todo = [lesson for lesson in lessons if (user.id, lesson.id) not in done]
        messages.retraining(user, version, todo, due)
