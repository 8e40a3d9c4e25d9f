"""Employee changes that HR makes; each function adds its audit events, the caller commits."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast

import openpyxl
from flask_babel import gettext as _
from sqlalchemy import Table, func, insert, select

from training.assignments import services as assignments
from training.assignments.models import Assignment
from training.audit.services import record, record_many
from training.auth import links
from training.auth import services as auth_services
from training.auth.models import ManagedDepartment, Role, User, fold_employee_no
from training.course.completion import progress_for
from training.course.lessons import active_lessons
from training.course.signals import progress_changed
from training.db import company_today, utcnow
from training.employees.importer import EmployeeRecord, ExistingUser, ImportPlan
from training.extensions import db
from training.i18n import N_, term
from training.logs import security_event
from training.notifications import messages, outbox
from training.sheets import neutralise

# Told how many rows are written so far (and, first, out of how many).
Progress = Callable[..., None]

# The fields HR changes, as message ids: translated where shown (``_(FIELD_LABELS[key])``) and
# stored as ``term(...)`` in audit summaries.
FIELD_LABELS = {
    "name": N_("姓名"),
    "department": N_("部门"),
    "hire_date": N_("入职日期"),
    "email": N_("邮箱"),
    "position": N_("岗位"),
    "role": N_("角色"),
    "managed": N_("负责部门"),
    "locale": N_("语言"),
}


def field_labels() -> dict[str, str]:
    """Return FIELD_LABELS in the reader's language."""
    return {key: _(label) for key, label in FIELD_LABELS.items()}


def _who(name: str, employee_no: str) -> dict[str, Any]:
    return {"name": name, "employee_no": employee_no}


def _changed_summary(
    one: str, many: str, name: str, employee_no: str, keys: list[str]
) -> tuple[str, dict[str, Any]]:
    """Return the summary of changed fields and its parameters: the field by name when one
    changed (translated when shown), else how many (the keys are in the event's details)."""
    if len(keys) == 1:
        return one, _who(name, employee_no) | {"field": term(FIELD_LABELS[keys[0]])}
    return many, _who(name, employee_no) | {"count": len(keys)}


@dataclass
class NewAccount:
    """A created employee and the token of their set-password link (shown once; None when the
    import ran as a background job, whose result page issues the links when HR is there)."""

    user: User
    token: str | None

    @property
    def link_token(self) -> str:
        """The token, for callers that had links issued (every caller but the import job)."""
        if self.token is None:
            raise ValueError(f"no link was issued for {self.user.employee_no}")
        return self.token


@dataclass
class ImportResult:
    """What an import wrote."""

    created: list[ImportedAccount] = field(default_factory=list)
    updated: int = 0
    unchanged: int = 0


def existing_users() -> dict[str, ExistingUser]:
    """Return every employee as the importer compares them, by 工号."""
    rows = db.session.execute(
        select(
            User.employee_no,
            User.name,
            User.department,
            User.position,
            User.email,
            User.hire_date,
            User.role,
            User.active,
            User.locale,
        )
    )
    managed: dict[str, list[str]] = {}
    for employee_no, department in db.session.execute(
        select(User.employee_no, ManagedDepartment.department).join(
            ManagedDepartment, ManagedDepartment.user_id == User.id
        )
    ):
        managed.setdefault(employee_no, []).append(department)
    return {
        row.employee_no: ExistingUser(
            employee_no=row.employee_no,
            name=row.name,
            department=row.department,
            position=row.position,
            email=row.email,
            hire_date=row.hire_date,
            role=Role(row.role).value,
            active=row.active,
            managed=tuple(sorted(managed.get(row.employee_no, ()))),
            locale=row.locale,
        )
        for row in rows
    }


def set_managed(user: User, departments: tuple[str, ...]) -> None:
    """Make ``departments`` the ones a manager heads (nothing for other roles)."""
    wanted = set(departments) if user.role == Role.MANAGER else set()
    for row in list(user.managed):
        if row.department not in wanted:
            user.managed.remove(row)
    have = {row.department for row in user.managed}
    for department in sorted(wanted - have):
        user.managed.append(ManagedDepartment(department=department))


