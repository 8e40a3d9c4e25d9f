"""What the course does after a learning event, in the event's own transaction (flush only)."""

from __future__ import annotations

from training.course.certificates import issue_certificate_if_complete
from training.course.progress import refresh_user


def learning_recorded(user_id: int, *, may_complete: bool = False) -> None:
    """Bring the employee's progress summary up to date after a read, start or submission.

    A read or a passed quiz may complete the course: then the certificate is issued in
    the same transaction, so it exists exactly when the evidence does.
    """
    refresh_user(user_id)
    if may_complete:
        issue_certificate_if_complete(user_id)
