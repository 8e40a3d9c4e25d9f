"""Password hashing (argon2id) and password policy."""

from __future__ import annotations

import contextlib
import secrets
from functools import cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _

MIN_LENGTH = 10

# A precomputed hash to verify against when the account does not exist, so a
# wrong 工号 costs the same time as a wrong password.
_DUMMY_PASSWORD = secrets.token_urlsafe(16)


def _hasher() -> PasswordHasher:
    params = current_app.config.get("ARGON2_PARAMS", {})
    return PasswordHasher(**params)


def hash_password(password: str) -> str:
    """Return an argon2id hash of the password."""
    return _hasher().hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Return True if the password matches; spends the same effort when there is no hash."""
    hasher = _hasher()
    if not stored_hash:
        _dummy_verify(hasher)
        return False
    try:
        return hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _dummy_verify(hasher: PasswordHasher) -> None:
    with contextlib.suppress(VerificationError):
        hasher.verify(_dummy_hash(hasher), _DUMMY_PASSWORD + "x")


_dummy_hashes: dict[tuple, str] = {}


def _dummy_hash(hasher: PasswordHasher) -> str:
    key = (hasher.time_cost, hasher.memory_cost, hasher.parallelism)
    if key not in _dummy_hashes:
        _dummy_hashes[key] = hasher.hash(_DUMMY_PASSWORD)
    return _dummy_hashes[key]


def needs_rehash(stored_hash: str) -> bool:
    """Return True if the hash was made with weaker parameters than the current ones."""
    return _hasher().check_needs_rehash(stored_hash)


@cache
def common_passwords() -> frozenset[str]:
    """Return the list of passwords too common to allow (lower-cased)."""
    text = resources.files("training.auth").joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().lower()
        for line in text.splitlines()
        if line.strip() and not line.startswith("#")
    )


def password_problems(password: str, *, employee_no: str = "", name: str = "") -> list[str]:
    """Return the reasons (in the reader's language, for the form) why a new password is not
    acceptable."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(_("密码至少需要 %(n)s 个字符。", n=MIN_LENGTH))
    lowered = password.lower()
    if lowered in common_passwords() or len(set(password)) <= 2:
        problems.append(_("这个密码太常见，容易被猜到，请换一个。"))
    if employee_no and employee_no.lower() in lowered:
        problems.append(_("密码不能包含工号。"))
    if name and len(name) >= 2 and name.lower() in lowered:
        problems.append(_("密码不能包含姓名。"))
    return problems


def generate_password() -> str:
    """Return a random one-time password that passes the policy."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(14))