def departments() -> list[tuple[str, int]]:
    """Return each department with active employees, and how many, by name."""
    rows = db.session.execute(
        select(User.department, func.count())
        .where(User.active.is_(True), User.department != "")
        .group_by(User.department)
        .order_by(User.department)
    )
    return [(row[0], row[1]) for row in rows]


def _audit_value(value: object) -> object:
    if isinstance(value, tuple):
        return list(value)
    return value.isoformat() if isinstance(value, date) else value


def create_employee(
    *,
    employee_no: str,
    name: str,
    department: str,
    hire_date: date | None,
    email: str = "",
    position: str = "",
    role: Role = Role.LEARNER,
    managed: tuple[str, ...] = (),
    locale: str | None = None,
    actor: User | None = None,
    source: str = "form",
) -> NewAccount:
    """Add an employee without a password, assign the course and issue a setup link."""
    user = User(
        employee_no=employee_no,
        name=name,
        department=department,
        hire_date=hire_date,
        email=email,
        position=position,
        role=role,
        locale=locale or None,
    )
    set_managed(user, managed)
    return create_employees([user], actor=actor, source=source)[0]


def create_employees(
    users: list[User],
    *,
    actor: User | None = None,
    source: str = "form",
    policy: str | None = None,
    today: date | None = None,
    issue_links: bool = True,
    progress: Progress | None = None,
) -> list[NewAccount]:
    """Add new employees without passwords, assign the course and issue their setup links.

    Learners are assigned the course on hire; HR staff and managers only when HR assigns it
    (until then they are left out of completion figures). One flush for all of them. (An
    import writes its new employees with ``_insert_employees``: the same rows, in batches.)
    """
    for user in users:
        user.password_hash = None
        user.must_change_password = False
        user.active = True
    db.session.add_all(users)
    db.session.flush()
    # No flush per row: the rows of all new employees are written in batches at the end.
    with db.session.no_autoflush:
        accounts = _set_up_accounts(users, actor, source, policy, today, issue_links, progress)
    db.session.flush()
    return accounts


def _set_up_accounts(
    users: list[User],
    actor: User | None,
    source: str,
    policy: str | None,
    today: date | None,
    issue_links: bool,
    progress: Progress | None,
) -> list[NewAccount]:
    accounts = []
    lessons = active_lessons() if any(user.email for user in users) else []
    for done, user in enumerate(users, 1):
        trainee = user.role == Role.LEARNER
        assignment = (
            assignments.assign_on_hire(user, actor=actor, today=today, policy=policy)
            if trainee
            else None
        )
        # A new account has no earlier links to revoke.
        token = (
            links.issue_link(user, "setup", actor=actor, revoke_earlier=False)
            if issue_links
            else None
        )
        record(
            "user.create",
            N_("创建员工 %(name)s（%(employee_no)s）"),
            params=_who(user.name, user.employee_no),
            target=user,
            actor=actor,
            details={
                "employee_no": user.employee_no,
                "department": user.department,
                "hire_date": _audit_value(user.hire_date),
                "role": Role(user.role).value,
                "managed": list(user.departments_managed),
                "locale": user.locale,
                "due_date": assignment.due_date.isoformat() if assignment else None,
                "source": source,
            },
        )
        if token is not None:
            record_link(user, "setup", actor=actor)
        # Mailed if the employee has an address; the mail carries a link of its own.
        messages.invitation(user, assignment.due_date if assignment else None, lessons)
        accounts.append(NewAccount(user, token))
        if progress is not None:
            progress(done)
    return accounts


def link_summary(name: str, employee_no: str, purpose: str) -> tuple[str, dict[str, Any]]:
    """Return the audit summary (a message id) and its parameters for a link issued to an
    employee."""
    if purpose == "setup":
        return N_("为 %(name)s（%(employee_no)s）发放设置密码链接"), _who(name, employee_no)
    return N_("为 %(name)s（%(employee_no)s）发放重置密码链接"), _who(name, employee_no)


