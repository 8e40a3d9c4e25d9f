"""Taking a lesson's quiz, its result, and the course certificate."""

from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from training.auth.decorators import hr_required
from training.auth.models import User
from training.content.text import unwrap
from training.course.certificates import (
    certificate_for,
    latest_certificate,
    normalise_code,
    recertify_days,
    validity,
)
from training.course.completion import progress_for, read_event
from training.course.lessons import clause_lessons, lesson_in_force
from training.course.models import (
    Certificate,
    CertificateRenewal,
    Lesson,
    NormVersion,
    QuizAttempt,
)
from training.course.versions import current_norm_version
from training.db import reads_first_view, write_phase
from training.extensions import db
from training.quizzes import forms, grading, services

bp = Blueprint("quizzes", __name__, template_folder="templates")


# Question texts are wrapped in the bank files; shown joined (every page that shows questions
# uses the macros of quizzes/_question.html, whatever blueprint renders it).
bp.add_app_template_filter(unwrap, "unwrap")


@bp.app_template_global()
def pass_rule(pass_mark: str, total: int) -> str:
    """Say the pass mark in questions: "需答对 5 题中的 4 题(80%)"."""
    return _(
        "需答对 %(total)s 题中的 %(needed)s 题（%(percent)s%%）",
        total=total,
        needed=grading.required_correct(pass_mark, total),
        percent=grading.mark_percent(pass_mark),
    )


def _lesson(number: str) -> Lesson:
    lesson = lesson_in_force(number)
    if lesson is None:
        abort(404)
    return lesson


def _own_attempt(attempt_id: int) -> QuizAttempt:
    """Return the current user's attempt with its submission (one query); another user's is
    answered as not found."""
    attempt = db.session.get(QuizAttempt, attempt_id, options=[joinedload(QuizAttempt.submission)])
    if attempt is None or attempt.user_id != current_user.id:
        abort(404)
    return attempt


def _limit_reached():
    flash(_("本课测验的作答次数已用完，请联系人事行政部。"), "error")


@bp.route("/lessons/<number>/quiz", methods=["GET"])
def quiz_start(number: str):
    """Show the quiz's start page, or continue an attempt already started."""
    lesson = _lesson(number)
    attempt = services.open_attempt(current_user.id, lesson)
    if attempt is not None:
        return redirect(url_for("quizzes.attempt", attempt_id=attempt.id))
    return render_template(
        "quizzes/start.html",
        lesson=lesson,
        question_count=services.graded_question_count(lesson),
        quiz_size=current_app.config["QUIZ_SIZE"],
        pass_mark=services.pass_mark_for(lesson),
        attempts_left=services.attempts_left(current_user.id, lesson),
        has_read=read_event(current_user.id, lesson) is not None,
    )


@bp.route("/lessons/<number>/quiz", methods=["POST"])
@reads_first_view
def quiz_new(number: str):
    """Start a new attempt with a fresh random draw.

    The draw is made from what a read transaction found; the write lock is taken only to
    check that the lesson and the attempt limit still allow it and to store it.
    """
    lesson = _lesson(number)
    try:
        prepared = services.prepare_attempt(current_user.id, lesson)
    except LookupError:
        abort(404)
    user_id, lesson_id, content_hash = current_user.id, lesson.id, lesson.content_hash
    with write_phase():
        if not services.lesson_unchanged(lesson_id, content_hash):
            return redirect(url_for("quizzes.quiz_start", number=number))  # a revision came
        if current_app.config.get("QUIZ_MAX_ATTEMPTS"):
            # With a limit, one open attempt at a time: tabs cannot stockpile draws.
            services.lock_learner(user_id)
            existing = services.open_attempt(user_id, lesson)
            if existing is not None:
                return redirect(url_for("quizzes.attempt", attempt_id=existing.id))
            if services.attempts_left(user_id, lesson) == 0:
                _limit_reached()
                return redirect(url_for("quizzes.quiz_start", number=number))
        attempt_id = services.record_attempt(prepared)
    return redirect(url_for("quizzes.attempt", attempt_id=attempt_id))


