"""HR actions on employees (create, import, links, deactivate, assign)."""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import cast

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from training.assignments.services import POLICIES, default_due_date
from training.audit import services as audit
from training.auth import links
from training.auth.decorators import hr_required
from training.auth.models import Role, User
from training.db import company_today, reads_first
from training.employees import forms, importer, provisioning, services, uploads
from training.employees import jobs as import_jobs
from training.extensions import db
from training.forms import choices, require_action_form
from training.i18n import N_
from training.jobs import runner
from training.jobs.models import Job, JobState
from training.sheets import XLSX_MIMETYPE

bp = Blueprint("employees", __name__, url_prefix="/hr/employees", template_folder="templates")
provisioning.register()


def _employee_url(user: User) -> str | None:
    """Return the employee page's URL when the reports feature provides one."""
    if "reports.employee_detail" in current_app.view_functions:
        return url_for("reports.employee_detail", user_id=user.id)
    return None


def _back_to(user: User):
    """Return to the employee page after an action (to the create form without one)."""
    return redirect(_employee_url(user) or url_for("employees.create"))


def _actor() -> User:
    return current_user._get_current_object()


def _flash_form_errors(form) -> None:
    for errors in form.errors.values():
        for error in errors:
            flash(error, "error")


@bp.route("/new", methods=["GET", "POST"])
@hr_required
def create():
    """Create an employee and show their set-password link once."""
    form = forms.EmployeeForm()
    if form.validate_on_submit():
        try:
            # DataRequired: these fields hold text once the form validates.
            account = services.create_employee(
                employee_no=cast(str, form.employee_no.data),
                name=cast(str, form.name.data),
                department=cast(str, form.department.data),
                hire_date=form.hire_date.data,
                email=form.email.data or "",
                position=form.position.data or "",
                role=Role(form.role.data),
                managed=form.managed_departments(),
                locale=form.locale.data or None,
                actor=_actor(),
            )
            db.session.commit()
        except IntegrityError:
            # Another HR user created the same 工号 a moment ago.
            db.session.rollback()
            # Validation leaves each field's errors a list.
            cast(list[str], form.employee_no.errors).append(
                _("工号 %(no)s 已存在。", no=form.employee_no.data)
            )
        else:
            return render_template(
                "employees/link.html",
                employee=account.user,
                url=links.link_url(account.link_token),
                purpose="setup",
                created=True,
                employee_url=_employee_url(account.user),
            )
    return render_template("employees/create.html", form=form, departments=services.departments())


@bp.route("/<int:user_id>/edit", methods=["GET", "POST"])
@hr_required
def edit(user_id: int):
    """Correct an employee's record; each change is audited with its before and after."""
    user = db.get_or_404(User, user_id)
    form = forms.EmployeeEditForm(obj=user if request.method == "GET" else None)
    if request.method == "GET":
        form.role.data = Role(user.role).value
        form.managed.data = "、".join(user.departments_managed)
        form.locale.data = user.locale or ""
    if form.validate_on_submit():
        if user.id == current_user.id and form.role.data != Role.HR.value:
            cast(list[str], form.role.errors).append(_("不能取消自己的人事角色。"))
        else:
            result = services.edit_employee(
                user,
                name=cast(str, form.name.data),
                department=cast(str, form.department.data),
                position=form.position.data or "",
                hire_date=form.hire_date.data,
                email=form.email.data or "",
                role=Role(form.role.data),
                managed=form.managed_departments(),
                locale=form.locale.data or None,
                actor=_actor(),
            )
            db.session.commit()
            if not result.changes:
                flash(_("没有修改任何内容。"), "info")
            else:
                labels = services.field_labels()
                flash(
                    _(
                        "已保存：%(fields)s。",
                        fields=importer.join_words([labels[key] for key in result.changes]),
                    ),
                    "success",
                )
            if result.due_moved:
                old, new = result.due_moved
                flash(
                    _(
                        "入职日期改了，培训截止日期随之从 %(old)s 改为 %(new)s。",
                        old=old.isoformat(),
                        new=new.isoformat(),
                    ),
                    "info",
                )
            return _back_to(user)
    return render_template(
        "employees/edit.html", form=form, employee=user, departments=services.departments()
    )


