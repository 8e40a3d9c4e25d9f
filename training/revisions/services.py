"""Reading versions for HR: who completed, who must retrain, who is overdue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from training.assignments.services import current_assignments
from training.auth.models import User
from training.course.completion import complete_user_ids, completed_pairs
from training.course.lessons import active_lessons
from training.course.models import Certificate, NormVersion
from training.course.versions import current_norm_version, previous_version
from training.db import company_today
from training.extensions import db
from training.revisions.planning import RevisionPlan, plan_revision


def plan_for_upload(data: bytes, filename: str, label: str, effective: date) -> RevisionPlan:
    """Plan a revision against the version in force, with the app's content and quiz folders."""
    current = current_norm_version()
    return plan_revision(
        data,
        filename=filename,
        label=label,
        effective_date=effective,
        old_version=current,
        old_data=current.source_bytes if current else None,
        content_dir=Path(current_app.config["CONTENT_DIR"]),
        quiz_dir=Path(current_app.config["QUIZ_DIR"]),
    )


@dataclass(frozen=True)
class VersionRow:
    """One employee in a version report."""

    user: User
    state: str  # completed, retrain, overdue
    due_date: date | None
    lessons: list[str]


def retrain_rows(today: date | None = None) -> list[VersionRow]:
    """Return everyone who had completed the previous version and has not completed this one.

    Their lessons to do are those of the version in force they have not
    completed: the changed ones and any new ones.
    """
    today = today or company_today()
    previous = previous_version()
    if previous is None:
        return []
    holders = set(
        db.session.scalars(
            select(Certificate.user_id).where(Certificate.source_sha256 == previous.source_sha256)
        )
    )
    pending_ids = holders - complete_user_ids()
    if not pending_ids:
        return []
    pairs = completed_pairs()
    lessons = active_lessons()
    users = db.session.scalars(
        select(User)
        .where(User.id.in_(pending_ids), User.active.is_(True))
        .order_by(User.employee_no)
    ).all()
    due = current_assignments(pending_ids)
    rows = []
    for user in users:
        due_date = due[user.id].due_date if user.id in due else None
        state = "overdue" if due_date is not None and due_date < today else "retrain"
        todo = [lesson.number for lesson in lessons if (user.id, lesson.id) not in pairs]
        rows.append(VersionRow(user, state, due_date, todo))
    return rows


def completed_rows(version: NormVersion) -> list[VersionRow]:
    """Return everyone holding this version's certificate."""
    rows = db.session.execute(
        select(User, Certificate)
        .join(Certificate, Certificate.user_id == User.id)
        .where(Certificate.source_sha256 == version.source_sha256)
        .order_by(User.employee_no)
    ).all()
    return [VersionRow(row.User, "completed", None, []) for row in rows]