@bp.route("/quiz/<int:attempt_id>", methods=["GET", "POST"])
@reads_first_view
def attempt(attempt_id: int):
    """Show the attempt's questions and record the answers exactly once.

    Answers are graded from what a read transaction found; the write lock is taken only to
    record them (the unique submission per attempt makes a second POST record nothing).
    """
    attempt = _own_attempt(attempt_id)
    if attempt.submission is not None:
        return redirect(url_for("quizzes.result", attempt_id=attempt.id))
    shown = services.shown_questions(attempt)
    chosen: dict[str, list[str]] = {}
    missing: list[int] = []
    invalid_order: list[int] = []
    if request.method == "POST":
        try:
            parsed = forms.parse_answers(request.form, shown)
        except forms.TamperedForm:
            abort(400)
        if parsed.complete:
            graded = services.grade_answers(attempt, parsed.answers)
            lesson_id = attempt.lesson_id
            try:
                with write_phase():
                    services.record_submission(attempt, graded)
            except services.AttemptLimitReached:
                _limit_reached()
                number = db.session.get_one(Lesson, lesson_id).number
                return redirect(url_for("quizzes.quiz_start", number=number))
            return redirect(url_for("quizzes.result", attempt_id=attempt_id))
        chosen, missing, invalid_order = parsed.chosen, parsed.unanswered, parsed.invalid_order
    status = 422 if missing or invalid_order else 200
    return render_template(
        "quizzes/attempt.html",
        attempt=attempt,
        lesson=attempt.lesson,
        shown=shown,
        chosen=chosen,
        missing=set(missing),
        invalid_order=set(invalid_order),
    ), status


@bp.route("/quiz/<int:attempt_id>/result")
def result(attempt_id: int):
    """Show the score, pass or fail, and every question with its feedback and clauses."""
    attempt = _own_attempt(attempt_id)
    if attempt.submission is None:
        return redirect(url_for("quizzes.attempt", attempt_id=attempt.id))
    grade = services.grade_submission(attempt)
    shown = services.shown_questions(attempt)
    progress = progress_for(current_user.id) if attempt.submission.passed else None
    return render_template(
        "quizzes/result.html",
        next_lesson=progress.next_lesson() if progress else None,
        course_done=bool(progress and progress.completed),
        attempt=attempt,
        lesson=attempt.lesson,
        submission=attempt.submission,
        shown=shown,
        results={r.question_id: r for r in grade.per_question},
        clause_lesson=clause_lessons(c for item in shown for c in item.question.cites),
        attempts_left=services.attempts_left(current_user.id, attempt.lesson),
        is_current=attempt.lesson_hash == attempt.lesson.content_hash,
    )


@bp.route("/certificate")
def certificate():
    """Show the learner's course certificate, printable on one A4 page."""
    return render_template("quizzes/certificate.html", **_certificate_context())


def _certificate_context() -> dict:
    version = current_norm_version()
    certificate = certificate_for(current_user.id) or latest_certificate(current_user.id)
    label = None
    if certificate is not None:
        label = db.session.scalar(
            select(NormVersion.label).where(NormVersion.source_sha256 == certificate.source_sha256)
        )
    return {
        "certificate": certificate,
        "validity": validity(certificate) if certificate and recertify_days() else None,
        "superseded": bool(
            certificate and version and certificate.source_sha256 != version.source_sha256
        ),
        "progress": progress_for(current_user.id),
        "version": version,
        "version_label": label,
        "user": current_user,
    }


@bp.route("/certificate.pdf")
def certificate_pdf():
    """The certificate as a PDF of one A4 page (WeasyPrint), to keep or send from a phone."""
    context = _certificate_context()
    if context["certificate"] is None:
        abort(404)
    try:
        from weasyprint import CSS, HTML
    except OSError:  # Pango is missing on this server
        abort(503, description=_("PDF 生成组件不可用"))
    html = render_template("quizzes/certificate_pdf.html", **context)
    style = Path(current_app.static_folder or "", "css", "app.css")
    pdf = HTML(string=html, base_url=request.url_root).write_pdf(
        stylesheets=[CSS(filename=str(style)), CSS(string="@page { size: A4; margin: 12mm; }")]
    )
    code = context["certificate"].code
    response = make_response(pdf)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="certificate-{code}.pdf"'
    return response


@bp.route("/hr/certificates/verify")
@hr_required
def verify_certificate():
    """Let HR check a certificate's verification code."""
    code = normalise_code(request.args.get("code") or "")
    found = None
    if code:
        # A certificate's own code, or the code of one of its renewals (复训).
        renewed = select(CertificateRenewal.certificate_id).where(CertificateRenewal.code == code)
        found = db.session.execute(
            select(Certificate, User)
            .join(User, User.id == Certificate.user_id)
            .where((Certificate.code == code) | Certificate.id.in_(renewed))
        ).first()
    version = current_norm_version()
    return render_template(
        "quizzes/verify.html",
        code=code,
        found=found,
        validity=validity(found.Certificate) if found and recertify_days() else None,
        is_current=bool(
            found and version and found.Certificate.source_sha256 == version.source_sha256
        ),
    )
