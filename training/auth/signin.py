"""Deciding a login: a password kept here, or the company directory.

The login view records the attempt (counted as a failure until it succeeds), then calls
``check``, which holds no write lock while it works:

1. In a read transaction (``reads_first``): the account with exactly the typed 工号, and its
   password checked with argon2 — against a dummy hash when the account has none or its role
   may not use passwords here (PASSWORD_LOGIN_ROLES), so every login costs the same.
2. With no transaction open: the directory, when LDAP_URL is set. A right local password
   only asks whether the person's directory account is disabled (no bind, so signing in
   with a local password never counts as a failed bind towards a directory lockout); any
   other login binds as the person with the typed password.

``finish`` then runs in the request's write transaction: the directory's 工号 is matched to
an account case-insensitively, an account is created only when HR turned on
LDAP_JIT_PROVISIONING (training/employees then assigns the course and audits it, through the
``account_provisioned`` signal), and an account HR deactivated is refused whatever the
directory said.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from training.auth import directory, passwords, services
from training.auth.directory import DirectoryResult, Outcome
from training.auth.models import Role, SignInMethod, User
from training.auth.oauth import Identity
from training.auth.signals import account_provisioned
from training.db import reads_first
from training.extensions import db
from training.logs import security_event


class Refusal(enum.StrEnum):
    """Why a login was refused (the security log's ``reason``)."""

    CREDENTIALS = "credentials"  # wrong password, unknown 工号 (here and in the directory)
    INACTIVE = "inactive"  # HR deactivated the account
    DIRECTORY_DISABLED = "directory_disabled"  # the directory account is disabled
    DIRECTORY_UNAVAILABLE = "directory_unavailable"
    NOT_PROVISIONED = "not_provisioned"  # known to the directory, no account here
    DIRECTORY_INCOMPLETE = "directory_incomplete"  # cannot provision: no name, 工号 too long
    AMBIGUOUS = "ambiguous"  # the directory's 工号 matches two accounts here (by case)
    PROVIDER = "provider"  # the identity provider refused, or its answer did not verify
    PROVIDER_UNAVAILABLE = "provider_unavailable"  # the identity provider could not be reached
    STATE = "state"  # a callback for no login this browser started (forged, replayed, stale)


@dataclass(frozen=True)
class Checked:
    """What ``check`` found; ``finish`` turns it into an account or a refusal."""

    method: SignInMethod | None  # the method that proved the person, None if none did
    tried: SignInMethod  # the method whose answer decided, for the security log
    user_id: int | None = None  # the account, for a password login
    directory: DirectoryResult | None = None  # for a directory login (OK) or a refusal
    rehashed: str | None = None  # a stronger hash of the right local password
    counted: bool = True  # False: no credential could be checked (the directory was down)


@dataclass(frozen=True)
class Decision:
    """The account to sign in, or why not."""

    user: User | None
    method: SignInMethod | None
    refusal: Refusal | None = None


def check(employee_no: str, password: str) -> Checked:
    """Check the credentials without holding a write lock (see the module's docstring)."""
    config = current_app.config
    rehashed = None
    with reads_first():  # commits the attempt, then argon2 runs in a read transaction
        local = db.session.scalar(select(User).where(User.employee_no_is(employee_no)))
        allowed = services.password_login_allowed(local)
        ok = passwords.verify_password(
            local.password_hash if local is not None and allowed else None, password
        )
        if ok and local is not None and passwords.needs_rehash(local.password_hash or ""):
            rehashed = passwords.hash_password(password)
        local_id = local.id if local is not None else None
    # No transaction is open from here: the directory may take up to LDAP_TIMEOUT per step.
    if not directory.enabled(config):
        return Checked(
            SignInMethod.PASSWORD if ok else None,
            SignInMethod.PASSWORD,
            user_id=local_id,
            rehashed=rehashed,
        )
    if ok:
        found = directory.check_account(config, employee_no)
        if found.outcome == Outcome.DISABLED:
            return Checked(None, SignInMethod.PASSWORD, user_id=local_id, directory=found)
        # Not in the directory (a local HR account) or the directory is down: the password
        # kept here is what it is for.
        return Checked(
            SignInMethod.PASSWORD,
            SignInMethod.PASSWORD,
            user_id=local_id,
            directory=found,
            rehashed=rehashed,
        )
    result = directory.authenticate(config, employee_no, password)
    if result.outcome == Outcome.OK:
        return Checked(SignInMethod.LDAP, SignInMethod.LDAP, directory=result)
    # Down, and no password kept here was there to check: nothing was tried, nothing counts.
    counted = allowed or result.outcome != Outcome.UNAVAILABLE
    return Checked(None, SignInMethod.LDAP, user_id=local_id, directory=result, counted=counted)


def finish(checked: Checked) -> Decision:
    """Resolve the account in the write transaction; provision it if HR allows."""
    if checked.method is None:
        outcome = checked.directory.outcome if checked.directory is not None else None
        if outcome == Outcome.DISABLED:
            return Decision(None, None, Refusal.DIRECTORY_DISABLED)
        if outcome == Outcome.UNAVAILABLE:
            return Decision(None, None, Refusal.DIRECTORY_UNAVAILABLE)
        return Decision(None, None, Refusal.CREDENTIALS)
    if checked.method == SignInMethod.PASSWORD:
        user = db.session.get(User, checked.user_id) if checked.user_id is not None else None
        if user is None:
            return Decision(None, None, Refusal.CREDENTIALS)
        if checked.rehashed is not None:
            user.password_hash = checked.rehashed
    elif checked.directory is None:  # a directory login always carries its result
        return Decision(None, None, Refusal.CREDENTIALS)
    else:
        found = db.session.scalars(
            select(User).where(User.employee_no_is(checked.directory.employee_no)).limit(2)
        ).all()
        if len(found) > 1:
            return Decision(None, checked.method, Refusal.AMBIGUOUS)
        if found:
            user = found[0]
        elif not current_app.config["LDAP_JIT_PROVISIONING"]:
            return Decision(None, checked.method, Refusal.NOT_PROVISIONED)
        else:
            provisioned = provision(checked.directory, SignInMethod.LDAP)
            if provisioned is None:
                return Decision(None, checked.method, Refusal.DIRECTORY_INCOMPLETE)
            user = provisioned
    if not user.active:
        return Decision(user, checked.method, Refusal.INACTIVE)
    return Decision(user, checked.method)


# The account columns an identity provider's claim may be matched to (OIDC_MATCH_FIELD …).
MATCH_FIELDS = {"employee_no": User.employee_no, "email": User.email}


def finish_external(identity: Identity, method: SignInMethod) -> Decision:
    """Match a provider's identity to an account in the write transaction (see oauth.py).

    The configured claim's value is compared, case-insensitively, with the account column
    ``<PREFIX>MATCH_FIELD`` names. An account is created only for OpenID Connect with
    OIDC_JIT_PROVISIONING on and the claim matched to the 工号; an account HR deactivated
    is refused whatever the provider said.
    """
    config = current_app.config
    prefix = method.value.upper() + "_"
    field = config[prefix + "MATCH_FIELD"]
    column = MATCH_FIELDS[field]
    value = identity.value.strip()
    # A 工号 through the lower(employee_no) index every 工号 lookup uses; an e-mail address
    # compared lower-cased (no index: one read of users per sign-in).
    matches = (
        User.employee_no_is(value)
        if field == "employee_no"
        else (func.lower(column) == value.lower())
    )
    found = db.session.scalars(select(User).where(matches, column != "").limit(2)).all()
    if len(found) > 1:
        return Decision(None, method, Refusal.AMBIGUOUS)
    if found:
        user = found[0]
    elif not (
        method == SignInMethod.OIDC
        and config["OIDC_JIT_PROVISIONING"]
        and config["OIDC_MATCH_FIELD"] == "employee_no"
    ):
        return Decision(None, method, Refusal.NOT_PROVISIONED)
    else:
        provisioned = provision(
            DirectoryResult(
                Outcome.OK,
                employee_no=value,
                name=identity.name,
                department=identity.department,
                email=identity.email,
            ),
            method,
        )
        if provisioned is None:
            return Decision(None, method, Refusal.DIRECTORY_INCOMPLETE)
        user = provisioned
    if not user.active:
        return Decision(user, method, Refusal.INACTIVE)
    return Decision(user, method)


def provision(result: DirectoryResult, method: SignInMethod) -> User | None:
    """Create a learner account from the directory's attributes or a provider's claims (JIT);
    None if they fall short.

    Receivers of ``account_provisioned`` (training/employees) assign the course and audit it.
    """
    employee_no = result.employee_no
    if not result.name or len(employee_no) > 32:
        security_event(
            "user.provision_refused",
            employee_no=employee_no[:64],
            reason="no name" if not result.name else "工号 longer than 32 characters",
        )
        return None
    user = User(
        employee_no=employee_no,
        name=result.name[:100],
        department=result.department[:100],
        email=result.email[:255],
        role=Role.LEARNER,
        password_hash=None,
        must_change_password=False,
        active=True,
    )
    try:
        with db.session.begin_nested():  # another worker may create the same account first
            db.session.add(user)
    except IntegrityError:
        return db.session.scalar(select(User).where(User.employee_no_is(employee_no)))
    account_provisioned.send(user=user, source=method.value)
    security_event("user.provisioned", user_id=user.id, method=method.value)
    return user