@bp.route("/<int:user_id>/links", methods=["POST"])
@hr_required
def issue_link(user_id: int):
    """Issue a reset link (a setup link if the employee never had a password) and show it once."""
    user = db.get_or_404(User, user_id)
    require_action_form()
    if not user.active:
        flash(_("账号已停用，请先恢复账号再发放链接。"), "error")
        return _back_to(user)
    purpose, token = services.issue_password_link(user, actor=_actor())
    db.session.commit()
    return render_template(
        "employees/link.html",
        employee=user,
        url=links.link_url(token),
        purpose=purpose,
        created=False,
        employee_url=_employee_url(user),
    )


@bp.route("/<int:user_id>/deactivate", methods=["GET", "POST"])
@hr_required
def deactivate(user_id: int):
    """Deactivate an employee: sessions end at once, unused links are revoked, records stay.

    GET asks for confirmation and says what will happen; the POST does it.
    """
    user = db.get_or_404(User, user_id)
    if request.method == "GET":
        return render_template(
            "employees/deactivate.html",
            employee=user,
            pending_links=links.pending_count(user),
            queued=services.queued_notifications(user),
        )
    require_action_form()
    # Built before the commit, so nothing reloads the user (and reopens a transaction) after it.
    back = _back_to(user)
    if user.id == current_user.id:
        flash(_("不能停用自己的账号。"), "error")
    elif not user.active:
        flash(_("该账号已是停用状态。"), "info")
    else:
        done = _("已停用 %(name)s（%(no)s）。", name=user.name, no=user.employee_no)
        services.deactivate(user, actor=_actor())
        db.session.commit()
        flash(done, "success")
    return back


@bp.route("/<int:user_id>/reactivate", methods=["POST"])
@hr_required
def reactivate(user_id: int):
    """Let a deactivated employee log in again."""
    user = db.get_or_404(User, user_id)
    require_action_form()
    back = _back_to(user)
    if user.active:
        flash(_("该账号未停用。"), "info")
    else:
        done = _("已恢复 %(name)s（%(no)s）。", name=user.name, no=user.employee_no)
        # Worded before the commit, so nothing reloads the user afterwards.
        hint = _(
            "停用时所有未使用的密码链接都已作废。员工如需设置或重置密码，请点下方“%(button)s”。",
            button=_("发放重置密码链接") if user.password_hash else _("发放设置密码链接"),
        )
        services.reactivate(user, actor=_actor())
        db.session.commit()
        flash(done, "success")
        flash(hint, "info")
    return back


@bp.route("/<int:user_id>/assign", methods=["POST"])
@hr_required
def assign(user_id: int):
    """Assign or re-assign the course to one employee with a due date."""
    user = db.get_or_404(User, user_id)
    back = _back_to(user)
    form = forms.AssignForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        _flash_form_errors(form)
    elif not user.active:
        flash(_("账号已停用，不能分配培训。"), "error")
    else:
        due_date = cast(date, form.due_date.data)  # DataRequired: a date once validated
        services.assign_employee(user, due_date, actor=_actor())
        db.session.commit()
        flash(_("已分配培训，截止日期 %(date)s。", date=due_date.isoformat()), "success")
    return back


@bp.route("/assign-department", methods=["GET", "POST"])
@hr_required
def assign_department():
    """Assign the course to every active employee of a department."""
    form = forms.DepartmentAssignForm()
    counts = services.departments()
    form.department.choices = choices(
        [("", _("请选择部门"))]
        + [(name, _("%(name)s（%(count)d 人）", name=name, count=count)) for name, count in counts]
    )
    if form.validate_on_submit():
        due_date = cast(date, form.due_date.data)  # DataRequired: a date once validated
        count = services.assign_department(form.department.data, due_date, actor=_actor())
        db.session.commit()
        flash(
            _(
                "已为 %(department)s 的 %(count)d 名员工分配培训，截止日期 %(date)s。",
                department=form.department.data,
                count=count,
                date=due_date.isoformat(),
            ),
            "success",
        )
        return redirect(url_for("employees.assign_department"))
    return render_template("employees/assign_department.html", form=form)


