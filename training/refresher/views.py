"""The refresher pages: why and when it is due, the quiz, the result and the renewed certificate."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from training.course.lessons import clause_lessons
from training.extensions import db
from training.forms import require_action_form
from training.quizzes import forms as quiz_forms
from training.refresher import services
from training.refresher.models import RefresherAttempt

bp = Blueprint("refresher", __name__, url_prefix="/refresher", template_folder="templates")


def _own(attempt_id: int) -> RefresherAttempt:
    attempt = db.session.get(RefresherAttempt, attempt_id)
    if attempt is None or attempt.user_id != current_user.id:
        abort(404)
    return attempt


@bp.route("/")
def index():
    """Say whether the certificate is expiring or expired, and offer the refresher."""
    current = services.due_validity(current_user.id)
    if current is None:
        abort(404)
    return render_template(
        "refresher/index.html",
        validity=current,
        may_start=current.state != "valid",
        open_attempt=services.open_attempt(current_user.id),
    )


@bp.route("/start", methods=["POST"])
def start():
    """Start the refresher (or continue the one already started)."""
    require_action_form()
    existing = services.open_attempt(current_user.id)
    if existing is not None:
        return redirect(url_for("refresher.attempt", refresher_id=existing.id))
    due = services.needs_refresher(current_user.id)
    if due is None:
        abort(404)
    try:
        attempt_id = services.start(current_user.id, due).id
    except LookupError:
        abort(404)
    db.session.commit()
    return redirect(url_for("refresher.attempt", refresher_id=attempt_id))


@bp.route("/<int:refresher_id>", methods=["GET", "POST"])
def attempt(refresher_id: int):
    """Show the refresher's questions and record the answers exactly once."""
    attempt = _own(refresher_id)
    if attempt.submission is not None:
        return redirect(url_for("refresher.result", refresher_id=attempt.id))
    shown = services.shown(attempt)
    chosen: dict[str, list[str]] = {}
    missing: list[int] = []
    invalid_order: list[int] = []
    if request.method == "POST":
        try:
            parsed = quiz_forms.parse_answers(request.form, shown)
        except quiz_forms.TamperedForm:
            abort(400)
        if parsed.complete:
            services.submit(attempt, parsed.answers)
            db.session.commit()
            return redirect(url_for("refresher.result", refresher_id=refresher_id))
        chosen, missing, invalid_order = parsed.chosen, parsed.unanswered, parsed.invalid_order
    return render_template(
        "refresher/attempt.html",
        attempt=attempt,
        shown=shown,
        chosen=chosen,
        missing=set(missing),
        invalid_order=set(invalid_order),
    ), 422 if missing or invalid_order else 200


@bp.route("/<int:refresher_id>/result")
def result(refresher_id: int):
    """Show the score, each question with its feedback, and the renewed certificate."""
    attempt = _own(refresher_id)
    if attempt.submission is None:
        return redirect(url_for("refresher.attempt", refresher_id=attempt.id))
    shown = services.shown(attempt)
    grade = services.grade(attempt, attempt.submission.answers)
    current = services.due_validity(current_user.id)
    return render_template(
        "refresher/result.html",
        attempt=attempt,
        submission=attempt.submission,
        shown=shown,
        results={r.question_id: r for r in grade.per_question},
        clause_lesson=clause_lessons(c for item in shown for c in item.question.cites),
        validity=current,
        reasons=attempt.reasons,
        title=_("复训测验"),
    )