def record_link(user: User, purpose: str, *, actor: User | None = None) -> None:
    """Audit that a link was issued (never the token itself)."""
    summary, params = link_summary(user.name, user.employee_no, purpose)
    record(
        f"link.{purpose}",
        summary,
        params=params,
        target=user,
        actor=actor,
        details={"purpose": purpose},
    )


def issue_password_link(user: User, *, actor: User | None = None) -> tuple[str, str]:
    """Issue a reset link, or a setup link if the user never had a password; return (purpose, token)."""
    purpose = "setup" if user.password_hash is None else "reset"
    token = links.issue_link(user, purpose, actor=actor)
    record_link(user, purpose, actor=actor)
    return purpose, token


@dataclass(frozen=True)
class ImportedAccount:
    """An employee an import created, and the token of their set-password link (None when
    the import ran as a background job, whose result page issues the links)."""

    id: int
    employee_no: str
    name: str
    email: str
    token: str | None


BATCH = 5000  # rows per multi-row INSERT (well inside SQLite's and PostgreSQL's bind limits)


def apply_import(
    import_plan: ImportPlan,
    *,
    actor: User | None = None,
    filename: str = "",
    sha256: str = "",
    policy: str | None = None,
    today: date | None = None,
    issue_links: bool = True,
    progress: Progress | None = None,
) -> ImportResult:
    """Write a validated plan: create new employees, update changed ones; the caller commits.

    New employees are written with multi-row INSERTs (users, managed departments, hire
    assignments, their ``user.create`` audit events, invitations, and set-password links if
    asked for), not an ORM object and a flush each: a 100,000-row import is one job in one
    transaction. ``progress`` is told how many of the new and changed rows are written so far.
    """
    result = ImportResult(unchanged=len(import_plan.unchanged))
    total = len(import_plan.new) + len(import_plan.updated)
    if progress is not None:
        progress(0, total)
    result.created = _insert_employees(
        import_plan.new,
        actor=actor,
        policy=policy,
        today=today,
        issue_links=issue_links,
        progress=progress,
    )
    if import_plan.updated:
        users: dict[str, User] = {}
        wanted = [rec.employee_no for rec, _changes in import_plan.updated]
        for start in range(0, len(wanted), BATCH):
            users.update(
                (fold_employee_no(user.employee_no), user)
                for user in db.session.scalars(
                    select(User).where(User.employee_no_in(wanted[start : start + BATCH]))
                )
            )
        events = []
        done = len(result.created)
        for rec, changes in import_plan.updated:
            events.append(_update_employee(users[fold_employee_no(rec.employee_no)], rec, changes))
            done += 1
            if progress is not None and done % BATCH == 0:
                progress(done)
        db.session.flush()  # the users' changes (and their standing) before their events
        record_many("user.update", events, actor=actor)
        result.updated = len(import_plan.updated)
    counts = {
        "created": len(result.created),
        "updated": result.updated,
        "unchanged": result.unchanged,
    }
    record(
        "user.import",
        N_("导入员工：新建 %(created)s 人，更新 %(updated)s 人，未变 %(unchanged)s 人"),
        params=dict(counts),
        actor=actor,
        details=counts | {"filename": filename, "sha256": sha256},
    )
    if progress is not None:
        progress(total)
    return result


