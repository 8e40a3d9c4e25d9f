"""Test-taking cues in quiz banks: what lets a reader who never read the norm pass (pure).

The rules come from ``../shared/QUIZ-GUIDE.md`` and the assessment issue. Per item: options
parallel in punctuation, no option alone addressing the reader as "您" or naming the company in
full, ``multiple`` items with 2–4 correct of 4–6. Across the course: the key is the longest
option in at most 30 % of ``single`` items, true/false keys 40–60 % true, ``multiple`` items
varying their number of correct options, every lesson's bank at least twice the quiz size, and
every clause that states a rule or a fact cited by some item.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from training.norm.model import NormDocument, normalize_text
from training.quizzes.items import Question

COMPANY_NAME = "深圳市正运动技术有限公司"
KEY_LONGEST_MAX = 0.30
# The key may echo the cited clauses' wording more than every other option in at most this
# share of authored `single` items: otherwise "pick the option that sounds like the rulebook"
# wins.
KEY_NORM_CLOSEST_MAX = 0.40
TRUE_SHARE_RANGE = (0.40, 0.60)
MULTIPLE_OPTIONS_RANGE = (4, 6)
MULTIPLE_CORRECT_RANGE = (2, 4)
# One correct count may serve at most this share of `multiple` items.
MULTIPLE_SAME_COUNT_MAX = 0.60
# Shares are judged only once there are enough items for a share to mean anything.
MIN_FOR_SHARE = 5
BANK_SIZE_FACTOR = 2


@dataclass(frozen=True)
class Cue:
    """One rule an item or the course breaks; ``lesson`` and ``item`` are empty course-wide."""

    lesson: str
    item: str
    message: str

    def __str__(self) -> str:
        place = " ".join(part for part in (self.lesson, self.item) if part)
        return f"{place}: {self.message}" if place else self.message


@dataclass
class CueStats:
    """The figures the thresholds are judged on, as `flask content stats` prints them."""

    items: int = 0
    singles: int = 0
    key_longest: int = 0
    key_norm_closest: int = 0
    norm_judged: int = 0
    truefalse: int = 0
    truefalse_true: int = 0
    multiple_correct: Counter[int] = field(default_factory=Counter)
    per_lesson: dict[str, int] = field(default_factory=dict)
    quiz_size: int = 5
    uncited: list[str] = field(default_factory=list)
    cues: list[Cue] = field(default_factory=list)

    @property
    def key_longest_share(self) -> float:
        return self.key_longest / self.singles if self.singles else 0.0

    @property
    def key_norm_closest_share(self) -> float:
        return self.key_norm_closest / self.norm_judged if self.norm_judged else 0.0

    @property
    def true_share(self) -> float:
        return self.truefalse_true / self.truefalse if self.truefalse else 0.0

    def lines(self) -> list[str]:
        """Return the statistics as lines of text, thresholds beside each figure."""
        low, high = TRUE_SHARE_RANGE
        spread = ", ".join(
            f"{n} correct: {count}" for n, count in sorted(self.multiple_correct.items())
        )
        short = [
            f"{lesson} ({count})"
            for lesson, count in self.per_lesson.items()
            if count < BANK_SIZE_FACTOR * self.quiz_size
        ]
        return [
            f"items: {self.items}",
            f"key is the longest option: {self.key_longest} of {self.singles} single items "
            f"({self.key_longest_share:.0%}; at most {KEY_LONGEST_MAX:.0%})",
            f"key echoes the norm's wording most: {self.key_norm_closest} of {self.norm_judged} "
            f"single items ({self.key_norm_closest_share:.0%}; at most {KEY_NORM_CLOSEST_MAX:.0%})",
            f"true/false keyed true: {self.truefalse_true} of {self.truefalse} "
            f"({self.true_share:.0%}; {low:.0%}–{high:.0%})",
            f"multiple, by number of correct options: {spread or 'none'}",
            "graded items per lesson: "
            + ", ".join(f"{lesson} {count}" for lesson, count in self.per_lesson.items())
            + f" (at least {BANK_SIZE_FACTOR * self.quiz_size} each: "
            + (f"short: {', '.join(short)})" if short else "all met)"),
            "clauses never cited: " + (", ".join(self.uncited) if self.uncited else "none"),
        ]


def _fold(text: str) -> str:
    return normalize_text(text)


def _ending(text: str) -> str:
    """Return the option's closing punctuation ('' when it ends in a word)."""
    folded = _fold(text)
    end = ""
    for ch in reversed(folded):
        if unicodedata.category(ch).startswith("P") and ch not in "”’)）":
            end = ch + end
        else:
            break
    return end


