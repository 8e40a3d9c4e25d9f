"""Practice pages: today's set, by chapter, weak spots, one question at a time; HR aggregates.

Learner pages read and write only the current user's rows; no route takes a
user id. HR sees aggregates only.
"""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from training.auth.decorators import hr_required
from training.course.lessons import active_lessons, clause_lessons
from training.db import utcnow
from training.extensions import db
from training.practice import forms, services, store
from training.practice.rounds import Round
from training.quizzes import grading
from training.quizzes.models import QuizQuestion
from training.quizzes.services import ShownQuestion

bp = Blueprint("practice", __name__, url_prefix="/practice", template_folder="templates")

SESSION_KEY = "practice_round"
WEAK_CLAUSES_SHOWN = 5
WEAK_CLAUSES_PRACTISED = 3
STATS_WEEKS = 12
# Time on a question longer than this is a learner who walked away, not answering.
MAX_DURATION_MS = 30 * 60 * 1000


def _scheduler():
    return store.practice_scheduler()


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def _size() -> int:
    return current_app.config["PRACTICE_DAILY_SIZE"]


def _round() -> Round | None:
    return Round.from_dict(session.get(SESSION_KEY))


def _save(practice_round: Round) -> None:
    session[SESSION_KEY] = practice_round.as_dict()


def _begin(mode: str, queue: list[int], now: datetime, chapter: str | None = None):
    if not queue:
        flash(_("暂时没有可练习的题目。"), "info")
        return redirect(url_for("practice.index"))
    practice_round = Round.start(mode, queue, now, chapter=chapter)
    _save(practice_round)
    session.pop("practice_shown_at", None)
    return redirect(url_for("practice.question", question_id=queue[0]))


def _clause_links(cites) -> dict[str, str]:
    return {
        clause: url_for("lessons.lesson", number=target) + f"#s-{clause}"
        for clause, target in clause_lessons(cites).items()
        if target
    }


@bp.route("/")
def index():
    """Show today's set, mastery and due counts per chapter, and weak spots."""
    now = utcnow()
    day_end = services.end_of_local_day(now, _zone())
    lessons = active_lessons()
    read = store.practised_lessons(current_user.id)
    available = store.available_questions(current_user.id, read)
    per_lesson = store.standings(current_user.id, available, _scheduler(), now, day_end)
    chapters = store.chapter_standings(lessons, read, per_lesson)
    today = store.daily_queue(current_user.id, available, day_end, _size())
    due_today = sum(s.due_today for s in per_lesson.values())
    weak = services.weak_clauses(store.own_clause_scores(current_user.id), WEAK_CLAUSES_SHOWN)
    return render_template(
        "practice/index.html",
        chapters=chapters,
        read=read,
        available_count=len(available),
        today_count=len(today),
        due_today=due_today,
        weak=weak,
        clause_links=_clause_links([s.clause for s in weak]),
        current_round=_round(),
    )


@bp.route("/today", methods=["POST"])
def start_today():
    """Start today's set: due questions first, then a few new ones."""
    now = utcnow()
    available = store.available_questions(current_user.id)
    day_end = services.end_of_local_day(now, _zone())
    return _begin("daily", store.daily_queue(current_user.id, available, day_end, _size()), now)


@bp.route("/chapter/<number>")
def chapter(number: str):
    """Show a chapter's lessons with the learner's mastery and due counts."""
    now = utcnow()
    lessons = [lesson for lesson in active_lessons() if lesson.chapter_number == number]
    if not lessons:
        abort(404)
    read = store.practised_lessons(current_user.id)
    available = store.available_questions(current_user.id, read)
    day_end = services.end_of_local_day(now, _zone())
    per_lesson = store.standings(current_user.id, available, _scheduler(), now, day_end)
    (standing,) = store.chapter_standings(lessons, read, per_lesson)
    return render_template(
        "practice/chapter.html", chapter=standing, per_lesson=per_lesson, size=_size()
    )


@bp.route("/chapter/<number>", methods=["POST"])
def start_chapter(number: str):
    """Start a round over the chapter's questions, those most worth practising first."""
    now = utcnow()
    available = [
        a for a in store.available_questions(current_user.id) if a.lesson.chapter_number == number
    ]
    queue = store.focus_queue(current_user.id, available, _scheduler(), now, _size())
    return _begin("chapter", queue, now, chapter=number)


@bp.route("/weak", methods=["POST"])
def start_weak():
    """Start a round over questions citing the clauses the learner misses most."""
    now = utcnow()
    weak = services.weak_clauses(store.own_clause_scores(current_user.id), WEAK_CLAUSES_PRACTISED)
    queue = store.weak_queue(
        current_user.id,
        store.available_questions(current_user.id),
        [score.clause for score in weak],
        _scheduler(),
        now,
        _size(),
    )
    return _begin("weak", queue, now)


