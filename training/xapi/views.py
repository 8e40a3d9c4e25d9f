"""HR's page for the learning-record feed: is it configured, what is queued, sent, failed;
push now; queue again what gave up."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from training.auth.decorators import hr_required
from training.db import write_transaction
from training.forms import require_action_form
from training.xapi import feed

bp = Blueprint("xapi", __name__, url_prefix="/hr/xapi", template_folder="templates")

PAGE_ROUNDS = 2  # batches per source a click reads; the timer (`flask xapi push`) does the rest


@bp.route("/")
@hr_required
def index():
    """The feed's state."""
    return render_template("xapi/index.html", state=feed.status(), enabled=feed.enabled())


@bp.route("/push", methods=["POST"])
@hr_required
def push():
    """Queue the statements of new evidence and send what is due, now."""
    require_action_form()
    if not feed.enabled():
        flash(_("没有配置学习记录库（XAPI_ENDPOINT），无法推送。"), "error")
        return redirect(url_for("xapi.index"))
    report = feed.push(rounds=PAGE_ROUNDS)
    if report.errors:
        flash(
            _(
                "新加入 %(queued)s 条，送达 %(sent)s 条，%(failed)s 条未送达（稍后自动重试）：%(error)s",
                queued=report.queued,
                sent=report.sent,
                failed=report.failed + report.gave_up,
                error=report.errors[0].split(": ", 1)[-1],
            ),
            "error",
        )
    else:
        flash(
            _("新加入 %(queued)s 条，送达 %(sent)s 条。", queued=report.queued, sent=report.sent),
            "success",
        )
    return redirect(url_for("xapi.index"))


@bp.route("/retry", methods=["POST"])
@hr_required
def retry():
    """Queue again every statement whose attempts gave up."""
    require_action_form()
    with write_transaction():
        count = feed.retry_given_up(current_user)
    if count:
        flash(_("已重新排队 %(count)s 条学习记录。", count=count), "success")
    else:
        flash(_("没有需要重新推送的学习记录。"), "info")
    return redirect(url_for("xapi.index"))