# Import: upload → preview (nothing written) → confirm (all or nothing).

# The preview lists this many new and changed employees each, and this many problems: a
# 100,000-row file gets its counts and every problem's count, not a page of 100,000 rows.
PREVIEW_ROWS = 200
PREVIEW_PROBLEMS = 500


def _check_upload(upload: uploads.StoredUpload):
    """Parse and validate a stored upload against the current database."""
    return import_jobs.check_import(upload.data, upload.filename, current_user)


def _policy(value: str | None) -> str:
    return value if value in POLICIES else current_app.config["ONBOARDING_DUE_POLICY"]


def _preview(
    upload: uploads.StoredUpload,
    *,
    status: int = 200,
    changed: bool = False,
    policy: str | None = None,
):
    table, problems, import_plan = _check_upload(upload)
    policy = _policy(policy)
    confirm = None
    due_dates: dict[str, date] = {}
    today = company_today()
    if import_plan is not None:
        # formdata=None: after a stale confirmation the new fingerprint must win over the posted one.
        confirm = forms.ImportConfirmForm(
            formdata=None,
            upload_id=upload.upload_id,
            fingerprint=import_plan.fingerprint(),
            policy=policy,
        )
        due_dates = {
            record.employee_no: default_due_date(record.hire_date, today, policy)
            for record in import_plan.new
            if (record.role or Role.LEARNER.value) == Role.LEARNER.value
        }
    return render_template(
        "employees/import_preview.html",
        upload=upload,
        table=table,
        problems=problems,
        plan=import_plan,
        confirm=confirm,
        changed=changed,
        field_labels=services.field_labels(),
        role_labels=importer.ROLE_LABELS,
        locale_labels=dict(forms.LOCALE_CHOICES),  # "" (not chosen) and each language
        policy=policy,
        due_dates=due_dates,
        late=sum(1 for due in due_dates.values() if due < today),
        today=today,
        shown_rows=PREVIEW_ROWS,
        shown_problems=PREVIEW_PROBLEMS,
    ), status


@bp.route("/import/<upload_id>/preview")
@hr_required
def import_preview(upload_id: str):
    """Show the preview again, with due dates under the chosen rule (``?policy=grace``)."""
    upload = uploads.load(upload_id, current_user.id)
    if upload is None:
        flash(_("预览已过期（超过一小时）或已导入，请重新上传文件。"), "error")
        return redirect(url_for("employees.import_upload"))
    return _preview(upload, policy=request.args.get("policy"))


