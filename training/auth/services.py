"""Server-side sessions and login throttling."""

from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from flask import current_app
from sqlalchemy import CursorResult, Select, bindparam, delete, func, inspect, select, text, update
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from training.auth.models import LoginAttempt, Role, SignInMethod, User, UserSession
from training.db import UTCDateTime, utcnow
from training.extensions import db


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def start_session(
    user: User,
    *,
    user_agent: str = "",
    address: str = "",
    method: SignInMethod = SignInMethod.PASSWORD,
) -> str:
    """Create a server-side session for the user and return its token for the cookie."""
    token = secrets.token_urlsafe(32)
    db.session.add(
        UserSession(
            token_hash=_token_hash(token),
            user=user,
            user_agent=user_agent[:255],
            address=address[:64],
            method=method.value,
        )
    )
    user.session_token = token
    user.session_method = method.value
    return token


def password_login_allowed(user: User | None) -> bool:
    """Return True if this account may sign in with a password kept here (its role is in
    PASSWORD_LOGIN_ROLES and it has one)."""
    return (
        user is not None
        and bool(user.password_hash)
        and Role(user.role).value in current_app.config["PASSWORD_LOGIN_ROLES"]
    )


def password_change_pending(user: Any) -> bool:
    """Return True if the signed-in user must replace a one-time password before anything else.

    Someone who signed in through the directory did not use it, so they are not held.
    """
    return bool(
        user is not None
        and user.is_authenticated
        and user.must_change_password
        and user.session_method == SignInMethod.PASSWORD
    )


@functools.cache
def _session_user_statement() -> Select:
    """The session lookup, built once: the user's columns for a live session token.

    One Core statement on the unique ``token_hash`` index; rows come back without the ORM's
    loading machinery, which cost more than the query itself on every logged-in request.
    """
    users, sessions = User.__table__, UserSession.__table__
    return (
        select(*users.columns, sessions.c.method)
        .join(sessions, sessions.c.user_id == users.c.id)
        .where(
            sessions.c.token_hash == bindparam("token_hash"),
            sessions.c.revoked_at.is_(None),
            sessions.c.created_at > bindparam("born_after", type_=UTCDateTime()),
        )
    )


def _attached_user(row: Any) -> User:
    """Return the session's User for a row of its columns, attached without another query.

    The instance already in the session (a test or CLI app context outliving a request) is
    returned with its expired columns filled in from the row, as an ORM query would do;
    otherwise one is made from the row and attached as if loaded, so relationships and
    changes work as on any loaded user.
    """
    session = db.session()
    found = session.identity_map.get(identity_key(User, (row.id,)))
    if found is not None:
        unloaded = inspect(found).unloaded  # expired by a commit: refreshed from the row
        for key, column in _USER_ATTRIBUTES:
            if key in unloaded:
                set_committed_value(found, key, row._mapping[column])
        return found
    user = _USER_MAPPER.class_manager.new_instance()
    state = user.__dict__
    for key, column in _USER_ATTRIBUTES:
        state[key] = row._mapping[column]
    make_transient_to_detached(user)
    session.add(user)
    return user


_USER_MAPPER = inspect(User)
_USER_ATTRIBUTES = [(prop.key, prop.columns[0]) for prop in _USER_MAPPER.column_attrs]


def load_session_user(token: str) -> User | None:
    """Return the active user of a live session token, or None.

    Read from the database on every request, never cached: a logout, a password change or a
    deactivation in any process refuses the cookie on the very next request.
    """
    # However busy a session is kept, it ends SESSION_ABSOLUTE_LIFETIME after login (the
    # idle limit, PERMANENT_SESSION_LIFETIME, is the cookie's own).
    born_after = utcnow() - timedelta(seconds=current_app.config["SESSION_ABSOLUTE_LIFETIME"])
    row = (
        db.session.connection()
        .execute(
            _session_user_statement(),
            {"token_hash": _token_hash(token), "born_after": born_after},
        )
        .first()
    )
    if row is None or not row.active:
        return None
    user = _attached_user(row)
    user.session_token = token
    user.session_method = row.method
    return user