def _visible_length(text: str) -> int:
    """Length without whitespace and punctuation, as a reader judges "the longest"."""
    return sum(1 for ch in _fold(text) if not unicodedata.category(ch).startswith("P"))


def key_is_longest(question: Question) -> bool:
    """Return True when the single correct option is strictly longer than every other."""
    lengths = [(_visible_length(o.text), o.correct) for o in question.options]
    correct = max((n for n, ok in lengths if ok), default=0)
    return any(ok for _, ok in lengths) and all(n < correct for n, ok in lengths if not ok)


def _bigrams(text: str) -> set[str]:
    chars = [ch for ch in _fold(text) if not unicodedata.category(ch).startswith("P")]
    return {a + b for a, b in zip(chars, chars[1:], strict=False)}


def key_echoes_norm(question: Question, clause_texts: Mapping[str, str]) -> bool | None:
    """Return True when the key shares strictly more of the cited clauses' wording than every
    other option (character pairs, as a share of the option's own); None if not judged."""
    norm = set().union(*(_bigrams(clause_texts.get(c, "")) for c in question.cites))
    if not norm or not any(o.correct for o in question.options):
        return None

    def echo(text: str) -> float:
        pairs = _bigrams(text)
        return len(pairs & norm) / len(pairs) if pairs else 0.0

    key = max(echo(o.text) for o in question.options if o.correct)
    return all(echo(o.text) < key for o in question.options if not o.correct)


def item_cues(question: Question) -> list[str]:
    """Return what gives this item away on its own, as messages (empty: none found)."""
    found: list[str] = []
    if question.kind not in ("single", "multiple"):
        return found
    texts = [o.text for o in question.options]
    endings = Counter(_ending(t) for t in texts)
    if len(endings) > 1:
        shown = ", ".join(f"{repr(end) if end else 'none'} ×{n}" for end, n in endings.items())
        found.append(f"options end in different punctuation ({shown}); make them parallel")
    for word, label in (("您", "“您”"), (COMPANY_NAME, "the company's full name")):
        having = [o for o in question.options if word in _fold(o.text)]
        if len(having) == 1 and len(texts) > 2:
            found.append(f"only one option uses {label}")
    if question.kind == "multiple":
        low, high = MULTIPLE_OPTIONS_RANGE
        if not low <= len(texts) <= high:
            found.append(f"a multiple item needs {low}–{high} options, has {len(texts)}")
        right = len(question.correct_keys())
        low, high = MULTIPLE_CORRECT_RANGE
        if not low <= right <= high:
            found.append(f"a multiple item needs {low}–{high} correct options, has {right}")
    return found


def clause_texts(doc: NormDocument) -> dict[str, str]:
    """Return each clause's own wording (title and body), by number."""
    return {s.number: f"{s.title}{s.body}" for s in doc.walk()}


def citable_clauses(doc: NormDocument) -> list[str]:
    """Return the clauses that state a rule or a fact: every leaf and every clause with text."""
    return [s.number for s in doc.walk() if not s.children or s.body.strip()]


