"""The course certificate: issued once per norm version, when every lesson in force is completed."""

from __future__ import annotations

import secrets

from sqlalchemy import select

from training.course.completion import complete_user_ids, progress_for
from training.course.models import Certificate
from training.course.versions import current_norm_version
from training.db import insert_ignoring_duplicates, utcnow
from training.extensions import db

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def issue_certificate_if_complete(user_id: int) -> Certificate | None:
    """Issue the current version's certificate once, when the course is complete (flush)."""
    if not progress_for(user_id).completed:
        return None
    version = current_norm_version()
    if version is None:
        return None
    insert_ignoring_duplicates(
        Certificate,
        user_id=user_id,
        source_sha256=version.source_sha256,
        norm_title=version.title,
        code=certificate_code(),
        issued_at=utcnow(),
    )
    db.session.flush()
    return certificate_for(user_id)


def issue_certificates_for_completed() -> int:
    """Issue current-version certificates to everyone whose course is complete; return how many.

    Used after publishing a revision: whoever is unaffected by its changes
    remains complete and gets the new version's certificate.
    """
    version = current_norm_version()
    if version is None:
        return 0
    issued = 0
    for user_id in sorted(complete_user_ids()):
        issued += insert_ignoring_duplicates(
            Certificate,
            user_id=user_id,
            source_sha256=version.source_sha256,
            norm_title=version.title,
            code=certificate_code(),
            issued_at=utcnow(),
        )
    return issued


def certificate_for(user_id: int) -> Certificate | None:
    """Return the user's certificate for the current norm version, if issued."""
    version = current_norm_version()
    if version is None:
        return None
    return db.session.scalar(
        select(Certificate).where(
            Certificate.user_id == user_id, Certificate.source_sha256 == version.source_sha256
        )
    )


def latest_certificate(user_id: int) -> Certificate | None:
    """Return the user's most recent certificate, for whichever version."""
    return db.session.scalar(
        select(Certificate)
        .where(Certificate.user_id == user_id)
        .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
        .limit(1)
    )


def certificate_code() -> str:
    """Return a new verification code, e.g. "K7QH-2MZP-9XRA"."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
    return "-".join(raw[i : i + 4] for i in range(0, 12, 4))
