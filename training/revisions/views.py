"""HR pages for norm versions: import, preview, publish, per-version report, items to review."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import cast

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from training.audit.services import record
from training.auth.decorators import hr_required
from training.course.lessons import active_lessons
from training.course.models import Certificate, LessonArchive, NormVersion
from training.course.versions import current_norm_version
from training.db import company_today, writes
from training.employees import uploads
from training.extensions import db
from training.forms import require_action_form
from training.i18n import N_
from training.logs import security_event
from training.norm.diff import render_html
from training.norm.model import NormParseError
from training.quizzes import holds
from training.quizzes.models import ReviewDecision
from training.reports.columns import Column, company_zone
from training.reports.export import MIMETYPES
from training.revisions import schedule, services
from training.revisions.forms import PublishForm, QuestionReviewForm, RevisionUploadForm
from training.revisions.publishing import RevisionBlocked, publish_revision
from training.sheets import write_csv, write_xlsx

bp = Blueprint("revisions", __name__, url_prefix="/hr/norm", template_folder="templates")
schedule.register(bp)


@bp.app_template_global()
def render_marks(segments):
    """Render inline change marks (escaped text in <ins>/<del>)."""
    return render_html(segments)


@bp.route("/")
@hr_required
def index():
    """List the norm's versions with completion counts."""
    versions = db.session.scalars(
        select(NormVersion).order_by(
            NormVersion.published_at.desc().nulls_first(), NormVersion.id.desc()
        )
    ).all()
    certificates = dict(
        db.session.execute(
            select(Certificate.source_sha256, func.count()).group_by(Certificate.source_sha256)
        )
        .tuples()
        .all()
    )
    current = current_norm_version()
    retrain = services.retrain_rows()
    return render_template(
        "revisions/index.html",
        versions=versions,
        certificates=certificates,
        current=current,
        retrain_count=sum(1 for row in retrain if row.state == "retrain"),
        overdue_count=sum(1 for row in retrain if row.state == "overdue"),
        review_count=holds.pending_count(),
        scheduled=schedule.scheduled_version(),
    )


@bp.route("/import", methods=["GET", "POST"])
@hr_required
def upload():
    """Upload a revised norm; nothing changes until it is published."""
    form = RevisionUploadForm()
    if form.validate_on_submit():
        # DataRequired: the label is text and the date a date once the form validates.
        label = cast(str, form.label.data)
        effective = cast(date, form.effective.data)
        data = form.file.data.read(current_app.config["IMPORT_MAX_BYTES"] + 1)
        if len(data) > current_app.config["IMPORT_MAX_BYTES"]:
            form.file.errors.append(_("文件过大。"))
        else:
            filename = Path(form.file.data.filename or "upload").name
            try:
                services.plan_for_upload(data, filename, label, effective)
            except NormParseError as error:
                form.file.errors.append(_("无法识别这份规范：%(error)s", error=str(error)))
            else:
                stored = uploads.store(data, filename, current_user.id)
                db.session.commit()
                return redirect(
                    url_for(
                        "revisions.preview",
                        upload_id=stored.upload_id,
                        label=label,
                        effective=effective.isoformat(),
                    )
                )
    return render_template("revisions/upload.html", form=form), 422 if form.errors else 200


def _stored_plan(upload_id: str, label: str, effective_text: str):
    stored = uploads.load(upload_id, current_user.id)
    if stored is None:
        abort(404)
    try:
        effective = date.fromisoformat(effective_text)
    except ValueError:
        abort(400)
    if not 2000 <= effective.year <= 2999:
        abort(400)
    if not label or len(label) > 100:
        abort(400)
    try:
        return stored, services.plan_for_upload(stored.data, stored.filename, label, effective)
    except NormParseError:
        abort(400)


@bp.route("/import/<upload_id>")
@hr_required
def preview(upload_id: str):
    """Show, section by section, what the revision adds, removes, renumbers and changes."""
    label = request.args.get("label", "")
    effective = request.args.get("effective", "")
    stored, plan = _stored_plan(upload_id, label, effective)
    current = current_norm_version()
    form = PublishForm(label=label, effective=effective, base=str(current.id) if current else "")
    return render_template(
        "revisions/preview.html",
        plan=plan,
        form=form,
        upload_id=upload_id,
        today=company_today(),
    )


