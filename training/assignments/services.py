"""Assigning the onboarding course."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import func, select

from training.assignments.models import Assignment
from training.auth.models import User
from training.db import company_today, utcnow
from training.extensions import db

STRICT, GRACE = "strict", "grace"
POLICIES = (STRICT, GRACE)


def default_due_date(
    hire_date: date | None, today: date | None = None, policy: str | None = None
) -> date:
    """Return the onboarding due date for a hire date.

    ``strict``: 入职日期 + ONBOARDING_DAYS (from today when the hire date is unknown), even if
    that is already past. ``grace``: never sooner than today + ONBOARDING_GRACE_DAYS, so
    someone imported with an old hire date is not overdue the moment they exist. The
    policy defaults to the ONBOARDING_DUE_POLICY setting.
    """
    config = current_app.config
    today = today or company_today()
    due = (hire_date or today) + timedelta(days=config["ONBOARDING_DAYS"])
    if (policy or config["ONBOARDING_DUE_POLICY"]) == GRACE:
        due = max(due, today + timedelta(days=config["ONBOARDING_GRACE_DAYS"]))
    return due


def current_assignment_ids(user_ids: Iterable[int] | None = None):
    """Return a subquery of the newest assignment id per user (of ``user_ids`` if given)."""
    latest = select(func.max(Assignment.id).label("id"), Assignment.user_id)
    if user_ids is not None:
        # Filtered inside the grouping: SQLite does not push the caller's filter into it,
        # and grouped every assignment of the company for one learner's page.
        latest = latest.where(Assignment.user_id.in_(list(user_ids)))
    return latest.group_by(Assignment.user_id).subquery()


def current_assignments(user_ids: Iterable[int]) -> dict[int, Assignment]:
    """Return the assignment in force for each of the users that has one (one query)."""
    ids = list(user_ids)
    if not ids:
        return {}
    latest = current_assignment_ids(ids)
    rows = db.session.scalars(select(Assignment).join(latest, latest.c.id == Assignment.id))
    return {row.user_id: row for row in rows}


def assign(
    users: Iterable[User], due_date: date, *, reason: str, actor: User | None = None
) -> list[Assignment]:
    """Assign (or re-assign) the course to users with a due date; the caller commits."""
    rows = [
        Assignment(
            user_id=user.id,
            due_date=due_date,
            assigned_at=utcnow(),
            assigned_by_id=actor.id if actor else None,
            reason=reason,
        )
        for user in users
    ]
    db.session.add_all(rows)
    return rows


def assign_on_hire(
    user: User,
    *,
    actor: User | None = None,
    today: date | None = None,
    policy: str | None = None,
) -> Assignment:
    """Assign the course to a new employee, due by the onboarding rule (``default_due_date``)."""
    due = default_due_date(user.hire_date, today, policy)
    return assign([user], due, reason="hire", actor=actor)[0]
