"""Draw a quiz from a bank and grade the answers to it (pure, no Flask, no database)."""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from training.quizzes.items import Bank, Question

DEFAULT_PASS_MARK = 0.8


class StaleDrawError(ValueError):
    """The draw refers to a question or option the current bank no longer has."""


@dataclass(frozen=True)
class DrawnQuestion:
    """One question of a draw with its option keys in display order."""

    question_id: str
    option_keys: tuple[str, ...]


@dataclass(frozen=True)
class Draw:
    """The questions shown to a learner, reproducible from the bank and the seed."""

    seed: int
    questions: tuple[DrawnQuestion, ...]

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready form for storing the draw with an attempt."""
        return {
            "seed": self.seed,
            "questions": [
                {"id": q.question_id, "options": list(q.option_keys)} for q in self.questions
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Draw:
        """Rebuild a draw stored with ``as_dict``; raise ValueError when it is malformed."""
        try:
            questions = tuple(
                DrawnQuestion(str(q["id"]), tuple(str(k) for k in q["options"]))
                for q in data["questions"]
            )
            return cls(seed=int(data["seed"]), questions=questions)
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a stored draw: {exc}") from exc


@dataclass(frozen=True)
class QuestionResult:
    """How one drawn question was answered."""

    question_id: str
    chosen: tuple[str, ...]
    correct_keys: tuple[str, ...]
    is_correct: bool


@dataclass(frozen=True)
class Grade:
    """The result of an attempt; ``score`` is an exact fraction in [0, 1]."""

    score: Fraction
    correct_count: int
    total: int
    per_question: tuple[QuestionResult, ...]


# On a retry at most this share of the questions may repeat the previous attempt's.
RETRY_OVERLAP = Fraction(2, 5)


def make_draw(
    bank: Bank,
    rng_seed: int,
    size: int = 5,
    *,
    history: Sequence[Sequence[str]] = (),
    focus: Collection[str] = (),
) -> Draw:
    """Pick up to ``size`` distinct questions and shuffle their options, determined by the seed.

    ``history`` lists the question ids of the learner's earlier draws of this bank, oldest
    first. Questions they have seen least come first; at most ``RETRY_OVERLAP`` of the
    draw repeats the previous attempt, and a set drawn before is not drawn again, as long
    as the bank holds enough other questions.

    ``focus`` names questions drawn before all others (those on the clauses a revision
    changed, for a learner retraining): as many as fit, shown first, exempt from the
    retry rules; the rest of the draw is filled as usual. Without it the draw is exactly
    what it would be without the parameter.
    """
    if size < 1:
        raise ValueError("a draw needs at least one question")
    rng = random.Random(rng_seed)  # noqa: S311 - reproducible draws, not secrets
    count = min(size, len(bank.questions))
    seen = Counter(qid for earlier in history for qid in earlier)
    last = set(history[-1]) if history else set()
    focus = frozenset(focus)
    # One rng call per question, in bank order, with or without focus.
    ranked = sorted(bank.questions, key=lambda q: (q.id not in focus, seen[q.id], rng.random()))
    cap = math.floor(RETRY_OVERLAP * count)
    picked: list[Question] = []
    deferred: list[Question] = []
    for question in ranked:
        if len(picked) == count:
            break
        if (
            question.id in last
            and question.id not in focus
            and sum(q.id in last for q in picked) >= cap
        ):
            deferred.append(question)
        else:
            picked.append(question)
    picked.extend(deferred[: count - len(picked)])
    picked = _avoid_earlier_sets(picked, ranked, [frozenset(e) for e in history], cap, focus)
    rng.shuffle(picked)
    picked.sort(key=lambda q: q.id not in focus)  # stable: focus first, each part shuffled
    return Draw(seed=rng_seed, questions=tuple(_draw_one(q, rng) for q in picked))


def _avoid_earlier_sets(
    picked: list[Question],
    ranked: list[Question],
    earlier: list[frozenset[str]],
    cap: int,
    keep: frozenset[str] = frozenset(),
) -> list[Question]:
    """Swap in the next-ranked questions until the set differs from every earlier draw.

    A swap that keeps the overlap with the previous draw within ``cap`` is preferred;
    questions in ``keep`` are never swapped out.
    """
    if frozenset(q.id for q in picked) not in earlier:
        return picked
    last = earlier[-1]
    spare = [q for q in ranked if q not in picked]
    fallback = None
    for slot in range(len(picked) - 1, -1, -1):
        if picked[slot].id in keep:
            continue
        for candidate in spare:
            trial = [*picked[:slot], candidate, *picked[slot + 1 :]]
            ids = frozenset(q.id for q in trial)
            if ids in earlier:
                continue
            if len(ids & last) <= cap:
                return trial
            fallback = fallback or trial
    return fallback or picked  # without a fallback the bank is too small for a new set


def _draw_one(question: Question, rng: random.Random) -> DrawnQuestion:
    """Return the question with its options in display order."""
    keys = [o.key for o in question.options]
    if question.kind == "truefalse":
        # 正确 before 错误 always; shuffling two fixed labels only confuses.
        return DrawnQuestion(question.id, tuple(keys))
    correct = list(keys)
    rng.shuffle(keys)
    if question.kind == "order" and keys == correct:
        # Showing the steps already in order would give the answer away.
        keys = keys[1:] + keys[:1]
    return DrawnQuestion(question.id, tuple(keys))


def grade(
    draw: Draw,
    questions_by_id: Mapping[str, Question],
    answers: Mapping[str, Sequence[str]],
) -> Grade:
    """Grade answers against a draw: one key, a set of keys (all or nothing) or a full order."""
    results = []
    for drawn in draw.questions:
        question = _current(drawn, questions_by_id)
        chosen = tuple(answers.get(drawn.question_id, ()))
        expected = question.correct_keys()
        if question.kind == "multiple":
            is_correct = len(set(chosen)) == len(chosen) and set(chosen) == set(expected)
        else:
            # single/truefalse have one correct key; order compares the whole sequence.
            is_correct = chosen == expected
        results.append(QuestionResult(drawn.question_id, chosen, expected, is_correct))
    total = len(results)
    correct_count = sum(1 for r in results if r.is_correct)
    score = Fraction(correct_count, total) if total else Fraction(0)
    return Grade(score, correct_count, total, tuple(results))


def passed(grade: Grade, pass_mark: float | Fraction | str = DEFAULT_PASS_MARK) -> bool:
    """Return True when the score reaches the pass mark; exactly at the mark passes."""
    mark = _mark(pass_mark)
    if not 0 <= mark <= 1:
        raise ValueError(f"pass mark must be between 0 and 1, not {pass_mark}")
    return grade.total > 0 and grade.score >= mark


def _mark(pass_mark: float | Fraction | str) -> Fraction:
    return pass_mark if isinstance(pass_mark, Fraction) else Fraction(str(pass_mark))


def required_correct(pass_mark: float | Fraction | str, total: int) -> int:
    """Return how many of ``total`` questions must be right to reach the pass mark."""
    return math.ceil(_mark(pass_mark) * total)


def mark_percent(pass_mark: float | Fraction | str) -> int:
    """Return the pass mark as a whole percentage, rounded half up ("4/5" gives 80)."""
    return math.floor(_mark(pass_mark) * 100 + Fraction(1, 2))


def validate_answers(
    draw: Draw,
    answers: Mapping[str, Sequence[str]],
    questions_by_id: Mapping[str, Question] | None = None,
) -> list[str]:
    """List what is wrong with submitted answers; empty means they fit the draw.

    Unknown questions or option keys, repeated keys and unanswered questions are
    always reported; with ``questions_by_id`` the number of keys per kind is checked too.
    """
    problems: list[str] = []
    drawn_by_id = {q.question_id: q for q in draw.questions}
    for qid in answers:
        if qid not in drawn_by_id:
            problems.append(f"answer for a question not in the draw: {qid!r}")
    for drawn in draw.questions:
        qid = drawn.question_id
        chosen = answers.get(qid)
        if isinstance(chosen, str | bytes) or (
            chosen and not all(isinstance(k, str) for k in chosen)
        ):
            problems.append(f"{qid}: answer must be a list of option keys")
            continue
        if not chosen:
            problems.append(f"unanswered: {qid}")
            continue
        unknown = [k for k in chosen if k not in drawn.option_keys]
        if unknown:
            problems.append(f"{qid}: option keys not in the draw: {', '.join(map(repr, unknown))}")
        if len(set(chosen)) != len(chosen):
            problems.append(f"{qid}: an option is chosen twice")
        question = questions_by_id.get(qid) if questions_by_id is not None else None
        if question is None:
            continue
        if question.kind in ("single", "truefalse") and len(chosen) != 1:
            problems.append(f"{qid}: choose exactly one option, got {len(chosen)}")
        elif question.kind == "order" and len(chosen) != len(drawn.option_keys):
            problems.append(f"{qid}: put all {len(drawn.option_keys)} steps in order")
    return problems


def _current(drawn: DrawnQuestion, questions_by_id: Mapping[str, Question]) -> Question:
    """Return the bank's question for a drawn one, or raise StaleDrawError if it changed."""
    question = questions_by_id.get(drawn.question_id)
    if question is None:
        raise StaleDrawError(f"question {drawn.question_id!r} is no longer in the bank")
    if sorted(drawn.option_keys) != sorted(o.key for o in question.options):
        raise StaleDrawError(f"the options of {drawn.question_id!r} changed since the draw")
    return question
