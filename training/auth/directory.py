"""Sign-in against the company directory (LDAP, Active Directory) with ldap3.

One sign-in is: bind as the search account (LDAP_BIND_DN, or anonymously), find the one entry
that LDAP_USER_FILTER names for the typed 工号 (escaped: it is user input inside a filter), bind
as that entry with the typed password on a connection of its own, then ask the directory
whether the entry is disabled (LDAP_DISABLED_FILTER, tested by the server on that entry
alone). Nothing here touches the database: the caller runs it with no transaction open, so a
slow or unreachable directory never holds the SQLite write lock or a PostgreSQL connection
in a transaction.

Every failure to talk to the directory (refused connection, timeout, TLS that does not
verify, the search account refused) is ``UNAVAILABLE``, logged with the reason for the
operator; the person at the form is told only that the directory cannot be reached.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ldap3 import BASE, NONE, SIMPLE, SUBTREE, Connection, Server, Tls
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars

log = logging.getLogger("training.directory")

PLACEHOLDER = "{employee_no}"


class Outcome(enum.StrEnum):
    """What the directory said about a 工号 and password."""

    OK = "ok"
    UNKNOWN = "unknown"  # no entry for the 工号 (or more than one: never guess which)
    BAD_CREDENTIALS = "bad_credentials"  # the password was refused
    DISABLED = "disabled"  # the directory account is disabled
    UNAVAILABLE = "unavailable"  # the directory could not be asked


@dataclass(frozen=True)
class DirectoryResult:
    """The answer for one sign-in; the attributes are set only when the outcome is OK."""

    outcome: Outcome
    employee_no: str = ""  # the entry's 工号 (LDAP_EMPLOYEE_NO_ATTRIBUTE), to match an account
    name: str = ""
    department: str = ""
    email: str = ""
    detail: str = ""  # for the log: why UNKNOWN or UNAVAILABLE


def enabled(config: Mapping[str, Any]) -> bool:
    """Return True if sign-in through the directory is configured."""
    return bool(config.get("LDAP_URL"))


def user_filter(template: str, employee_no: str) -> str:
    """Return the search filter for a typed 工号, its special characters escaped."""
    return template.replace(PLACEHOLDER, escape_filter_chars(employee_no))


class VerifiedTls(Tls):
    """TLS for ldaps:// and StartTLS, verified by the standard library.

    ldap3's own Tls verifies nothing unless told to, and then checks the host name with
    ``ssl.match_hostname`` (deprecated, gone in Python 3.12). Here the context is Python's
    default client context: the chain must lead to the CA file (or the system's CAs), the
    certificate must name the host of LDAP_URL (DNS name or IP address), TLS 1.2 at least.
    """

    def __init__(self, host: str, ca_file: str):
        super().__init__(validate=ssl.CERT_REQUIRED, ca_certs_file=ca_file or None)
        self.host = host

    def wrap_socket(self, connection: Any, do_handshake: bool = False) -> None:
        context = ssl.create_default_context(cafile=self.ca_certs_file)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        connection.socket = context.wrap_socket(
            connection.socket, server_hostname=self.host, do_handshake_on_connect=do_handshake
        )


def _server(config: Mapping[str, Any]) -> Server:
    url = config["LDAP_URL"]
    tls = None
    if url.lower().startswith("ldaps://") or config["LDAP_START_TLS"]:
        tls = VerifiedTls(urlsplit(url).hostname or "", config["LDAP_CA_FILE"])
    return Server(url, tls=tls, get_info=NONE, connect_timeout=config["LDAP_TIMEOUT"])


def _connection(server: Server, config: Mapping[str, Any], user: str | None, password: str | None):
    """Open and bind one connection; return it and whether the bind succeeded."""
    conn = Connection(
        server,
        user=user or None,
        password=password or None,
        authentication=SIMPLE if user else None,
        receive_timeout=config["LDAP_TIMEOUT"],
        read_only=True,
        auto_referrals=False,
        raise_exceptions=False,
    )
    try:
        conn.open()
        if config["LDAP_START_TLS"] and not conn.start_tls():
            raise LDAPException(f"StartTLS refused: {conn.result.get('description')}")
        return conn, conn.bind()
    except BaseException:
        # ldap3 leaves the socket of a connection that failed to open (refused, timed out)
        # unclosed: close it here, whatever state the connection is in.
        with contextlib.suppress(Exception):
            conn.unbind()
        if conn.socket is not None:
            conn.socket.close()
        raise


def _first(attributes: Mapping[str, Any], name: str) -> str:
    """Return an attribute's first value as text ('' if the entry has none)."""
    if not name:
        return ""
    value = attributes.get(name)
    if isinstance(value, list | tuple):
        value = value[0] if value else ""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return "" if value is None else str(value).strip()


def authenticate(config: Mapping[str, Any], employee_no: str, password: str) -> DirectoryResult:
    """Check a 工号 and password against the directory; never raises for directory trouble."""
    if not employee_no or not password:
        # An empty password would be an "unauthenticated bind", which many servers accept.
        return DirectoryResult(Outcome.BAD_CREDENTIALS, detail="empty")
    return _ask(config, employee_no, password)


def check_account(config: Mapping[str, Any], employee_no: str) -> DirectoryResult:
    """Look a 工号 up without a password: OK, UNKNOWN, DISABLED or UNAVAILABLE.

    For a password kept here: a person whose directory account is disabled cannot sign in
    with it either.
    """
    return _ask(config, employee_no, None)


def _ask(config: Mapping[str, Any], employee_no: str, password: str | None) -> DirectoryResult:
    try:
        return _lookup(config, employee_no, password)
    except LDAPException as error:
        log.warning(
            "directory unavailable",
            extra={"event": "directory.unavailable", "error": f"{type(error).__name__}: {error}"},
        )
        return DirectoryResult(Outcome.UNAVAILABLE, detail=type(error).__name__)


def _lookup(config: Mapping[str, Any], employee_no: str, password: str | None) -> DirectoryResult:
    server = _server(config)
    search, bound = _connection(
        server, config, config["LDAP_BIND_DN"], config["LDAP_BIND_PASSWORD"]
    )
    try:
        if not bound:
            # The search account is a setting: its refusal is the operator's problem.
            raise LDAPException(f"search account refused: {search.result.get('description')}")
        wanted = [
            config[key]
            for key in (
                "LDAP_EMPLOYEE_NO_ATTRIBUTE",
                "LDAP_NAME_ATTRIBUTE",
                "LDAP_DEPARTMENT_ATTRIBUTE",
                "LDAP_EMAIL_ATTRIBUTE",
            )
            if config[key]
        ]
        search.search(
            config["LDAP_BASE_DN"],
            user_filter(config["LDAP_USER_FILTER"], employee_no),
            search_scope=SUBTREE,
            attributes=wanted,
            size_limit=2,
            time_limit=config["LDAP_TIMEOUT"],
        )
        code = search.result.get("result", 0)
        if code not in (0, 4, 32):  # success, sizeLimitExceeded, noSuchObject
            raise LDAPException(f"search failed: {search.result.get('description')}")
        entries = [item for item in search.response or [] if item.get("type") == "searchResEntry"]
        if len(entries) != 1:
            return DirectoryResult(Outcome.UNKNOWN, detail=f"{len(entries)} entries")
        entry = entries[0]
        if password is not None and not _bind_as(server, config, entry["dn"], password):
            return DirectoryResult(Outcome.BAD_CREDENTIALS)
        # Asked after the password, so a stranger cannot learn which accounts are disabled.
        if _matches(search, entry["dn"], config["LDAP_DISABLED_FILTER"]):
            return DirectoryResult(Outcome.DISABLED)
        attributes = entry.get("attributes") or {}
        directory_no = _first(attributes, config["LDAP_EMPLOYEE_NO_ATTRIBUTE"])
        if not directory_no:
            return DirectoryResult(Outcome.UNKNOWN, detail="the entry has no 工号 attribute")
        return DirectoryResult(
            Outcome.OK,
            employee_no=directory_no,
            name=_first(attributes, config["LDAP_NAME_ATTRIBUTE"]),
            department=_first(attributes, config["LDAP_DEPARTMENT_ATTRIBUTE"]),
            email=_first(attributes, config["LDAP_EMAIL_ATTRIBUTE"]),
        )
    finally:
        search.unbind()


def _bind_as(server: Server, config: Mapping[str, Any], dn: str, password: str) -> bool:
    """Bind as the entry on a connection of its own; True if the password is right."""
    user, bound = _connection(server, config, dn, password)
    try:
        if not bound and user.result.get("result") != 49:  # 49: invalidCredentials
            # Anything else (busy, unwilling, a TLS problem) says nothing about the password.
            raise LDAPException(f"user bind failed: {user.result.get('description')}")
        return bound
    finally:
        user.unbind()


def _matches(conn: Connection, dn: str, search_filter: str) -> bool:
    """Return True if the entry ``dn`` matches the filter, as the directory evaluates it."""
    if not search_filter:
        return False
    conn.search(dn, search_filter, search_scope=BASE, attributes=[], size_limit=1)
    code = conn.result.get("result", 0)
    if code not in (0, 32):
        raise LDAPException(f"disabled check failed: {conn.result.get('description')}")
    return any(item.get("type") == "searchResEntry" for item in conn.response or [])
