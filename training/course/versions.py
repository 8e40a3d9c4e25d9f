"""Which version of the norm is in force, and the ones before it."""

from __future__ import annotations

import re

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


# The norm leaves its start date blank ("本规范自****年**月**日起实施"); the version says it.
DATE_BLANK = re.compile(r"\*{2,4}\s*年\s*\*{1,2}\s*月\s*\*{1,2}\s*日")


def fill_effective_date(html: str, version_id: int | None) -> str:
    """Put the version's effective date into the norm's blank date, marked as filled in.

    Only a text that has the blank costs a query (lesson 5 of the seed norm).
    """
    if version_id is None or not DATE_BLANK.search(html):
        return html
    version = db.session.get(NormVersion, version_id)
    if version is None or version.effective_date is None:
        return html
    day = version.effective_date
    filled = (
        f'<time class="filled-date" datetime="{day.isoformat()}" '
        f'title="规范原文此处为“****年**月**日”,日期取自该版本的生效日期">'
        f"{day.year}年{day.month}月{day.day}日</time>"
    )
    return DATE_BLANK.sub(filled, html)