@bp.route("/import", methods=["GET", "POST"])
@hr_required
def import_upload():
    """Upload an employee list and preview every row's problems and the changes."""
    form = forms.ImportUploadForm()
    if form.validate_on_submit():
        max_bytes = current_app.config["IMPORT_MAX_BYTES"]
        data = form.file.data.read(max_bytes + 1)
        filename = (form.file.data.filename or "")[:255]
        if len(data) > max_bytes:
            form.file.errors.append(
                _("文件超过 %(mb)d MB 的大小限制，请分批导入。", mb=max_bytes // (1024 * 1024))
            )
        elif not data.strip():
            form.file.errors.append(_("文件是空的。"))
        else:
            upload = uploads.store(data, filename, current_user.id)
            db.session.commit()  # kept before the preview: any app host can confirm it
            with reads_first():  # parsing and checking: no SQLite write lock held meanwhile
                return _preview(upload)
    return render_template("employees/import_upload.html", form=form)


@bp.route("/import/confirm", methods=["POST"])
@hr_required
def import_confirm():
    """Re-check the previewed upload against the database and write it in one transaction."""
    form = forms.ImportConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    # Parsing and checking a large file again takes seconds: on SQLite, without holding the
    # write lock (other employees' writes go on); the job checks it once more anyway.
    with reads_first():
        # DataRequired: the id is text once the form validates.
        upload = uploads.load(cast(str, form.upload_id.data), current_user.id)
        if upload is None:
            flash(_("预览已过期（超过一小时）或已导入，请重新上传文件。"), "error")
            return redirect(url_for("employees.import_upload"))
        _table, problems, import_plan = _check_upload(upload)
        policy = _policy(form.policy.data)
        if import_plan is None:
            flash(_("预览之后数据发生了变化，文件中有问题，未导入任何数据。"), "error")
            return _preview(upload, status=409, policy=policy)
        fingerprint = import_plan.fingerprint()
        if fingerprint != form.fingerprint.data:
            flash(_("预览之后数据发生了变化，请核对新的预览后再次确认。"), "warning")
            return _preview(upload, status=409, changed=True, policy=policy)
    # Two confirms at once queue one job: its key is the upload's.
    job = import_jobs.enqueue_import(
        upload.data,
        upload_id=upload.upload_id,
        filename=upload.filename,
        sha256=upload.sha256,
        fingerprint=fingerprint,
        policy=policy,
        actor=current_user,
    )
    uploads.delete(upload.upload_id)  # in the job's transaction: a second confirm finds none
    db.session.commit()
    # The import runs outside this request (or, with JOBS_RUN = "inline", right here).
    runner.start(current_app._get_current_object())  # type: ignore[attr-defined]
    return redirect(url_for("jobs.show", job_id=job.id))


@bp.app_template_filter("isodatetime")
def isodatetime(value: str | None) -> datetime | None:
    """Turn a time kept in a job's JSON result (ISO 8601) back into a datetime."""
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


@bp.route("/import/jobs/<int:job_id>/links", methods=["POST"])
@hr_required
def import_job_links(job_id: int):
    """Issue and show, once, the set-password links of the accounts an import job created."""
    require_action_form()
    job = db.session.get(Job, job_id, with_for_update=True)  # one hand-over at a time
    if job is None or job.kind != import_jobs.KIND:
        abort(404)
    if job.state != JobState.DONE or job.result is None:
        abort(409)
    if job.created_by != current_user.id:
        # The one display of the links belongs to whoever ran the import: another HR user
        # must not use it up (they issue a person's link on the employee page instead).
        flash(
            _(
                "只有发起这次导入的%(who)s可以生成并显示新账号的链接。"
                "如需为某位员工发放链接，请在员工页面为个人发放。",
                who=job.creator.name if job.creator else _("命令行"),
            ),
            "error",
        )
        return redirect(url_for("jobs.show", job_id=job.id))
    if job.result.get("links_issued_at"):
        flash(
            _("这次导入的链接已经显示过一次。如需新的链接，请在员工页面为个人重新发放。"),
            "warning",
        )
        return redirect(url_for("jobs.show", job_id=job.id))
    issued = import_jobs.issue_links(job, actor=_actor())
    job.result = {**job.result, "links_issued_by": current_user.name}
    db.session.commit()
    accounts = [(no, name, links.link_url(token)) for no, name, token in issued]
    return render_template(
        "employees/import_done.html",
        result=job.result,
        accounts=accounts,
        mailed=job.result.get("mailed", 0),
    )


@bp.route("/import/links.xlsx", methods=["POST"])
@hr_required
def import_links_xlsx():
    """Turn the new accounts' links on the import page into an XLSX file.

    The links are never stored: the page posts back what it shows, and this builds the file
    from it, so the download works without keeping a usable token anywhere on the server.
    """
    require_action_form()
    try:
        rows = services.parse_link_rows(request.form.get("accounts", ""))
    except ValueError as error:
        flash(str(error), "error")
        return redirect(url_for("employees.import_upload"))
    data = services.links_workbook(rows)
    record_download(len(rows))
    db.session.commit()
    return send_file(
        io.BytesIO(data),
        mimetype=XLSX_MIMETYPE,
        as_attachment=True,
        download_name=f"new-accounts-{company_today().isoformat()}.xlsx",
    )


def record_download(count: int) -> None:
    audit.record(
        "export",
        N_("下载新账号的设置密码链接（%(count)s 人）"),
        params={"count": count},
        details={"what": "password_links", "format": "xlsx", "rows": count},
    )
