"""Reading versions for HR: who completed, who must retrain, who is overdue; flagged items."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from training.assignments.services import current_assignments
from training.auth.models import User
from training.extensions import db
from training.lessons.models import Lesson, NormVersion
from training.quizzes.bank import load_banks
from training.quizzes.models import Certificate
from training.quizzes.services import current_norm_version
from training.revisions.planning import RevisionPlan, plan_revision
from training.revisions.publishing import completed_user_ids


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
    """Return everyone who must retrain on lessons changed by the version in force."""
    today = today or date.today()
    changed = list(
        db.session.scalars(
            select(Lesson).where(Lesson.active.is_(True), Lesson.supersedes_id.is_not(None))
        )
    )
    if not changed:
        return []
    old_done = completed_user_ids([lesson.supersedes_id for lesson in changed])
    new_done = completed_user_ids([lesson.id for lesson in changed])
    pending: dict[int, list[str]] = {}
    for lesson in changed:
        for user_id in old_done.get(lesson.supersedes_id, set()) - new_done.get(lesson.id, set()):
            pending.setdefault(user_id, []).append(lesson.number)
    users = db.session.scalars(
        select(User).where(User.id.in_(pending), User.active.is_(True)).order_by(User.employee_no)
    ).all()
    due = current_assignments(pending)
    rows = []
    for user in users:
        due_date = due[user.id].due_date if user.id in due else None
        state = "overdue" if due_date is not None and due_date < today else "retrain"
        rows.append(VersionRow(user, state, due_date, sorted(pending[user.id])))
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


@dataclass(frozen=True)
class ReviewItem:
    """A quiz item to review because a clause it cites changed in the version in force."""

    path: str
    question_id: str
    clause: str
    reason: str


def items_to_review(version: NormVersion | None, quiz_dir: Path) -> list[ReviewItem]:
    """Return authored items citing clauses that the version in force changed or renumbered."""
    if version is None or not version.changes:
        return []
    changed = set(version.changes.get("changed", []))
    moved = version.changes.get("renumbered", {})
    banks, _ = load_banks(quiz_dir)
    items = []
    for bank in banks.values():
        for question in bank.questions:
            if question.reviewed_for and version.source_sha256.startswith(question.reviewed_for):
                continue
            for clause in question.cites:
                if clause in changed:
                    items.append(
                        ReviewItem(
                            bank.path.name, question.id, clause, f"条款 {clause} 的内容已修改"
                        )
                    )
                elif clause in moved:
                    items.append(
                        ReviewItem(
                            bank.path.name,
                            question.id,
                            clause,
                            f"条款 {clause} 已改编号为 {moved[clause]}",
                        )
                    )
    return items