def _is_correct(shown: ShownQuestion, keys: list[str]) -> bool:
    question = shown.question
    draw = grading.Draw(
        0, (grading.DrawnQuestion(question.id, tuple(o.key for o in shown.options)),)
    )
    return grading.grade(draw, {question.id: question}, {question.id: keys}).correct_count == 1


def _round_question(question_id: int) -> tuple[Round, QuizQuestion] | None:
    """Return the round and the row if the question is in it and still the user's to practise."""
    practice_round = _round()
    if practice_round is None or question_id not in practice_round.queue:
        return None
    row = db.session.get(QuizQuestion, question_id)
    if row is None or not row.active or row.withheld:
        return None
    read_ids = {lesson.id for lesson in store.practised_lessons(current_user.id)}
    if row.lesson_id not in read_ids:
        return None
    return practice_round, row


@bp.route("/q/<int:question_id>", methods=["GET", "POST"])
def question(question_id: int):
    """Show one question of the round and record the answer once."""
    found = _round_question(question_id)
    if found is None:
        abort(400 if request.method == "POST" else 404)
    practice_round, row = found
    if question_id in practice_round.answered:
        return redirect(url_for("practice.feedback", question_id=question_id))
    shown = practice_round.shown(question_id, store.question_of(row))
    chosen: dict[str, list[str]] = {}
    incomplete = False
    if request.method == "POST":
        try:
            answer = forms.parse_practice_answer(request.form, shown, practice_round.token)
        except forms.TamperedForm:
            abort(400)
        if answer.complete:
            correct = _is_correct(shown, answer.keys)
            review = store.record_review(
                current_user.id,
                row,
                shown.question,
                answer=answer.keys,
                correct=correct,
                rating=services.rating_for(correct, answer.sure),
                scheduler=_scheduler(),
                since=practice_round.started,
                duration_ms=_duration_ms(question_id),
            )
            db.session.commit()
            practice_round.answered[question_id] = review.id
            _save(practice_round)
            return redirect(url_for("practice.feedback", question_id=question_id))
        chosen, incomplete = answer.parsed.chosen, True
    session["practice_shown_at"] = [question_id, int(time.time() * 1000)]
    return render_template(
        "practice/question.html",
        round=practice_round,
        item=shown,
        number=practice_round.position(question_id),
        chosen=chosen,
        incomplete=incomplete,
    ), 422 if incomplete else 200


def _duration_ms(question_id: int) -> int | None:
    shown_at = session.pop("practice_shown_at", None)
    if not shown_at or shown_at[0] != question_id:
        return None
    elapsed = int(time.time() * 1000) - int(shown_at[1])
    return elapsed if 0 <= elapsed <= MAX_DURATION_MS else None


@bp.route("/q/<int:question_id>/feedback")
def feedback(question_id: int):
    """Show whether the answer was right, the right answer, every option's feedback and clauses."""
    found = _round_question(question_id)
    if found is None:
        abort(404)
    practice_round, row = found
    review_id = practice_round.answered.get(question_id)
    if review_id is None:
        return redirect(url_for("practice.question", question_id=question_id))
    review = store.own_review(current_user.id, review_id)
    if review is None:
        abort(404)
    shown = practice_round.shown(question_id, store.question_of(row))
    next_id = practice_round.next_question()
    return render_template(
        "practice/feedback.html",
        round=practice_round,
        item=shown,
        number=practice_round.position(question_id),
        review=review,
        clause_lesson=clause_lessons(shown.question.cites),
        next_id=next_id,
    )


@bp.route("/done")
def done():
    """Summarise the round just finished."""
    practice_round = _round()
    if practice_round is None:
        return redirect(url_for("practice.index"))
    found = [store.own_review(current_user.id, rid) for rid in practice_round.answered.values()]
    reviews = [r for r in found if r is not None]
    return render_template(
        "practice/done.html",
        round=practice_round,
        answered=len(reviews),
        correct=sum(1 for r in reviews if r.correct),
        next_id=practice_round.next_question(),
    )


@bp.route("/stats")
@hr_required
def stats():
    """Show aggregate practice: active employees per ISO week and accuracy per clause."""
    stats = store.cached_practice_stats(utcnow(), _zone(), STATS_WEEKS)
    return render_template(
        "practice/stats.html",
        weeks=stats.weeks,
        clauses=stats.clauses,
        clause_links=_clause_links([c.clause for c in stats.clauses]),
    )
