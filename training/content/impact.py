"""Which lessons a norm revision changes: lessons paired through the section matching."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from training.content.lessons import Lesson, plan_lessons
from training.norm.diff import KINDS, Kind, NormDiff, SectionChange, diff_norms
from training.norm.model import NormDocument


@dataclass(frozen=True)
class LessonChange:
    """How one lesson fared: kinds as for sections, judged by the lesson hash.

    ``changed_numbers`` are the new numbers of the lesson's clauses whose text
    changed, that are new or that moved in from another lesson;
    ``removed_numbers`` the old numbers of clauses that left it (removed from
    the norm or moved to another lesson). ``clauses`` are those section changes.
    """

    kind: Kind
    old_number: str | None
    new_number: str | None
    old_title: str | None
    new_title: str | None
    old_hash: str | None
    new_hash: str | None
    changed_numbers: tuple[str, ...] = ()
    removed_numbers: tuple[str, ...] = ()
    clauses: tuple[SectionChange, ...] = ()

    @property
    def content_changed(self) -> bool:
        """Return True if learners must study this lesson again (changed or new)."""
        return self.kind in ("changed", "added")


@dataclass(frozen=True)
class LessonImpact:
    """Every lesson of the new version in order, and the old lessons that have no successor."""

    lessons: tuple[LessonChange, ...]
    removed: tuple[LessonChange, ...]

    def summary(self) -> dict[str, int]:
        """Return the number of lessons of each kind, every kind included."""
        counts: dict[str, int] = dict.fromkeys(KINDS, 0)
        for lesson in (*self.lessons, *self.removed):
            counts[lesson.kind] += 1
        return counts

    def content_changed(self) -> list[LessonChange]:
        """Return the new lessons whose content changed or that are new, in order."""
        return [lesson for lesson in self.lessons if lesson.content_changed]

    def find(self, new_number: str) -> LessonChange | None:
        """Return the entry of the new lesson with this number, if any."""
        return next((c for c in self.lessons if c.new_number == new_number), None)


def _pair_lessons(
    old: list[Lesson], new: list[Lesson], new_to_old: dict[str, str]
) -> dict[int, int]:
    """Return {new lesson index: old lesson index} for lessons found in both versions.

    A lesson follows its heading section; one whose heading is new or reworded
    beyond recognition follows the old lesson holding most of its sections.
    """
    old_head = {lesson.number: i for i, lesson in enumerate(old)}
    owner = {s.number: i for i, lesson in enumerate(old) for s in lesson.covered}
    paired: dict[int, int] = {}
    for j, lesson in enumerate(new):
        i = old_head.get(new_to_old.get(lesson.number, ""))
        if i is not None and i not in paired.values():
            paired[j] = i
    for j, lesson in enumerate(new):
        if j in paired:
            continue
        votes = Counter(
            owner[new_to_old[s.number]]
            for s in lesson.covered
            if new_to_old.get(s.number) in owner
            and owner[new_to_old[s.number]] not in paired.values()
        )
        if votes:
            i, count = votes.most_common(1)[0]
            if count * 2 > len(lesson.covered):
                paired[j] = i
    return paired


def _change(kind: Kind, diff: NormDiff, old: Lesson | None, new: Lesson | None) -> LessonChange:
    """Return the LessonChange for a pair, listing the clause changes inside it."""
    old_numbers = {s.number for s in old.covered} if old else set()
    new_numbers = {s.number for s in new.covered} if new else set()
    changed: list[str] = []
    removed: list[str] = []
    clauses: list[SectionChange] = []
    for c in diff.changes:
        came = c.new_number in new_numbers and (
            c.kind == "changed" or c.old_number not in old_numbers
        )
        left = c.old_number in old_numbers and c.new_number not in new_numbers
        # A number found among the lesson's numbers is not None.
        if came and c.new_number is not None:
            changed.append(c.new_number)
        if left and c.old_number is not None:
            removed.append(c.old_number)
        if came or left:
            clauses.append(c)
    return LessonChange(
        kind,
        old.number if old else None,
        new.number if new else None,
        old.title if old else None,
        new.title if new else None,
        old.hash if old else None,
        new.hash if new else None,
        tuple(changed),
        tuple(removed),
        tuple(clauses),
    )


def lesson_impact(
    old_doc: NormDocument,
    new_doc: NormDocument,
    lesson_level: int = 2,
    *,
    diff: NormDiff | None = None,
) -> LessonImpact:
    """Return which lessons a revision changes, adds and removes.

    Lessons are paired through the section matching, so a lesson that was only
    renumbered is "renumbered", not changed; its content changed when its hash did.
    """
    diff = diff if diff is not None else diff_norms(old_doc, new_doc)
    old, new = plan_lessons(old_doc, lesson_level), plan_lessons(new_doc, lesson_level)
    paired = _pair_lessons(old, new, diff.new_to_old())
    lessons = []
    for j, lesson in enumerate(new):
        before = old[paired[j]] if j in paired else None
        if before is None:
            kind: Kind = "added"
        elif before.hash != lesson.hash:
            kind = "changed"
        else:
            kind = "unchanged" if before.number == lesson.number else "renumbered"
        lessons.append(_change(kind, diff, before, lesson))
    kept = set(paired.values())
    removed = tuple(
        _change("removed", diff, lesson, None) for i, lesson in enumerate(old) if i not in kept
    )
    return LessonImpact(tuple(lessons), removed)
