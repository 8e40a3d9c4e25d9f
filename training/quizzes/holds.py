"""Questions held back after a revision changes a clause they cite, and HR's review of them.

Publishing a revision holds every authored question that cites a clause the revision
changed, removed or renumbered (generated items are rebuilt from the new text and need
no review). A held question is left out of quiz and practice draws until HR marks it
still correct, or withdraws it for good; a bank in the repository can also carry
``reviewed_for: <digest>`` for teams that review in git. Holds and decisions are
insert-only; ``QuizQuestion.withheld`` is derived from them by ``refresh_withheld``.
Services here flush; the caller commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from training.audit.services import record
from training.auth.models import User
from training.course.models import Lesson, NormVersion
from training.course.signals import questions_changed
from training.course.versions import previous_version_of
from training.db import insert_ignoring_duplicates, utcnow
from training.extensions import db
from training.i18n import N_
from training.norm.marks import mark_changes, render_html
from training.norm.model import NormDocument
from training.norm.parse import parse_bytes
from training.quizzes.items import Question, question_from_dict
from training.quizzes.models import QuestionHold, QuestionReview, QuizQuestion, ReviewDecision

PENDING = "pending"
KEPT = "kept"
KEPT_IN_REPOSITORY = "kept_in_repository"
WITHDRAWN = "withdrawn"


class ReviewRefused(ValueError):
    """The decision cannot be taken; the message says why, in the reader's language."""


def affected_clauses(question: Mapping[str, Any], changes: Mapping[str, Any]) -> list[dict]:
    """Return the question's cited clauses that a version's ``changes`` touch, and how."""
    changed = set(changes.get("changed", ()))
    removed = set(changes.get("removed", ()))
    moved: Mapping[str, str] = changes.get("renumbered", {})
    found = []
    for clause in question.get("cites", ()):
        if clause in removed:
            found.append({"clause": clause, "change": "removed", "new_number": None})
        elif clause in changed:
            found.append({"clause": clause, "change": "changed", "new_number": moved.get(clause)})
        elif clause in moved:
            found.append({"clause": clause, "change": "renumbered", "new_number": moved[clause]})
    return found


def hold_questions(version: NormVersion) -> list[str]:
    """Hold every active authored question citing a clause ``version`` changed; return ids."""
    if not version.changes:
        return []
    held = []
    rows = db.session.scalars(
        select(QuizQuestion).where(QuizQuestion.active.is_(True), QuizQuestion.generated.is_(False))
    )
    for row in rows:
        clauses = affected_clauses(row.data, version.changes)
        if clauses and insert_ignoring_duplicates(
            QuestionHold, qid=row.qid, version_id=version.id, clauses=clauses, created_at=utcnow()
        ):
            held.append(row.qid)
    refresh_withheld()
    return held


def _latest_decisions() -> dict[int, ReviewDecision]:
    latest = select(func.max(QuestionReview.id)).group_by(QuestionReview.hold_id)
    rows = db.session.execute(
        select(QuestionReview.hold_id, QuestionReview.decision).where(QuestionReview.id.in_(latest))
    )
    return {hold_id: ReviewDecision(decision) for hold_id, decision in rows}


def hold_state(decision: ReviewDecision | None, reviewed_for: str, version_sha: str) -> str:
    """Return pending, kept, kept_in_repository or withdrawn for one hold."""
    if decision is ReviewDecision.WITHDRAW:
        return WITHDRAWN
    if decision is ReviewDecision.KEEP:
        return KEPT
    if reviewed_for and version_sha.startswith(reviewed_for):
        return KEPT_IN_REPOSITORY
    return PENDING