@bp.route("/import/<upload_id>/publish", methods=["POST"])
@hr_required
def publish(upload_id: str):
    """Publish a previewed revision."""
    form = PublishForm()
    if not form.validate_on_submit():
        abort(400)
    current = current_norm_version()
    if (form.base.data or "") != (str(current.id) if current else ""):
        flash(_("在您预览之后又有新版本发布了，请查看新的预览后再确认。"), "warning")
        return redirect(
            url_for(
                "revisions.preview",
                upload_id=upload_id,
                label=form.label.data,
                effective=form.effective.data,
            )
        )
    # DataRequired: both hidden fields hold text once the form validates.
    stored, plan = _stored_plan(
        upload_id, cast(str, form.label.data), cast(str, form.effective.data)
    )
    back = url_for(
        "revisions.preview",
        upload_id=upload_id,
        label=form.label.data,
        effective=form.effective.data,
    )
    editorial, problems = _editorial_decisions(plan)
    if problems:
        for problem in problems:
            flash(problem, "error")
        return redirect(back)
    actor = current_user._get_current_object()
    try:
        if plan.effective_date > company_today():
            version = schedule.schedule_revision(plan, editorial=editorial, actor=actor)
            uploads.delete(upload_id)  # with the work, so a second click finds nothing
            db.session.commit()
        else:
            report = publish_revision(plan, actor=actor, editorial=editorial)
            uploads.delete(upload_id)
            db.session.commit()
    except IntegrityError:
        db.session.rollback()
        flash(_("发布未完成：这份规范刚刚已被发布过。"), "error")
        return redirect(url_for("revisions.index"))
    except RevisionBlocked as blocked:
        db.session.rollback()
        for problem in blocked.problems:
            flash(problem, "error")
        flash(_("发布被阻止：请先处理预览页列出的问题。"), "error")
        return redirect(back)
    if plan.effective_date > company_today():
        flash(
            _(
                "已预约「%(label)s」于 %(date)s 生效。在此之前，现行版本的课程、测验和证书都不变；"
                "生效当天自动发布并通知需复训的员工。",
                label=version.label,
                date=plan.effective_date.isoformat(),
            ),
            "success",
        )
        return redirect(url_for("revisions.index"))
    flash(
        _(
            "已发布「%(label)s」：%(lessons)s 课内容有变化，%(editorial)s 课仅措辞修改，"
            "%(users)s 人需复训。",
            label=plan.label,
            lessons=len(report.lessons.superseded),
            editorial=len(report.lessons.editorial),
            users=report.retrain_users,
        ),
        "success",
    )
    return redirect(url_for("revisions.index"))


def _editorial_decisions(plan) -> tuple[dict[str, str], list[str]]:
    """Read HR's choice per changed lesson: material (the default) or editorial with a reason."""
    editorial: dict[str, str] = {}
    problems: list[str] = []
    for number in plan.supersedes:
        choice = request.form.get(f"change-{number}", "material")
        if choice not in ("material", "editorial"):
            abort(400)
        if choice == "editorial":
            reason = request.form.get(f"reason-{number}", "").strip()
            if not reason:
                problems.append(_("第 %(n)s 课选择了“仅措辞修改”，请写明理由。", n=number))
            elif len(reason) > 500:
                problems.append(_("第 %(n)s 课的理由请控制在 500 字以内。", n=number))
            editorial[number] = reason
    return editorial, problems


@bp.route("/versions/<int:version_id>/cancel", methods=["POST"])
@hr_required
def cancel_scheduled(version_id: int):
    """Withdraw a scheduled revision before its effective date."""
    version = db.get_or_404(NormVersion, version_id)
    require_action_form()
    label = version.label
    if schedule.cancel_scheduled(version, actor=current_user._get_current_object()):
        db.session.commit()
        flash(_("已取消预约的版本「%(label)s」，现行版本继续有效。", label=label), "success")
    else:
        flash(_("这个版本不是待生效状态，无法取消。"), "error")
    return redirect(url_for("revisions.index"))


@bp.route("/review")
@hr_required
def review():
    """Show questions held after a revision beside the old and new text of their clauses."""
    current = current_norm_version()
    items = holds.held_items(current)
    lessons = active_lessons()
    drawable = holds.drawable_counts(lesson.id for lesson in lessons)
    short = [
        (lesson, drawable[lesson.id])
        for lesson in lessons
        if drawable[lesson.id] < current_app.config["QUIZ_SIZE"]
    ]
    return render_template(
        "revisions/review.html",
        items=items,
        current=current,
        form=QuestionReviewForm(),
        short=short,
        quiz_size=current_app.config["QUIZ_SIZE"],
        pending=sum(1 for item in items if item.state == holds.PENDING),
    )


