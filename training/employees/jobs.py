"""The employee import as a background job: checked again against the database, then written
all or nothing, with progress, by the job runner (training/jobs/runner.py)."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from training.audit.services import record_many
from training.auth import links
from training.auth.models import User, fold_employee_no
from training.db import utcnow
from training.employees import importer, services
from training.employees.importer import ImportPlan, ImportTable, RowProblem
from training.extensions import db
from training.i18n import N_, term
from training.jobs import runner
from training.jobs.models import Job

KIND = "employee_import"


def check_import(
    data: bytes, filename: str, actor: User
) -> tuple[ImportTable, list[RowProblem], ImportPlan | None]:
    """Parse and validate an upload against the current database; return (table, problems, plan)."""
    config = current_app.config
    table = importer.parse_file(
        data, filename, max_bytes=config["IMPORT_MAX_BYTES"], max_rows=config["IMPORT_MAX_ROWS"]
    )
    if table.problems:
        return table, table.problems, None
    existing = services.existing_users()
    problems = importer.validate(table.rows, existing)
    if problems:
        return table, problems, None
    import_plan = importer.plan(table.rows, existing)
    # An import must not take HR rights from the person running it.
    for record, changes in import_plan.updated:
        if (
            fold_employee_no(record.employee_no) == fold_employee_no(actor.employee_no)
            and "role" in changes
        ):
            problems.append(
                RowProblem(
                    record.row_number,
                    importer.column_label("role"),
                    _("不能通过导入更改自己的角色。"),
                )
            )
    return table, problems, (None if problems else import_plan)


def enqueue_import(
    data: bytes,
    *,
    upload_id: str,
    filename: str,
    sha256: str,
    fingerprint: str,
    policy: str,
    actor: User,
) -> Job:
    """Queue the import of a previewed upload, once per upload (the caller commits)."""
    return runner.enqueue(
        KIND,
        key=f"{KIND}:{upload_id}",
        title=N_("导入员工：%(filename)s"),
        params={
            "title_params": {"filename": filename or term(N_("未命名文件"))},
            "filename": filename,
            "sha256": sha256,
            "fingerprint": fingerprint,
            "policy": policy,
            "channel": "web",
        },
        payload=data,
        actor=actor,
    )


@runner.register(KIND, result_template="employees/import_job_result.html")
def run_import(job: Job, progress: runner.Progress) -> dict[str, Any]:
    """Write the import if the database still matches what HR previewed; else write nothing."""
    params = job.params
    actor = db.session.get(User, job.created_by) if job.created_by else None
    if actor is None or job.payload is None:
        raise runner.JobFailed(_("导入任务缺少文件或提交人，未导入任何数据。请重新上传。"))
    _table, problems, import_plan = check_import(job.payload, params["filename"], actor)
    if import_plan is None:
        first = " ".join(problem.text() for problem in problems[:3])
        raise runner.JobFailed(
            _("预览之后数据发生了变化，文件中有问题，未导入任何数据：%(problems)s", problems=first)
        )
    if import_plan.fingerprint() != params["fingerprint"]:
        raise runner.JobFailed(
            _("预览之后员工数据发生了变化，未导入任何数据。请重新上传并核对新的预览。")
        )
    try:
        result = services.apply_import(
            import_plan,
            actor=actor,
            filename=params["filename"],
            sha256=params["sha256"],
            policy=params["policy"],
            issue_links=False,
            progress=progress,
        )
        db.session.flush()
    except IntegrityError as exc:
        raise runner.JobFailed(
            _("导入时有员工被同时创建，未导入任何数据。请重新上传并核对新的预览。")
        ) from exc
    return {
        "created": len(result.created),
        "updated": result.updated,
        "unchanged": result.unchanged,
        "created_ids": [account.id for account in result.created],
        "mailed": sum(1 for account in result.created if account.email),
    }


CHUNK = 5000  # ids per IN (…) list, well under every database's limit


def issue_links(job: Job, *, actor: User | None) -> list[tuple[str, str, str]]:
    """Issue, once, a set-password link to each account the job created that still needs one;
    return (工号, 姓名, token) of each, by 工号.

    Accounts that were deactivated or set a password meanwhile get none. The job is marked so
    that the links are shown only this once (the caller holds the job's row: the write lock
    on SQLite, FOR UPDATE on PostgreSQL). The links and their audit events are written with
    multi-row INSERTs, so a job of 100,000 accounts hands them over in one request.
    """
    result = job.result or {}
    ids = list(result.get("created_ids", []))
    people: list[tuple[int, str, str]] = []
    for start in range(0, len(ids), CHUNK):
        people.extend(
            db.session.execute(
                select(User.id, User.employee_no, User.name).where(
                    User.id.in_(ids[start : start + CHUNK]),
                    User.active.is_(True),
                    User.password_hash.is_(None),
                )
            ).tuples()
        )
    people.sort(key=lambda person: person[1])
    tokens = links.issue_setup_links([user_id for user_id, _no, _name in people], actor=actor)
    record_many(
        "link.setup",
        (
            (user_id, *services.link_summary(name, no, "setup"), {"purpose": "setup"})
            for user_id, no, name in people
        ),
        actor=actor,
    )
    job.result = {**result, "links_issued_at": utcnow().isoformat(), "links": len(people)}
    return [(no, name, tokens[user_id]) for user_id, no, name in people]