def _hold_states() -> tuple[dict[str, list[str]], list[QuizQuestion]]:
    """Return each question's hold states by id, and the questions (three statements)."""
    decisions = _latest_decisions()
    holds: dict[str, list[tuple[int, str]]] = {}
    for hold_id, qid, sha in db.session.execute(
        select(QuestionHold.id, QuestionHold.qid, NormVersion.source_sha256).join(
            NormVersion, NormVersion.id == QuestionHold.version_id
        )
    ):
        holds.setdefault(qid, []).append((hold_id, sha))
    rows = list(db.session.scalars(select(QuizQuestion)))
    states = {
        row.qid: [
            hold_state(decisions.get(hold_id), str(row.data.get("reviewed_for") or ""), sha)
            for hold_id, sha in holds.get(row.qid, ())
        ]
        for row in rows
    }
    return states, rows


def question_states() -> dict[str, str]:
    """Return "pending" or "withdrawn" for each question that is held back, by id."""
    states, _rows = _hold_states()
    found = {}
    for qid, held in states.items():
        if WITHDRAWN in held:
            found[qid] = WITHDRAWN
        elif PENDING in held:
            found[qid] = PENDING
    return found


def refresh_withheld() -> int:
    """Recompute ``QuizQuestion.withheld`` from holds and decisions; return rows changed.

    Three statements whatever the number of questions, then one UPDATE per change.
    """
    states, rows = _hold_states()
    changed = 0
    for row in rows:
        withheld = any(state in (PENDING, WITHDRAWN) for state in states[row.qid])
        if row.withheld != withheld:
            row.withheld = withheld
            changed += 1
    db.session.flush()
    if changed:
        questions_changed.send(None)
    return changed


def pending_count() -> int:
    """Return how many holds on questions in the banks await a decision."""
    states, rows = _hold_states()
    return sum(states[row.qid].count(PENDING) for row in rows if row.active)


# --- HR's review page ------------------------------------------------------------------------


@dataclass(frozen=True)
class ClauseChange:
    """One cited clause as it read before and after the revision, changes marked."""

    clause: str
    change: str  # changed, removed, renumbered
    new_number: str | None
    html: str  # <ins>/<del> marked text (escaped)
    exists_now: bool


@dataclass(frozen=True)
class HeldItem:
    """A held question with what changed in the clauses it cites and its review state."""

    hold: QuestionHold
    version: NormVersion
    question: Question
    lesson_number: str | None
    active: bool
    state: str
    decided_by: str | None
    decided_at: datetime | None
    note: str
    clauses: tuple[ClauseChange, ...]

    @property
    def can_keep(self) -> bool:
        """A question may be kept only while every clause it cites still exists."""
        return all(c.exists_now for c in self.clauses)


@lru_cache(maxsize=16)
def _clause_texts(source_sha256: str, data: bytes) -> dict[str, str]:
    doc: NormDocument = parse_bytes(data, filename="version")
    return {s.number: f"{s.title}{s.body}" for s in doc.walk()}


def _texts(version: NormVersion | None) -> dict[str, str]:
    if version is None or not version.source_bytes:
        return {}
    return _clause_texts(version.source_sha256, version.source_bytes)


def held_items(current: NormVersion | None) -> list[HeldItem]:
    """Return every hold, pending ones first, each with the marked text of its clauses."""
    decisions = _latest_reviews()
    rows = db.session.execute(
        select(QuestionHold, NormVersion, QuizQuestion, Lesson.number)
        .join(NormVersion, NormVersion.id == QuestionHold.version_id)
        .join(QuizQuestion, QuizQuestion.qid == QuestionHold.qid)
        .join(Lesson, Lesson.id == QuizQuestion.lesson_id)
        .order_by(QuestionHold.id)
    ).all()
    now_texts = _texts(current)
    items = []
    previous: dict[int, NormVersion | None] = {}
    for hold, version, row, lesson_number in rows:
        if version.id not in previous:
            previous[version.id] = previous_version_of(version)
        old_texts, new_texts = _texts(previous[version.id]), _texts(version)
        review = decisions.get(hold.id)
        question = question_from_dict(row.data)
        state = hold_state(
            ReviewDecision(review.decision) if review else None,
            question.reviewed_for,
            version.source_sha256,
        )
        clauses = []
        for entry in hold.clauses:
            old_number, new_number = entry["clause"], entry.get("new_number")
            target = new_number or (None if entry["change"] == "removed" else old_number)
            html = render_html(
                mark_changes(old_texts.get(old_number, ""), new_texts.get(target or "", ""))
            )
            clauses.append(
                ClauseChange(
                    old_number,
                    entry["change"],
                    new_number,
                    str(html),
                    old_number in now_texts and entry["change"] != "removed",
                )
            )
        items.append(
            HeldItem(
                hold=hold,
                version=version,
                question=question,
                lesson_number=lesson_number,
                active=row.active,
                state=state,
                decided_by=review.reviewer.name if review and review.reviewer else None,
                decided_at=review.created_at if review else None,
                note=review.note if review else "",
                clauses=tuple(clauses),
            )
        )
    items.sort(key=lambda item: (item.state != PENDING, -item.hold.id))
    return items


