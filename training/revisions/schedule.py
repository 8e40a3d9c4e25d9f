"""Revisions with a future 生效日期: scheduled, cancellable, and taking effect once on the day.

A revision published with an effective date after today is stored as a ``scheduled``
version (its file, label, date and HR's editorial decisions) and changes nothing else: the
version in force keeps its lessons, quizzes and certificates. On the effective date the
first request or ``flask notify send`` — whichever comes first — plans it again against the
version then in force and publishes it, exactly once: the activation holds the write lock
(``BEGIN IMMEDIATE`` on SQLite, a row lock on PostgreSQL) and re-reads the status inside it.
If the revision can no longer be published (a quiz bank changed since), it stays scheduled,
the reason is kept on the version, audited, and shown to HR.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from datetime import date

from flask import Blueprint, current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from training.audit.services import record
from training.auth.models import User
from training.course.models import NormVersion, VersionStatus
from training.course.signals import clock_ticked
from training.db import company_today, utcnow, write_transaction
from training.extensions import db
from training.i18n import N_
from training.language.selection import DEFAULT as DEFAULT_LOCALE
from training.revisions.planning import RevisionPlan
from training.revisions.publishing import RevisionBlocked, check_editorial, publish_revision
from training.revisions.services import plan_for_upload

log = logging.getLogger(__name__)

# How long a worker trusts what it last read about the next scheduled date (seconds).
CHECK_EVERY = 60.0


def schedule_revision(
    plan: RevisionPlan, *, editorial: Mapping[str, str], actor: User | None = None
) -> NormVersion:
    """Store a revision to take effect on its date; nothing else changes now (flush)."""
    if plan.blocked:
        raise RevisionBlocked(
            plan.problems
            + [f"{i.path}: {i.question_id}: {i.reason}" for i in plan.flagged if i.blocking]
        )
    check_editorial(plan, editorial)
    waiting = db.session.scalar(
        select(NormVersion).where(NormVersion.status == VersionStatus.SCHEDULED).limit(1)
    )
    if waiting is not None:
        raise RevisionBlocked(
            [
                _(
                    "已有预约的版本「%(label)s」将于 %(date)s 生效；请先取消它，再预约新的版本。",
                    label=waiting.label,
                    date=waiting.effective_date,
                )
            ]
        )
    version = db.session.scalar(
        select(NormVersion).where(
            NormVersion.source_sha256 == plan.doc.source_sha256,
            NormVersion.status == VersionStatus.CANCELLED,
        )
    )
    if version is None:
        version = NormVersion(source_sha256=plan.doc.source_sha256)
        db.session.add(version)
    version.title = plan.doc.title
    version.source_name = plan.filename
    version.label = plan.label
    version.effective_date = plan.effective_date
    version.status = VersionStatus.SCHEDULED
    version.published_at = None
    version.published_by_id = actor.id if actor else None
    version.source_bytes = plan.data
    version.changes = plan.changes
    version.editorial = dict(editorial)
    version.scheduled_at = utcnow()
    version.activation_error = ""
    db.session.flush()
    record(
        "norm.schedule",
        N_("预约规范新版本「%(label)s」于 %(date)s 生效"),
        params={"label": plan.label, "date": plan.effective_date.isoformat()},
        actor=actor,
        details={
            "version": version.source_sha256,
            "label": plan.label,
            "effective_date": plan.effective_date.isoformat(),
            "editorial": dict(editorial),
        },
    )
    forget_next_date()
    return version


def cancel_scheduled(version: NormVersion, *, actor: User | None = None) -> bool:
    """Withdraw a scheduled version before it takes effect; False if it is not scheduled."""
    if version.status != VersionStatus.SCHEDULED:
        return False
    version.status = VersionStatus.CANCELLED
    record(
        "norm.cancel",
        N_("取消预约的规范版本「%(label)s」（原定 %(date)s 生效）"),
        params={"label": version.label, "date": str(version.effective_date)},
        actor=actor,
        details={"version": version.source_sha256, "label": version.label},
    )
    db.session.flush()
    forget_next_date()
    return True


def scheduled_version() -> NormVersion | None:
    """Return the version waiting for its effective date, if any."""
    return db.session.scalar(
        select(NormVersion).where(NormVersion.status == VersionStatus.SCHEDULED).limit(1)
    )


def activate_due(today: date | None = None) -> NormVersion | None:
    """Publish the scheduled version if its day has come; return it if this call did.

    Runs in its own write transaction; two workers arriving together publish it once.
    """
    today = today or company_today()
    with write_transaction():
        stmt = select(NormVersion).where(
            NormVersion.status == VersionStatus.SCHEDULED,
            NormVersion.effective_date <= today,
            # One that failed waits for HR (cancel, fix, schedule again), not for every run.
            NormVersion.activation_error == "",
        )
        if db.session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        version = db.session.scalar(stmt.limit(1))
        if version is None or version.source_bytes is None:
            return None
        actor = db.session.get(User, version.published_by_id) if version.published_by_id else None
        try:
            # Whichever request comes first runs this: what it writes (the reason it failed,
            # kept for HR) is in the default language, as when ``flask notify send`` runs it.
            with force_locale(DEFAULT_LOCALE):
                plan = plan_for_upload(
                    version.source_bytes,
                    version.source_name,
                    version.label,
                    version.effective_date or today,
                )
                with db.session.begin_nested():
                    publish_revision(
                        plan, actor=actor, editorial=version.editorial, scheduled=version
                    )
        except (RevisionBlocked, ValueError) as error:
            version.activation_error = str(error)
            record(
                "norm.activation_failed",
                N_("预约版本「%(label)s」未能生效：%(error)s"),
                params={"label": version.label, "error": str(error)},
                details={"version": version.source_sha256, "problems": str(error)},
            )
            log.error("scheduled revision %s did not take effect: %s", version.label, error)
            forget_next_date()
            return None
    forget_next_date()
    return version


_NEXT: dict[int, tuple[float, date | None]] = {}


def forget_next_date() -> None:
    """Make every check in this process read the schedule again."""
    _NEXT.clear()


def _next_date() -> date | None:
    """Return the effective date of the scheduled version (cached for CHECK_EVERY seconds)."""
    key = id(current_app._get_current_object())  # type: ignore[attr-defined]
    now = time.monotonic()
    cached = _NEXT.get(key)
    if cached is not None and now - cached[0] < CHECK_EVERY:
        return cached[1]
    version = db.session.scalar(
        select(NormVersion.effective_date)
        .where(NormVersion.status == VersionStatus.SCHEDULED, NormVersion.activation_error == "")
        .limit(1)
    )
    _NEXT[key] = (now, version)
    return version


def activate_if_due() -> None:
    """Before a request: publish the scheduled version if today is its day (cheap otherwise)."""
    due = _next_date()
    if due is not None and due <= company_today():
        activate_due()


def _on_clock(_sender: object = None, **_extra: object) -> None:
    activate_due()


def register(bp: Blueprint) -> None:
    """Check the schedule before requests (per worker at most once a minute) and on each job run."""
    bp.before_app_request(activate_if_due)
    clock_ticked.connect(_on_clock)