def course_cues(
    by_lesson: Mapping[str, Sequence[Question]],
    *,
    quiz_size: int,
    clauses: Collection[str] | None = None,
    lessons: Iterable[str] | None = None,
    clause_texts: Mapping[str, str] | None = None,
) -> CueStats:
    """Measure the banks of a course and list every item and threshold they break.

    ``clauses`` are the clause numbers that must be cited (see ``citable_clauses``);
    ``lessons`` the lessons that must have a bank, in course order.
    """
    stats = CueStats(quiz_size=quiz_size)
    order = list(lessons) if lessons is not None else sorted(by_lesson)
    for lesson in [*order, *sorted(set(by_lesson) - set(order))]:
        questions = list(by_lesson.get(lesson, ()))
        # Quizzes draw authored items only (generated phrase drills are practice), so the
        # size that lets a retry show other questions counts those.
        graded = sum(1 for question in questions if not question.generated)
        stats.per_lesson[lesson] = graded
        if graded < BANK_SIZE_FACTOR * quiz_size:
            stats.cues.append(
                Cue(
                    lesson,
                    "",
                    f"the bank holds {graded} graded items; at least "
                    f"{BANK_SIZE_FACTOR * quiz_size} ({BANK_SIZE_FACTOR} × quiz size "
                    f"{quiz_size}) are needed so a retry shows other questions",
                )
            )
        for question in questions:
            stats.items += 1
            for message in item_cues(question):
                stats.cues.append(Cue(lesson, question.id, message))
            if question.kind == "single":
                stats.singles += 1
                stats.key_longest += key_is_longest(question)
                # A generated item's key is the norm's phrase by design, beside near misses
                # of it: knowing the exact words is what it tests.
                echoes = (
                    None if question.generated else key_echoes_norm(question, clause_texts or {})
                )
                if echoes is not None:
                    stats.norm_judged += 1
                    stats.key_norm_closest += echoes
            elif question.kind == "truefalse":
                stats.truefalse += 1
                stats.truefalse_true += bool(question.answer)
            elif question.kind == "multiple":
                stats.multiple_correct[len(question.correct_keys())] += 1

    if stats.singles >= MIN_FOR_SHARE and stats.key_longest_share > KEY_LONGEST_MAX:
        stats.cues.append(
            Cue(
                "",
                "",
                f"the key is the longest option in {stats.key_longest} of {stats.singles} "
                f"single items ({stats.key_longest_share:.0%}); at most {KEY_LONGEST_MAX:.0%}",
            )
        )
    if stats.norm_judged >= MIN_FOR_SHARE and stats.key_norm_closest_share > KEY_NORM_CLOSEST_MAX:
        stats.cues.append(
            Cue(
                "",
                "",
                f"the key echoes the cited clauses' wording more than every other option in "
                f"{stats.key_norm_closest} of {stats.norm_judged} single items "
                f"({stats.key_norm_closest_share:.0%}); at most {KEY_NORM_CLOSEST_MAX:.0%}",
            )
        )
    low, high = TRUE_SHARE_RANGE
    if stats.truefalse >= MIN_FOR_SHARE and not low <= stats.true_share <= high:
        stats.cues.append(
            Cue(
                "",
                "",
                f"{stats.truefalse_true} of {stats.truefalse} true/false items are keyed true "
                f"({stats.true_share:.0%}); keep it within {low:.0%}–{high:.0%}",
            )
        )
    multiples = sum(stats.multiple_correct.values())
    if multiples >= MIN_FOR_SHARE:
        count, most = stats.multiple_correct.most_common(1)[0]
        if most / multiples > MULTIPLE_SAME_COUNT_MAX:
            stats.cues.append(
                Cue(
                    "",
                    "",
                    f"{most} of {multiples} multiple items have exactly {count} correct options; "
                    f"vary it (at most {MULTIPLE_SAME_COUNT_MAX:.0%} with the same count)",
                )
            )
    if clauses is not None:
        cited = {c for questions in by_lesson.values() for q in questions for c in q.cites}
        stats.uncited = [c for c in clauses if c not in cited]
        for clause in stats.uncited:
            stats.cues.append(Cue("", "", f"clause {clause} is cited by no item"))
    return stats
