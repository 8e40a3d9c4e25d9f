"""Account, session and login-attempt models."""

from __future__ import annotations

import enum
import re
import string
from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Enum, ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from training.db import UTCDateTime, one_of, utcnow
from training.extensions import Model


class Role(enum.StrEnum):
    """What an account may do."""

    LEARNER = "learner"
    MANAGER = "manager"  # a department head: their departments' progress, nothing else of HR's
    HR = "hr"


# What a 工号 may be (HR's forms and the import check it; the login page's prefill too).
EMPLOYEE_NO_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
EMPLOYEE_NO_MAX = 32
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def fold_employee_no(employee_no: str) -> str:
    """Return a 工号 as lookups compare it: ASCII letters lower-cased, nothing else changed.

    This is what SQL ``lower()`` does to a 工号 on both databases (SQLite's lower() folds ASCII
    only; a 工号 is letters, digits, ``-`` and ``_``), so Python and the index agree.
    """
    return employee_no.translate(_ASCII_LOWER)


def employee_no_matches(column: Any, employee_no: str) -> ColumnElement[bool]:
    """The condition "``column`` (a users.employee_no, maybe aliased) is this 工号", any case."""
    return func.lower(column) == fold_employee_no(employee_no)


class User(Model):
    """An employee account, identified by 工号 (employee number)."""

    __tablename__ = "users"
    # HR's employee list sorted by name takes its page from this index (工号 breaks ties).
    __table_args__ = (Index("ix_users_name", "name", "employee_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_no: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    department: Mapped[str] = mapped_column(String(100), default="", index=True)
    position: Mapped[str] = mapped_column(String(100), default="", server_default="")  # 岗位
    email: Mapped[str] = mapped_column(String(255), default="", server_default="")
    hire_date: Mapped[date | None] = mapped_column(index=True)
    role: Mapped[Role] = mapped_column(
        Enum(
            Role,
            name="user_role",
            native_enum=False,
            create_constraint=True,
            length=16,
            values_callable=lambda roles: [r.value for r in roles],
        ),
        default=Role.LEARNER,
    )
    password_hash: Mapped[str | None] = mapped_column(String(255))
    must_change_password: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The UI language the user chose with the header's switch (None: the browser's); their
    # e-mails are written in it too.
    locale: Mapped[str | None] = mapped_column(String(16))

    sessions: Mapped[list[UserSession]] = relationship(back_populates="user")

    # Set by the user loader: the server-side session this request runs under.
    # (Declared for type checkers only: the ORM would take an annotation here for a column.)
    if TYPE_CHECKING:
        session_token: str | None
        session_method: str | None
    session_token = None
    session_method = None  # the SignInMethod of that session

    # Flask-Login protocol, written out so the session token, not the user id,
    # is what the cookie carries.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str | None:
        return self.session_token

    @classmethod
    def employee_no_is(cls, employee_no: str) -> ColumnElement[bool]:
        """The condition "this account's 工号 is ``employee_no``", whatever the letters' case.

        Every lookup by 工号 uses it: it compares ``lower(employee_no)``, which the unique
        index ``uq_users_employee_no_lower`` holds, so no lookup reads the whole table.
        """
        return employee_no_matches(cls.employee_no, employee_no)

    @classmethod
    def employee_no_in(cls, employee_nos: Iterable[str]) -> ColumnElement[bool]:
        """The condition "this account's 工号 is one of ``employee_nos``", whatever the case."""
        return func.lower(cls.employee_no).in_({fold_employee_no(no) for no in employee_nos})

    @property
    def is_hr(self) -> bool:
        return self.role == Role.HR

    @property
    def is_manager(self) -> bool:
        return self.role == Role.MANAGER

    @property
    def departments_managed(self) -> tuple[str, ...]:
        """Return the departments a manager heads, in order (nothing for anyone else)."""
        if self.role != Role.MANAGER:
            return ()
        return tuple(sorted(row.department for row in self.managed))

    managed: Mapped[list[ManagedDepartment]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )


# 工号 are unique whatever their case ("e1001" is E1001), and every lookup by 工号 compares
# lower(employee_no) (User.employee_no_is), which this index answers on SQLite and PostgreSQL.
Index("uq_users_employee_no_lower", func.lower(User.employee_no), unique=True)


class ManagedDepartment(Model):
    """A department a manager (部门负责人) heads: they see its people's progress."""

    __tablename__ = "managed_departments"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    department: Mapped[str] = mapped_column(String(100), primary_key=True)

    user: Mapped[User] = relationship(back_populates="managed")


class SignInMethod(enum.StrEnum):
    """How a session's user proved who they are."""

    PASSWORD = "password"  # noqa: S105 - a password kept here (argon2id); not a secret
    LDAP = "ldap"  # a bind to the company directory
    OIDC = "oidc"  # an OpenID Connect provider's ID token (training/auth/oauth.py)
    WECOM = "wecom"  # 企业微信 web login
    DINGTALK = "dingtalk"  # 钉钉 web login
    FEISHU = "feishu"  # 飞书 web login


class UserSession(Model):
    """A login session; the cookie carries its token, the database its hash.

    Ending a session is a revocation here, so a copied or replayed cookie is
    refused after logout, a password change or deactivation.
    """

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    user_agent: Mapped[str] = mapped_column(String(255), default="")
    address: Mapped[str] = mapped_column(String(64), default="")
    # A SignInMethod value (no CHECK: see migration a3c9e1d5f7b2).
    method: Mapped[str] = mapped_column(
        String(16), default=SignInMethod.PASSWORD, server_default=SignInMethod.PASSWORD.value
    )

    user: Mapped[User] = relationship(back_populates="sessions")


class LoginAttempt(Model):
    """One login attempt, kept in the database so throttling holds across workers."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_employee_no_at", "employee_no", "at"),
        Index("ix_login_attempts_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_no: Mapped[str] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(64))
    succeeded: Mapped[bool]
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LinkPurpose(enum.StrEnum):
    """What a one-time password link is for."""

    SETUP = "setup"  # a new account's first password
    RESET = "reset"  # HR reset a forgotten password


class PasswordLink(Model):
    """A one-time link to set or reset a password; the URL carries the token, we keep its hash."""

    __tablename__ = "password_links"
    __table_args__ = (one_of("purpose", LinkPurpose),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    purpose: Mapped[LinkPurpose] = mapped_column(String(16))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(foreign_keys=[user_id])
