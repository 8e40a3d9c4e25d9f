"""HR pages for question banks: export, blank template, upload → preview → publish."""

from __future__ import annotations

import io

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from training.audit.services import record
from training.auth.decorators import hr_required
from training.auth.models import User
from training.banks import cli as bank_cli
from training.banks import formats, forms, services
from training.banks.models import BankPublication
from training.db import company_today
from training.extensions import db
from training.forms import choices
from training.i18n import N_
from training.logs import security_event

bp = Blueprint("banks", __name__, url_prefix="/hr/content/banks", template_folder="templates")

FORMAT_LABELS = {"xlsx": "Excel", "yaml": "YAML", "gift": "GIFT", "moodle": "Moodle XML"}
HISTORY = 20


def _upload_form(lessons) -> forms.BankUploadForm:
    form = forms.BankUploadForm()
    form.lesson.choices = choices(
        [(lesson.number, f"{lesson.number} {lesson.title}") for lesson in lessons]
    )
    return form


@bp.route("/", methods=["GET", "POST"])
@hr_required
def index():
    """Every lesson's bank in force, where it comes from, exports, and the upload form."""
    lessons = services.active_lessons()
    form = _upload_form(lessons)
    if form.validate_on_submit():
        max_bytes = formats.MAX_BYTES
        data = form.file.data.read(max_bytes + 1)
        filename = (form.file.data.filename or "")[:255]
        fmt = formats.guess_format(filename)
        if len(data) > max_bytes:
            form.file.errors.append(_("文件超过 %(mb)d MB，不是一课的题库。", mb=max_bytes >> 20))
        elif not data.strip():
            form.file.errors.append(_("文件是空的。"))
        elif fmt is None:
            form.file.errors.append(
                _("无法识别文件格式：请上传 .xlsx、.yaml、.gift/.txt 或 .xml 文件。")
            )
        else:
            draft = services.store_draft(current_user, form.lesson.data, fmt, filename, data)
            db.session.commit()
            return redirect(url_for("banks.preview", token=draft.token))
    counts = {
        lesson_id: len(questions)
        for lesson_id, questions in services.questions_in_force(lessons).items()
    }
    publications = services.latest_publications()
    history = list(
        db.session.scalars(
            select(BankPublication).order_by(BankPublication.id.desc()).limit(HISTORY)
        )
    )
    actor_ids = {p.actor_id for p in [*publications.values(), *history] if p.actor_id}
    actors = (
        {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(actor_ids)))}
        if actor_ids
        else {}
    )
    return render_template(
        "banks/index.html",
        lessons=lessons,
        counts=counts,
        publications=publications,
        history=history,
        actors=actors,
        form=form,
        formats=FORMAT_LABELS,
    ), (400 if form.errors else 200)


@bp.route("/export.<any(xlsx, yaml, gift, moodle):fmt>")
@bp.route("/<lesson>/export.<any(xlsx, yaml, gift, moodle):fmt>")
@hr_required
def export(fmt: str, lesson: str | None = None):
    """Download one lesson's bank in force, or every lesson's, in a format."""
    lessons = services.active_lessons()
    if lesson is not None:
        lessons = [item for item in lessons if item.number == lesson]
        if not lessons:
            abort(404)
    data = services.export_file(fmt, lessons)
    security_event("export", what="bank", format=fmt, lesson=lesson or "all")
    summary, params = bank_cli.export_summary(FORMAT_LABELS[fmt], lesson)
    record(
        "export",
        summary,
        params=params,
        details={"what": "bank", "format": fmt, "lesson": lesson or "all"},
    )
    db.session.commit()
    name = f"bank-{lesson or 'all'}-{company_today().isoformat()}.{formats.EXTENSIONS[fmt]}"
    return send_file(
        io.BytesIO(data),
        mimetype=formats.MIMETYPES[fmt],
        as_attachment=True,
        download_name=name,
    )


@bp.route("/scorm.zip")
@hr_required
def scorm_package():
    """The course as a SCORM 1.2 package for the company's LMS."""
    data = bank_cli.scorm_package()
    security_event("export", what="scorm", format="zip")
    record("export", N_("导出 SCORM 1.2 课程包"), details={"what": "scorm", "format": "zip"})
    db.session.commit()
    return send_file(
        io.BytesIO(data),
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"service-norm-scorm12-{company_today().isoformat()}.zip",
    )


@bp.route("/template.xlsx")
@hr_required
def template():
    """The blank XLSX template with its instructions."""
    return send_file(
        io.BytesIO(formats.blank_template()),
        mimetype=formats.MIMETYPES["xlsx"],
        as_attachment=True,
        download_name="bank-template.xlsx",
    )


def _draft(token: str):
    draft = services.load_draft(token, current_user)
    if draft is None:
        abort(404)
    return draft


@bp.route("/drafts/<token>")
@hr_required
def preview(token: str):
    """What publishing the uploaded file would change, and every problem with its place."""
    draft = _draft(token)
    result = services.preview_import(draft.lesson, draft.data, draft.filename, draft.file_format)
    form = forms.BankPublishForm(base=result.base_digest)
    return render_template(
        "banks/preview.html", draft=draft, preview=result, form=form, formats=FORMAT_LABELS
    )


@bp.route("/drafts/<token>", methods=["POST"])
@hr_required
def publish(token: str):
    """Publish the previewed file: all or nothing, once, against the bank that was previewed."""
    form = forms.BankPublishForm()
    if not form.validate_on_submit():
        abort(400)
    draft = services.load_draft(token, current_user)
    if draft is None:
        flash(_("这份预览已发布或已过期，请重新上传文件。"), "error")
        return redirect(url_for("banks.index"))
    result = services.preview_import(draft.lesson, draft.data, draft.filename, draft.file_format)
    if not result.ok:
        flash(_("文件有问题，未发布任何内容。"), "error")
        return redirect(url_for("banks.preview", token=token))
    if not result.changes_anything:
        flash(_("文件与现行题库相同，无需发布。"), "info")
        return redirect(url_for("banks.preview", token=token))
    if not services.consume_draft(draft):
        db.session.rollback()
        flash(_("这份预览已发布，请勿重复提交。"), "error")
        return redirect(url_for("banks.index"))
    try:
        row = services.publish(result, actor=current_user, expected_base=form.base.data)
    except services.PublishRefused as refused:
        db.session.rollback()  # the draft stays: the new preview shows the bank in force now
        flash(str(refused), "error")
        return redirect(url_for("banks.preview", token=token))
    db.session.commit()
    current_app.logger.info("bank %s published as %s", row.lesson, row.id)
    flash(
        _(
            "已发布第 %(lesson)s 课题库：新增 %(added)d 题，修改 %(changed)d 题，停用 %(retired)d 题。",
            lesson=row.lesson,
            added=len(result.added),
            changed=len(result.changed),
            retired=len(result.retired),
        ),
        "success",
    )
    return redirect(url_for("banks.index"))
