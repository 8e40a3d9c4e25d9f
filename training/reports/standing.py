"""The standing columns of each employee's progress row, kept current in the same transaction.

HR's figures group employees by department and status. The status depends on the employee
(active, a trainee or not), on the assignment in force (its due date), on their progress
(``course.progress``) and on the certificate of the norm version in force (when its validity
began), and on today. Everything but today is copied into ``progress_summaries`` here, so the
dashboard counts one narrow index instead of joining users, every assignment and every
certificate; today stays a parameter of the query (``due_date < today``), so nothing goes
stale when a date passes.

What keeps the copy current, always inside the transaction that makes the change:

- every ORM flush that inserts a user, changes a user's department, active flag or role, or
  inserts an assignment, certificate or renewal (``configure`` installs the session hook, so
  the employee pages, imports, deactivation, revisions and the tests' own writes all pass
  through it);
- the course core's ``progress_changed`` signal: certificates and renewals it inserts with
  Core statements, a progress row it had to create, and ``course.progress.rebuild_all``
  (course sync, publishing a revision, bulk loads), after which every row is refreshed.

Reads and quiz submissions change only the counts, which ``course.progress.refresh_user``
keeps; the standing is not touched on the learner's path.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    Table,
    exists,
    func,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy import event as sa_event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, attributes

from training.assignments.models import Assignment
from training.auth.models import Role, User
from training.course.models import Certificate, CertificateRenewal, NormVersion, ProgressSummary
from training.course.signals import progress_changed
from training.db import UTCDateTime, utcnow
from training.extensions import db

# The User attributes the standing copies or depends on.
USER_FIELDS = ("department", "active", "role")
STANDING = ("department", "active", "trainee", "due_date", "valid_from")
CHUNK = 5000  # user ids per statement (well inside SQLite's and PostgreSQL's bind limits)
_PENDING = "standing_pending"  # Session.info key: objects whose employee needs a refresh


def current_version_digest() -> Any:
    """Return a scalar subquery of the digest of the norm version in force.

    The same rule as ``course.versions.current_norm_version``: the latest published.
    """
    return (
        select(NormVersion.source_sha256)
        .where(NormVersion.status == "published")
        .order_by(NormVersion.published_at.desc(), NormVersion.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def standing_columns() -> dict[str, Any]:
    """Return the standing of the ``users`` row in scope, as correlated SQL expressions."""
    due = (
        select(Assignment.due_date)
        .where(Assignment.user_id == User.id)
        .order_by(Assignment.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    renewed = (
        select(func.max(CertificateRenewal.issued_at))
        .where(CertificateRenewal.certificate_id == Certificate.id)
        .scalar_subquery()
    )
    valid_from = (
        select(func.coalesce(renewed, Certificate.issued_at))
        .where(
            Certificate.user_id == User.id, Certificate.source_sha256 == current_version_digest()
        )
        .scalar_subquery()
    )
    return {
        "department": User.department,
        "active": User.active,
        "trainee": or_(User.role == Role.LEARNER, exists().where(Assignment.user_id == User.id)),
        "due_date": due,
        "valid_from": valid_from,
    }


def standing_select() -> Select:
    """Select (user_id, *STANDING) for every user; callers add a WHERE or joins."""
    columns = standing_columns()
    return select(User.id.label("user_id"), *[columns[name].label(name) for name in STANDING])


def _table() -> Table:
    return cast(Table, ProgressSummary.__table__)


def _upsert(connection: Connection, where: ColumnElement[bool]) -> None:
    table = _table()
    module = postgresql if connection.dialect.name == "postgresql" else sqlite
    source = standing_select().add_columns(literal(utcnow(), UTCDateTime()).label("at"))
    # The WHERE also tells SQLite's parser that ON CONFLICT belongs to the INSERT.
    stmt = module.insert(table).from_select(
        [*["user_id", *STANDING], "updated_at"], source.where(where)
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.user_id],
        set_={name: stmt.excluded[name] for name in (*STANDING, "updated_at")},
    )
    connection.execute(stmt)


def refresh_standing(
    user_ids: Iterable[int] | None = None, *, connection: Connection | None = None
) -> None:
    """Recompute the standing of these employees (None: everyone), creating missing rows.

    Runs on the session's connection, inside its transaction (the caller commits).
    """
    connection = connection or db.session.connection()
    if user_ids is None:
        _upsert(connection, true())
        return
    ids = sorted(set(user_ids))
    for start in range(0, len(ids), CHUNK):
        _upsert(connection, User.id.in_(ids[start : start + CHUNK]))


# --- the session hook ------------------------------------------------------------------------


def _changes_standing(obj: object) -> bool:
    if isinstance(obj, User):
        return any(attributes.get_history(obj, name).has_changes() for name in USER_FIELDS)
    return False


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    pending = [
        obj
        for obj in session.new
        if isinstance(obj, (User, Assignment, Certificate, CertificateRenewal))
    ]
    pending += [obj for obj in session.dirty if _changes_standing(obj)]
    if pending:
        session.info.setdefault(_PENDING, []).extend(pending)


def _after_flush(session: Session, _context: Any) -> None:
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    ids = {obj.id if isinstance(obj, User) else obj.user_id for obj in pending}
    refresh_standing(ids, connection=session.connection())


def _forget(session: Session, *_args: Any) -> None:
    session.info.pop(_PENDING, None)


def _on_progress_changed(_sender: object = None, *, user_ids: Any = None, **_extra: Any) -> None:
    refresh_standing(user_ids)


def configure() -> None:
    """Refresh the standing of whoever a flush or the course core touches (once per process)."""
    progress_changed.connect(_on_progress_changed)
    for name, listener in (
        ("before_flush", _before_flush),
        ("after_flush_postexec", _after_flush),
        ("after_rollback", _forget),
    ):
        if not sa_event.contains(Session, name, listener):
            sa_event.listen(Session, name, listener)