def _insert_employees(
    records: list[EmployeeRecord],
    *,
    actor: User | None,
    policy: str | None,
    today: date | None,
    issue_links: bool,
    progress: Progress | None,
) -> list[ImportedAccount]:
    """Create the plan's new employees as ``create_employees`` does, a batch per statement."""
    if not records:
        return []
    now = utcnow()
    today = today or company_today()
    users = cast(Table, User.__table__)
    # Plain batched INSERTs, then the ids by 工号: an INSERT … RETURNING of thousands of rows
    # costs psycopg more than the INSERT itself (it rewrites every placeholder).
    statement = insert(users)
    ids: dict[str, int] = {}
    for start in range(0, len(records), BATCH):
        chunk = records[start : start + BATCH]
        rows = [
            {
                "employee_no": rec.employee_no,
                "name": rec.name,
                "department": rec.department,
                "hire_date": rec.hire_date,
                "email": rec.email or "",
                "position": rec.position or "",
                "role": Role(rec.role or Role.LEARNER.value),
                "locale": rec.locale or None,
                "password_hash": None,
                "must_change_password": False,
                "active": True,
                "created_at": now,
            }
            for rec in chunk
        ]
        db.session.execute(statement, rows)
        ids.update(
            db.session.execute(
                select(users.c.employee_no, users.c.id).where(
                    users.c.employee_no.in_([rec.employee_no for rec in chunk])
                )
            )
            .tuples()
            .all()
        )
        if progress is not None:
            progress(min(start + BATCH, len(records)) // 2)  # the second half: what follows
    managed = [
        {"user_id": ids[rec.employee_no], "department": department}
        for rec in records
        if rec.role == Role.MANAGER.value
        for department in rec.managed or ()
    ]
    due: dict[str, date] = {
        rec.employee_no: assignments.default_due_date(rec.hire_date, today, policy)
        for rec in records
        if (rec.role or Role.LEARNER.value) == Role.LEARNER.value
    }
    hires = [
        {
            "user_id": ids[employee_no],
            "due_date": due_date,
            "assigned_at": now,
            "assigned_by_id": actor.id if actor else None,
            "reason": "hire",
        }
        for employee_no, due_date in due.items()
    ]
    for table, batch in ((ManagedDepartment.__table__, managed), (Assignment.__table__, hires)):
        for start in range(0, len(batch), BATCH):
            db.session.execute(insert(cast(Table, table)), batch[start : start + BATCH])
    record_many(
        "user.create",
        (
            (
                ids[rec.employee_no],
                N_("创建员工 %(name)s（%(employee_no)s）"),
                _who(rec.name, rec.employee_no),
                {
                    "employee_no": rec.employee_no,
                    "department": rec.department,
                    "hire_date": rec.hire_date.isoformat(),
                    "role": rec.role or Role.LEARNER.value,
                    "managed": list(rec.managed or ()) if rec.role == Role.MANAGER.value else [],
                    "locale": rec.locale or None,
                    "due_date": due[rec.employee_no].isoformat()
                    if rec.employee_no in due
                    else None,
                    "source": "import",
                },
            )
            for rec in records
        ),
        actor=actor,
    )
    tokens: dict[int, str] = {}
    if issue_links:
        tokens = links.issue_setup_links(ids.values(), actor=actor)
        record_many(
            "link.setup",
            (
                (
                    ids[rec.employee_no],
                    *link_summary(rec.name, rec.employee_no, "setup"),
                    {"purpose": "setup"},
                )
                for rec in records
            ),
            actor=actor,
        )
    lessons = active_lessons() if any(rec.email for rec in records) else []
    messages.invitations(
        [
            messages.Invitee(
                ids[rec.employee_no],
                rec.employee_no,
                rec.name,
                rec.email or "",
                due.get(rec.employee_no),
                rec.locale or None,  # their mail is in the language the file gave them
            )
            for rec in records
        ],
        lessons,
    )
    # The standing of HR's figures follows, in this transaction (no ORM flush to notice).
    progress_changed.send(user_ids=sorted(ids.values()))
    if progress is not None:
        progress(len(records))
    return [
        ImportedAccount(
            ids[rec.employee_no],
            rec.employee_no,
            rec.name,
            rec.email or "",
            tokens.get(ids[rec.employee_no]),
        )
        for rec in records
    ]


def _update_employee(
    user: User,
    rec: EmployeeRecord,
    changes: dict[str, tuple[object, object]],
) -> tuple[int, str, dict[str, Any] | None, dict[str, Any]]:
    """Apply an import row's changes to an employee; return their ``user.update`` event."""
    for key, (_old, new) in changes.items():
        if key == "managed":
            continue
        # A changed role is the record's role, a str.
        setattr(user, key, Role(cast(str, new)) if key == "role" else new)
    if "managed" in changes or "role" in changes:
        wanted = changes["managed"][1] if "managed" in changes else user.departments_managed
        set_managed(user, cast(tuple[str, ...], wanted) if user.role == Role.MANAGER else ())
    summary, params = _changed_summary(
        N_("导入更新员工 %(name)s（%(employee_no)s）：%(field)s"),
        N_("导入更新员工 %(name)s（%(employee_no)s）的 %(count)s 项信息"),
        user.name,
        user.employee_no,
        list(changes),
    )
    return (
        user.id,
        summary,
        params,
        {
            "row": rec.row_number,
            "changes": {
                key: [_audit_value(old), _audit_value(new)] for key, (old, new) in changes.items()
            },
        },
    )


def queued_notifications(user: User) -> int:
    """Return how many notifications to the employee are still waiting to be sent."""
    return outbox.queued_for(user.id)


def deactivate(user: User, *, actor: User | None = None) -> None:
    """Stop an employee logging in: end their sessions, revoke unused links, withdraw queued
    mail to them; keep every record."""
    user.active = False
    sessions = auth_services.end_all_sessions(user)
    revoked = links.revoke_links(user)
    withdrawn = outbox.cancel_for(user.id, actor=actor)
    record(
        "user.deactivate",
        N_("停用员工 %(name)s（%(employee_no)s）"),
        params=_who(user.name, user.employee_no),
        target=user,
        actor=actor,
        details={
            "sessions_ended": sessions,
            "links_revoked": revoked,
            "notifications_cancelled": withdrawn,
        },
    )
    security_event(
        "user.deactivated",
        user_id=user.id,
        actor_id=actor.id if actor else None,
        sessions_ended=sessions,
        links_revoked=revoked,
    )


def reactivate(user: User, *, actor: User | None = None) -> None:
    """Let a deactivated employee log in again (with their old password, if any)."""
    user.active = True
    record(
        "user.reactivate",
        N_("恢复员工 %(name)s（%(employee_no)s）"),
        params=_who(user.name, user.employee_no),
        target=user,
        actor=actor,
    )


def assign_employee(user: User, due_date: date, *, actor: User | None = None) -> None:
    """Assign or re-assign the course to one employee (a new assignment row)."""
    assignments.assign([user], due_date, reason="individual", actor=actor)
    record(
        "assignment.set",
        N_("为 %(name)s（%(employee_no)s）分配培训，截止 %(due_date)s"),
        params=_who(user.name, user.employee_no) | {"due_date": due_date.isoformat()},
        target=user,
        actor=actor,
        details={"due_date": due_date.isoformat(), "count": 1},
    )


def assign_department(department: str, due_date: date, *, actor: User | None = None) -> int:
    """Assign the course to every active employee of a department; return how many."""
    users = list(
        db.session.scalars(select(User).where(User.department == department, User.active.is_(True)))
    )
    if not users:
        return 0
    assignments.assign(users, due_date, reason="department", actor=actor)
    record(
        "assignment.set",
        N_("为 %(department)s 的 %(count)s 名员工分配培训，截止 %(due_date)s"),
        params={"department": department, "count": len(users), "due_date": due_date.isoformat()},
        actor=actor,
        details={"department": department, "due_date": due_date.isoformat(), "count": len(users)},
    )
    return len(users)


LINK_ROWS_MAX = 20_000


def parse_link_rows(text: str) -> list[tuple[str, str, str]]:
    """Read the import page's "工号<TAB>姓名<TAB>链接" lines; raise ValueError naming a bad line."""
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) != 3 or "/set-password/" not in parts[2]:
            raise ValueError(
                _("第 %(row)s 行不是“工号、姓名、设置密码链接”，未生成文件。", row=number)
            )
        rows.append((parts[0].strip(), parts[1].strip(), parts[2].strip()))
        if len(rows) > LINK_ROWS_MAX:
            raise ValueError(_("超过 %(max)s 行，未生成文件。", max=LINK_ROWS_MAX))
    if not rows:
        raise ValueError(_("没有可下载的链接。"))
    return rows


