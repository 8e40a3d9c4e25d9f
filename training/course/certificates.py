"""The course certificate: issued once per norm version, when every lesson in force is completed.

With periodic recertification on (RECERTIFY_DAYS > 0) a certificate is valid for that many
days from its issue or its latest renewal (``CertificateRenewal``, earned by passing the
refresher); then it is expired until renewed. Validity follows the setting, so turning it
on applies to certificates issued before.
"""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import false, func, select

from training.course.completion import complete_user_ids, progress_for
from training.course.models import Certificate, CertificateRenewal
from training.course.signals import progress_changed
from training.course.versions import current_norm_version
from training.db import (
    company_today,
    company_zone,
    insert_ignoring_duplicates,
    local_day_start,
    utcnow,
)
from training.extensions import db

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def issue_certificate_if_complete(user_id: int) -> Certificate | None:
    """Issue the current version's certificate once, when the course is complete (flush)."""
    if not progress_for(user_id).completed:
        return None
    version = current_norm_version()
    if version is None:
        return None
    if insert_ignoring_duplicates(
        Certificate,
        user_id=user_id,
        source_sha256=version.source_sha256,
        norm_title=version.title,
        code=certificate_code(),
        issued_at=utcnow(),
    ):
        progress_changed.send(user_ids=[user_id])
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
    issued = [
        user_id
        for user_id in sorted(complete_user_ids())
        if insert_ignoring_duplicates(
            Certificate,
            user_id=user_id,
            source_sha256=version.source_sha256,
            norm_title=version.title,
            code=certificate_code(),
            issued_at=utcnow(),
        )
    ]
    if issued:
        progress_changed.send(user_ids=issued)
    return len(issued)


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


def normalise_code(text: str) -> str:
    """Read a verification code as people type or paste it: any case, full-width letters,
    spaces or dashes anywhere ("k7qh 2mzp 9xra", "K7QH—2MZP—9XRA"); the stored form back."""
    raw = "".join(ch for ch in unicodedata.normalize("NFKC", text).upper() if ch.isalnum())
    if len(raw) != 12:
        return raw
    return "-".join(raw[i : i + 4] for i in range(0, 12, 4))


VALID, EXPIRING, EXPIRED = "valid", "expiring", "expired"


def recertify_days() -> int:
    """Return RECERTIFY_DAYS (0: certificates never expire)."""
    return int(current_app.config["RECERTIFY_DAYS"])


@dataclass(frozen=True)
class Validity:
    """How long a certificate holds: since when, until when, and where it stands today."""

    certificate: Certificate
    valid_from: datetime
    renewal: CertificateRenewal | None
    expires_on: date | None  # None: recertification is off
    state: str  # valid, expiring (within RECERTIFY_WARN_DAYS), expired

    @property
    def code(self) -> str:
        """The code to verify: the latest renewal's, else the certificate's."""
        return self.renewal.code if self.renewal else self.certificate.code


def expiry_date(valid_from: datetime) -> date | None:
    """Return the last day a certificate valid from ``valid_from`` holds (None if never)."""
    days = recertify_days()
    if not days:
        return None
    return valid_from.astimezone(company_zone()).date() + timedelta(days=days)


def lapsed(valid_from: Any, today: date, *, warn_days: int = 0) -> Any:
    """SQL: a validity that began at ``valid_from`` (a column) is over on ``today``.

    With ``warn_days``: over, or ending within that many days (将到期). The same rule as
    ``validity`` in Python: valid through the day RECERTIFY_DAYS after the day it began.
    False when recertification is off.
    """
    days = recertify_days()
    if not days:
        return false()
    return valid_from < local_day_start(today - timedelta(days=days - warn_days))


def validity(certificate: Certificate, today: date | None = None) -> Validity:
    """Return how long the certificate holds, counting its latest renewal (one query)."""
    renewal = db.session.scalar(
        select(CertificateRenewal)
        .where(CertificateRenewal.certificate_id == certificate.id)
        .order_by(CertificateRenewal.issued_at.desc(), CertificateRenewal.id.desc())
        .limit(1)
    )
    valid_from = renewal.issued_at if renewal else certificate.issued_at
    expires = expiry_date(valid_from)
    today = today or company_today()
    if expires is None or today <= expires - timedelta(
        days=current_app.config["RECERTIFY_WARN_DAYS"]
    ):
        state = VALID
    elif today <= expires:
        state = EXPIRING
    else:
        state = EXPIRED
    return Validity(certificate, valid_from, renewal, expires, state)


def latest_renewals():
    """Return a subquery: per certificate, when it was last renewed (certificate_id, renewed_at)."""
    return (
        select(
            CertificateRenewal.certificate_id,
            func.max(CertificateRenewal.issued_at).label("renewed_at"),
        )
        .group_by(CertificateRenewal.certificate_id)
        .subquery("renewals")
    )


def renew(certificate: Certificate, attempt_id: int) -> CertificateRenewal | None:
    """Record a renewal earned by a passed refresher, once per attempt (flush)."""
    inserted = insert_ignoring_duplicates(
        CertificateRenewal,
        certificate_id=certificate.id,
        user_id=certificate.user_id,
        code=certificate_code(),
        issued_at=utcnow(),
        attempt_id=attempt_id,
    )
    db.session.flush()
    if not inserted:
        return None
    progress_changed.send(user_ids=[certificate.user_id])
    return db.session.scalar(
        select(CertificateRenewal).where(CertificateRenewal.attempt_id == attempt_id)
    )
