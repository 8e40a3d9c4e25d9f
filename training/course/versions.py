"""Which version of the norm is in force, and the ones before it."""

from __future__ import annotations

from sqlalchemy import select

from training.course.models import NormVersion
from training.extensions import db


def current_norm_version() -> NormVersion | None:
    """Return the norm version in force (the latest published one)."""
    return db.session.scalar(
        select(NormVersion)
        .where(NormVersion.status == "published")
        .order_by(NormVersion.published_at.desc(), NormVersion.id.desc())
        .limit(1)
    )


def previous_version() -> NormVersion | None:
    """Return the version the one in force replaced, if any."""
    return db.session.scalar(
        select(NormVersion)
        .where(NormVersion.status == "superseded")
        .order_by(NormVersion.published_at.desc(), NormVersion.id.desc())
        .limit(1)
    )


def previous_version_of(version: NormVersion) -> NormVersion | None:
    """Return the version published just before ``version``."""
    return db.session.scalar(
        select(NormVersion)
        .where(NormVersion.published_at < version.published_at, NormVersion.id != version.id)
        .order_by(NormVersion.published_at.desc(), NormVersion.id.desc())
        .limit(1)
    )