@dataclass(frozen=True)
class _Review:
    decision: str
    note: str
    created_at: datetime
    reviewer: User | None


def _latest_reviews() -> dict[int, _Review]:
    latest = select(func.max(QuestionReview.id)).group_by(QuestionReview.hold_id)
    rows = db.session.execute(
        select(QuestionReview, User)
        .outerjoin(User, User.id == QuestionReview.reviewer_id)
        .where(QuestionReview.id.in_(latest))
    )
    return {
        review.hold_id: _Review(review.decision, review.note, review.created_at, user)
        for review, user in rows
    }


def review_hold(
    hold_id: int, decision: ReviewDecision, *, actor: User, note: str = "", current=None
) -> QuestionHold:
    """Record HR's decision on a hold, audited, effective at once (flush; the caller commits)."""
    hold = db.session.get(QuestionHold, hold_id)
    if hold is None:
        raise LookupError(hold_id)
    item = next((i for i in held_items(current) if i.hold.id == hold_id), None)
    if item is None:
        raise LookupError(hold_id)
    if decision is ReviewDecision.KEEP and not item.can_keep:
        raise ReviewRefused(
            _("该题引用的条款在当前版本中已不存在，只能撤下；请在题库中改正引用后重新导入。")
        )
    db.session.add(
        QuestionReview(
            hold_id=hold.id,
            decision=decision.value,
            note=note.strip(),
            reviewer_id=actor.id,
            created_at=utcnow(),
        )
    )
    db.session.flush()
    refresh_withheld()
    keep = decision is ReviewDecision.KEEP
    record(
        "question.keep" if keep else "question.withdraw",
        N_(
            "复核题目「%(question)s」：确认仍然正确（第 %(lesson)s 课，"
            "因规范版本「%(version)s」修改了所引条款）"
        )
        if keep
        else N_(
            "复核题目「%(question)s」：撤下（第 %(lesson)s 课，"
            "因规范版本「%(version)s」修改了所引条款）"
        ),
        params={
            "question": item.question.title(),
            "lesson": item.lesson_number,
            "version": item.version.label or item.version.short_sha,
        },
        actor=actor,
        details={
            "question": hold.qid,
            "hold": hold.id,
            "version": item.version.source_sha256,
            "decision": decision.value,
            "note": note.strip(),
            "clauses": [c.clause for c in item.clauses],
        },
    )
    return hold


def drawable_counts(lesson_ids: Iterable[int]) -> dict[int, int]:
    """Return how many questions each lesson can draw now (one query)."""
    ids = list(lesson_ids)
    if not ids:
        return {}
    counts = dict(
        db.session.execute(
            select(QuizQuestion.lesson_id, func.count())
            .where(QuizQuestion.lesson_id.in_(ids), QuizQuestion.drawable())
            .group_by(QuizQuestion.lesson_id)
        )
        .tuples()
        .all()
    )
    return {lesson_id: counts.get(lesson_id, 0) for lesson_id in ids}