def end_session(token: str | None) -> None:
    """Revoke one session so its cookie is refused from now on."""
    if not token:
        return
    db.session.execute(
        update(UserSession)
        .where(UserSession.token_hash == _token_hash(token), UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def end_all_sessions(user: User, *, keep_token: str | None = None) -> int:
    """Revoke every live session of the user except ``keep_token``; return how many."""
    stmt = update(UserSession).where(
        UserSession.user_id == user.id, UserSession.revoked_at.is_(None)
    )
    if keep_token:
        stmt = stmt.where(UserSession.token_hash != _token_hash(keep_token))
    # An UPDATE's result is a CursorResult, which has the row count.
    result = cast(CursorResult[Any], db.session.execute(stmt.values(revoked_at=utcnow())))
    return result.rowcount


@dataclass(frozen=True)
class Throttle:
    """Whether login is currently refused, and until when."""

    blocked: bool
    retry_after: datetime | None = None


def _failures(since: datetime, *conditions: Any) -> tuple[int, datetime | None, datetime | None]:
    """Count failed attempts matching ``conditions`` since ``since``; first and last times."""
    count, first, last = db.session.execute(
        select(func.count(), func.min(LoginAttempt.at), func.max(LoginAttempt.at)).where(
            *conditions, LoginAttempt.succeeded.is_(False), LoginAttempt.at >= since
        )
    ).one()
    return count, first, last


def login_delay(extra_failures: int) -> timedelta:
    """The wait after the limit is reached: LOGIN_DELAY_SECONDS, doubling per further
    failure, at most LOGIN_DELAY_MAX_SECONDS."""
    config = current_app.config
    seconds = config["LOGIN_DELAY_SECONDS"] * 2 ** min(extra_failures, 20)
    return timedelta(seconds=min(seconds, config["LOGIN_DELAY_MAX_SECONDS"]))


def check_throttle(employee_no: str, address: str) -> Throttle:
    """Slow down guessing without locking the owner out.

    From one address, an account's first LOGIN_MAX_FAILURES_PER_ACCOUNT failures are free;
    after that each attempt must wait a delay that doubles per failure (``login_delay``), and
    then the right password works again: someone guessing from elsewhere cannot keep the
    owner out. Across all addresses an account may fail ten times the limit before the same
    delay applies to it everywhere, and one address may fail LOGIN_MAX_FAILURES_PER_ADDRESS
    times in the window whatever the accounts. Counts are in the database, so they hold
    however many workers serve the form; an account's counts restart after a success.
    """
    config = current_app.config
    if db.session.get_bind().dialect.name == "postgresql":
        # Serialise the check and the recording of the attempt per account until this
        # transaction ends, so parallel guesses cannot all pass the check. (SQLite login
        # POSTs are serialised by BEGIN IMMEDIATE.) The password is checked afterwards,
        # outside this transaction, with the attempt already counted as a failure.
        db.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"login:{employee_no}"}
        )
    window = timedelta(seconds=config["LOGIN_THROTTLE_WINDOW"])
    now = utcnow()
    since = now - window
    last_success = db.session.scalar(
        select(func.max(LoginAttempt.at)).where(
            LoginAttempt.employee_no == employee_no, LoginAttempt.succeeded.is_(True)
        )
    )
    account_since = max(since, last_success) if last_success else since
    limit = config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    for conditions, allowed in (
        ((LoginAttempt.employee_no == employee_no, LoginAttempt.address == address), limit),
        ((LoginAttempt.employee_no == employee_no,), limit * 10),
    ):
        count, _, last = _failures(account_since, *conditions)
        if last is not None and count >= allowed:
            until = last + login_delay(count - allowed)
            if now < until:
                return Throttle(True, until)
    count, first, _ = _failures(since, LoginAttempt.address == address)
    if first is not None and count >= config["LOGIN_MAX_FAILURES_PER_ADDRESS"]:
        return Throttle(True, first + window)
    return Throttle(False)


def record_attempt(employee_no: str, address: str) -> int:
    """Store one login attempt as failed, before the password is checked; return its id.

    Counted as a failure while the (slow) check runs, so parallel guesses cannot all pass
    ``check_throttle``: each sees the others. ``attempt_succeeded`` turns it into a success.
    """
    attempt = LoginAttempt(employee_no=employee_no[:32], address=address[:64], succeeded=False)
    db.session.add(attempt)
    db.session.flush()
    return attempt.id


def forget_attempt(attempt_id: int) -> None:
    """Remove a recorded attempt in which no credential was checked (the directory could not
    be reached): an outage must not count towards anyone's throttle."""
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.id == attempt_id))


def attempt_succeeded(attempt_id: int) -> None:
    """Mark a recorded attempt as a successful login (it restarts the account's count)."""
    db.session.execute(
        update(LoginAttempt)
        .where(LoginAttempt.id == attempt_id)
        .values(succeeded=True, at=utcnow())
    )