@bp.route("/review/<int:hold_id>", methods=["POST"])
@hr_required
def review_decide(hold_id: int):
    """Keep a held question (still correct) or withdraw it; effective at once, audited."""
    form = QuestionReviewForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        hold = holds.review_hold(
            hold_id,
            ReviewDecision(cast(str, form.decision.data)),  # DataRequired and AnyOf: text
            actor=current_user._get_current_object(),
            note=form.note.data or "",
            current=current_norm_version(),
        )
    except LookupError:
        abort(404)
    except holds.ReviewRefused as refused:
        db.session.rollback()
        flash(str(refused), "error")
        return redirect(url_for("revisions.review") + f"#hold-{hold_id}")
    db.session.commit()
    if form.decision.data == "keep":
        flash(_("已确认该题仍然正确，即刻恢复抽题。"), "success")
    else:
        flash(_("已撤下该题，今后测验和练习不再抽到。"), "success")
    return redirect(url_for("revisions.review") + f"#hold-{hold.id}")


def _version(version_id: int) -> NormVersion:
    version = db.session.get(NormVersion, version_id)
    if version is None:
        abort(404)
    return version


def _version_rows(version: NormVersion):
    rows = services.completed_rows(version)
    current = current_norm_version()
    if current is not None and current.id == version.id:
        rows += services.retrain_rows()
    return rows


@bp.route("/versions/<int:version_id>")
@hr_required
def version_detail(version_id: int):
    """Show who completed a version, and for the version in force who must retrain."""
    version = _version(version_id)
    archived = db.session.scalars(
        select(LessonArchive)
        .where(LessonArchive.version_id == version.id)
        .order_by(LessonArchive.position)
    ).all()
    return render_template(
        "revisions/version.html",
        version=version,
        rows=_version_rows(version),
        archived=archived,
        is_current=(current_norm_version() or version).id == version.id,
    )


@bp.route("/versions/<int:version_id>/export.<any(csv, xlsx):fmt>")
@hr_required
@writes
def version_export(version_id: int, fmt: str):
    """Export a version report as CSV (UTF-8 with BOM) or XLSX, with the report's columns."""
    version = _version(version_id)
    rows = _version_rows(version)
    labels = {"completed": _("已完成"), "retrain": _("需复训"), "overdue": _("已逾期")}
    zone = company_zone()
    columns = [
        Column(key, label, get, zone)
        for key, label, get in (
            ("employee_no", _("工号"), lambda r: r.user.employee_no),
            ("name", _("姓名"), lambda r: r.user.name),
            ("department", _("部门"), lambda r: r.user.department),
            ("state", _("状态"), lambda r: labels[r.state]),
            ("lessons", _("需复训课程"), lambda r: " ".join(r.lessons)),
            ("due_date", _("截止日期"), lambda r: r.due_date),
        )
    ]
    if fmt == "xlsx":
        out = io.BytesIO()
        count = write_xlsx(columns, rows, out, _("规范版本完成情况"))
        body: bytes | str = out.getvalue()
    else:
        text = io.StringIO()
        count = write_csv(columns, rows, text)
        body = text.getvalue()
    security_event("export", what="norm_version", format=fmt, rows=count)
    record(
        "export",
        N_("导出规范版本「%(label)s」完成情况，%(rows)s 行"),
        params={"label": version.label, "rows": count},
        details={
            "what": "norm_version",
            "format": fmt,
            "version": version.source_sha256,
            "rows": count,
        },
    )
    db.session.commit()
    filename = f"norm-version-{version.source_sha256[:12]}.{fmt}"
    return Response(
        body,
        mimetype=MIMETYPES[fmt],
        headers={"Content-Disposition": f"attachment; filename={filename}"},
    )


@bp.route("/versions/<int:version_id>/lessons/<number>")
@hr_required
def archived_lesson(version_id: int, number: str):
    """Show a lesson as it read in a superseded version (read-only)."""
    archive = db.session.scalar(
        select(LessonArchive).where(
            LessonArchive.version_id == version_id, LessonArchive.number == number
        )
    )
    if archive is None:
        abort(404)
    return render_template(
        "revisions/archived_lesson.html", archive=archive, version=_version(version_id)
    )