def links_workbook(rows: list[tuple[str, str, str]]) -> bytes:
    """Return an XLSX of new accounts and their set-password links, links clickable."""
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(_("设置密码链接"))
    sheet.append([_("工号"), _("姓名"), _("设置密码链接")])
    for employee_no, name, url in rows:
        # Nothing a name holds is read as a formula.
        sheet.append([neutralise(employee_no), neutralise(name), url])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@dataclass
class EditResult:
    """What an edit changed: {field: (before, after)}, and a moved due date (before, after)."""

    changes: dict[str, tuple[object, object]]
    due_moved: tuple[date, date] | None = None


def edit_employee(
    user: User,
    *,
    name: str,
    department: str,
    position: str,
    hire_date: date | None,
    email: str,
    role: Role,
    managed: tuple[str, ...],
    locale: str | None,
    actor: User | None = None,
) -> EditResult:
    """Apply HR's corrections, audit each change with before and after (flush).

    A changed hire date moves an unfinished onboarding due date by the rule used at
    creation (``default_due_date``); a due date HR set by hand, or a retraining one, stays.
    """
    wanted: dict[str, object] = {
        "name": name,
        "department": department,
        "position": position,
        "hire_date": hire_date,
        "email": email,
        "role": role,
        "managed": managed if role == Role.MANAGER else (),
        "locale": locale or None,
    }
    current: dict[str, object] = {
        "name": user.name,
        "department": user.department,
        "position": user.position,
        "hire_date": user.hire_date,
        "email": user.email,
        "role": Role(user.role),
        "managed": user.departments_managed,
        "locale": user.locale,
    }
    changes = {k: (current[k], v) for k, v in wanted.items() if current[k] != v}
    result = EditResult(changes)
    if not changes:
        return result
    for key, (_old, new) in changes.items():
        if key != "managed":
            setattr(user, key, new)
    set_managed(user, cast(tuple[str, ...], wanted["managed"]))
    summary, params = _changed_summary(
        N_("修改员工 %(name)s（%(employee_no)s）：%(field)s"),
        N_("修改员工 %(name)s（%(employee_no)s）的 %(count)s 项信息"),
        user.name,
        user.employee_no,
        list(changes),
    )
    record(
        "user.update",
        summary,
        params=params,
        target=user,
        actor=actor,
        details={
            "source": "form",
            "changes": {
                key: [_audit_value(old), _audit_value(new)] for key, (old, new) in changes.items()
            },
        },
    )
    if "hire_date" in changes:
        result.due_moved = _move_onboarding_due(user, actor)
    db.session.flush()
    return result


def _move_onboarding_due(user: User, actor: User | None) -> tuple[date, date] | None:
    assignment = assignments.current_assignments([user.id]).get(user.id)
    if assignment is None or assignment.reason != "hire" or progress_for(user.id).completed:
        return None
    new_due = assignments.default_due_date(user.hire_date)
    if new_due == assignment.due_date:
        return None
    old_due = assignment.due_date
    assignments.assign([user], new_due, reason="hire", actor=actor)
    record(
        "assignment.set",
        N_("入职日期修改，%(name)s（%(employee_no)s）的培训截止日期从 %(before)s 改为 %(after)s"),
        params=_who(user.name, user.employee_no)
        | {"before": old_due.isoformat(), "after": new_due.isoformat()},
        target=user,
        actor=actor,
        details={"due_date": new_due.isoformat(), "before": old_due.isoformat(), "count": 1},
    )
    return old_due, new_due
