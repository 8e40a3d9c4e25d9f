"""Course outline, lesson pages and read acknowledgements."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from training.assignments.services import current_assignments
from training.course.certificates import certificate_for, recertify_days, validity
from training.course.completion import progress_for
from training.course.lessons import lesson_in_force, lesson_list, stamp_of
from training.course.models import Lesson
from training.course.versions import fill_effective_date
from training.db import company_today
from training.extensions import db
from training.lessons import services

bp = Blueprint("lessons", __name__, template_folder="templates")


@bp.app_template_filter("lesson_html")
def lesson_html(lesson: Any) -> Markup:
    """The lesson's stored HTML, with the version's effective date in the norm's blank date."""
    return Markup(fill_effective_date(lesson.body_html, lesson.version_id))  # noqa: S704


def _get_lesson(number: str) -> Lesson:
    lesson = lesson_in_force(number)
    if lesson is None:
        abort(404)
    return lesson


@bp.route("/")
def home():
    """Show the course outline by chapter with the learner's status per lesson."""
    progress = progress_for(current_user.id)
    assignment = current_assignments([current_user.id]).get(current_user.id)
    today = company_today()
    certificate = certificate_for(current_user.id) if progress.completed else None
    return render_template(
        "lessons/home.html",
        chapters=services.group_by_chapter(progress.lessons),
        progress=progress,
        next_lesson=progress.next_lesson(),
        certificate=certificate,
        validity=validity(certificate, today) if certificate and recertify_days() else None,
        assignment=assignment,
        today=today,
        days_late=(today - assignment.due_date).days if assignment else 0,
    )


@bp.route("/lessons/<number>")
def lesson(number: str):
    """Show one lesson and the acknowledgement button.

    One query besides the session's: the lesson with the learner's read and pass of it and
    the lesson list's stamp (the list itself is cached).
    """
    lesson = services.lesson_page(current_user.id, number)
    if lesson is None:
        abort(404)
    lessons = lesson_list(stamp=stamp_of(lesson))
    index = next((i for i, item in enumerate(lessons) if item.id == lesson.id), None)
    if index is None:  # retired by a revision published a moment ago
        abort(404)
    return render_template(
        "lessons/lesson.html",
        lesson=lesson,
        read_at=lesson.read_at,
        completed=lesson.read_at is not None and lesson.passed,
        previous=lessons[index - 1] if index > 0 else None,
        following=lessons[index + 1] if index + 1 < len(lessons) else None,
    )


@bp.route("/lessons/<number>/read", methods=["POST"])
def acknowledge(number: str):
    """Record that the learner read this version of the lesson (once, however often posted)."""
    lesson = _get_lesson(number)
    # A plain form (CSRFProtect checks its token before this view runs): the hash shown.
    lesson_hash = request.form.get("lesson_hash", "")
    if len(lesson_hash) != 64:
        abort(400)
    if lesson_hash != lesson.content_hash:
        flash(_("这一课的内容已更新，请重新阅读后再确认。"), "warning")
        return redirect(url_for("lessons.lesson", number=number))
    first = services.record_read(current_user.id, lesson)
    db.session.commit()
    if first:
        flash(_("已记录：您已阅读《%(title)s》。", title=lesson.title), "success")
    return redirect(url_for("lessons.lesson", number=number))
