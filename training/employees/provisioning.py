"""Accounts created at a first sign-in through the company directory or the OpenID Connect
provider (JIT provisioning).

training/auth creates the account and sends ``account_provisioned``; here, in the same
transaction, the new learner is assigned the course as any new hire and the creation is
audited. No set-password link and no invitation mail: the person signs in with the company
account.
"""

from __future__ import annotations

from training.assignments.services import assign_on_hire
from training.audit.services import record
from training.auth.models import Role, User
from training.auth.signals import account_provisioned
from training.i18n import N_, term

# Where the account came from, as message ids (translated when the audit log is read).
SOURCES = {"ldap": N_("公司目录"), "oidc": N_("企业账号（OpenID Connect）")}


def _on_provisioned(_sender: object = None, *, user: User, source: str, **_extra: object) -> None:
    assignment = assign_on_hire(user)
    record(
        "user.provision",
        N_("%(source)s首次登录，自动创建员工 %(name)s（%(employee_no)s）"),
        params={
            "source": term(SOURCES[source]) if source in SOURCES else source,
            "name": user.name,
            "employee_no": user.employee_no,
        },
        target=user,
        actor=user,  # the person signing in caused it; no one at HR did
        details={
            "employee_no": user.employee_no,
            "department": user.department,
            "role": Role(user.role).value,
            "due_date": assignment.due_date.isoformat(),
            "source": source,
        },
    )


def register() -> None:
    """Listen for accounts created at sign-in (connecting twice keeps one receiver)."""
    account_provisioned.connect(_on_provisioned)
