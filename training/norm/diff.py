"""Compare two versions of the norm section by section, for HR's revision preview.

Sections are matched by text, not by number: first identical text (hash), then
the same number with similar text, then the most similar leftover text. What
stays unmatched was added or removed. Renumbering alone is not a change.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Literal

from training.norm.marks import Segment, mark_changes, render_html, render_plain
from training.norm.model import NormDocument, Section, normalize_text

__all__ = [
    "NormDiff",
    "SectionChange",
    "Segment",
    "changed_clauses",
    "diff_norms",
    "format_change",
    "format_text",
    "mark_changes",
    "removed_clauses",
    "renumbered_clauses",
    "render_html",
    "similarity",
]

Kind = Literal["unchanged", "renumbered", "changed", "added", "removed"]
KINDS: tuple[Kind, ...] = ("unchanged", "renumbered", "changed", "added", "removed")

# A section keeping its number is the same clause reworded from this similarity up.
SAME_NUMBER_MIN = 0.5
# A section under another number needs more: unrelated clauses of the seed score up to ~0.55.
MOVED_MIN = 0.6
# Characters of unchanged text kept on either side of an edit in the plain-text report.
REPORT_CONTEXT = 12


def similarity(old_text: str, new_text: str) -> float:
    """Return the character-level similarity (0..1) of two texts after normalization."""
    return _ratio(normalize_text(old_text), normalize_text(new_text))


def _ratio(a: str, b: str) -> float:
    # autojunk would ignore every common character ("的", ",") in texts over 200 chars.
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


@dataclass(frozen=True)
class SectionChange:
    """How one section fared between versions.

    ``old_text``/``new_text`` are the section bodies (its own text, without
    title or children). ``similarity`` is 1.0 for identical text and 0.0 for
    added or removed sections. A "changed" section may also have a new number.
    """

    kind: Kind
    old_number: str | None
    new_number: str | None
    old_title: str | None
    new_title: str | None
    old_text: str | None
    new_text: str | None
    similarity: float

    @property
    def renumbered(self) -> bool:
        """Return True if the section exists in both versions under different numbers."""
        return None not in (self.old_number, self.new_number) and self.old_number != self.new_number

    @property
    def title_changed(self) -> bool:
        """Return True if both versions have the section and its title differs."""
        return self.kind == "changed" and normalize_text(self.old_title or "") != normalize_text(
            self.new_title or ""
        )

    def segments(self) -> list[Segment]:
        """Return the body's inline changes (all insert for added, all delete for removed)."""
        return mark_changes(self.old_text or "", self.new_text or "")

    def title_segments(self) -> list[Segment]:
        """Return the title's inline changes."""
        return mark_changes(self.old_title or "", self.new_title or "")


@dataclass(frozen=True)
class NormDiff:
    """Every section of both versions, in the new document's order.

    Removed sections come right after the section that preceded them in the old version.
    """

    changes: tuple[SectionChange, ...]

    def __iter__(self) -> Iterator[SectionChange]:
        return iter(self.changes)

    def summary(self) -> dict[str, int]:
        """Return the number of sections of each kind, every kind included."""
        counts: dict[str, int] = dict.fromkeys(KINDS, 0)
        for change in self.changes:
            counts[change.kind] += 1
        return counts

    def of_kind(self, *kinds: Kind) -> list[SectionChange]:
        """Return the changes of the given kinds, in order."""
        return [change for change in self.changes if change.kind in kinds]

    @property
    def has_changes(self) -> bool:
        """Return True if any text changed, was added or removed (renumbering aside)."""
        return bool(self.of_kind("changed", "added", "removed"))

    def new_to_old(self) -> dict[str, str]:
        """Return {new number: old number} for every section present in both versions."""
        return {
            c.new_number: c.old_number
            for c in self.changes
            if c.new_number is not None and c.old_number is not None
        }


def _beats(a: str, b: str, score: float) -> bool:
    """Return True if a and b are more similar than score (cheap bounds first)."""
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    return (
        matcher.real_quick_ratio() > score
        and matcher.quick_ratio() > score
        and (matcher.ratio() > score)
    )


def _parents(sections: list[Section]) -> list[int | None]:
    index = {id(s): i for i, s in enumerate(sections)}
    parents: list[int | None] = [None] * len(sections)
    for i, section in enumerate(sections):
        for child in section.children:
            parents[index[id(child)]] = i
    return parents


def _match(
    old: list[Section], new: list[Section], same_number_min: float, moved_min: float
) -> dict[int, tuple[int, float]]:
    """Return {new index: (old index, similarity)} for sections found in both versions."""
    matched: dict[int, tuple[int, float]] = {}
    taken: set[int] = set()

    def pair(j: int, i: int, score: float) -> None:
        matched[j] = (i, score)
        taken.add(i)

    # 1. Identical text: same number first, then the first free one in document order.
    same = {(s.hash, s.number): i for i, s in enumerate(old)}
    for j, s in enumerate(new):
        i = same.get((s.hash, s.number))
        if i is not None:
            pair(j, i, 1.0)
    by_hash: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(old):
        if i not in taken:
            by_hash[s.hash].append(i)
    for j, s in enumerate(new):
        if j not in matched and by_hash.get(s.hash):
            pair(j, by_hash[s.hash].pop(0), 1.0)

    texts_old = [normalize_text(s.title + s.body) for s in old]
    texts_new = [normalize_text(s.title + s.body) for s in new]

    # 2. Same number, similar text: the clause was reworded in place. Unless a
    # leftover elsewhere is closer to either side: a clause inserted before a
    # reworded one shifts it, and the newcomer must not take its place.
    by_number = {s.number: i for i, s in enumerate(old) if i not in taken}
    free_old = [i for i in range(len(old)) if i not in taken]
    free_new = [j for j in range(len(new)) if j not in matched]
    for j, s in enumerate(new):
        i = by_number.get(s.number)
        if j in matched or i is None:
            continue
        score = _ratio(texts_old[i], texts_new[j])
        if score < same_number_min:
            continue
        rivals = [(texts_old[i], texts_new[k]) for k in free_new if k != j and k not in matched]
        rivals += [(texts_old[k], texts_new[j]) for k in free_old if k != i and k not in taken]
        # A rival below moved_min could not be matched in step 3 either.
        if not any(_beats(a, b, max(score, moved_min)) for a, b in rivals):
            pair(j, i, score)

    # 3. The most similar leftovers: reworded and moved. Ties go to sections whose
    # parents were matched to each other, then to the same level, then the nearest.
    old_parent, new_parent = _parents(old), _parents(new)
    candidates = []
    for j in range(len(new)):
        if j in matched:
            continue
        for i in range(len(old)):
            if i in taken:
                continue
            matcher = SequenceMatcher(None, texts_old[i], texts_new[j], autojunk=False)
            if matcher.real_quick_ratio() < moved_min or matcher.quick_ratio() < moved_min:
                continue
            score = matcher.ratio()
            if score < moved_min:
                continue
            pj = new_parent[j]
            same_parent = pj is not None and matched.get(pj, (None,))[0] == old_parent[i]
            level_gap = abs(old[i].level - new[j].level)
            candidates.append((-score, not same_parent, level_gap, abs(i - j), j, i))
    for neg_score, *_, j, i in sorted(candidates):
        if j not in matched and i not in taken:
            pair(j, i, -neg_score)
    return matched


def diff_norms(
    old: NormDocument,
    new: NormDocument,
    *,
    same_number_min: float = SAME_NUMBER_MIN,
    moved_min: float = MOVED_MIN,
) -> NormDiff:
    """Return the section-by-section comparison of two versions of the norm."""
    old_sections, new_sections = list(old.walk()), list(new.walk())
    matched = _match(old_sections, new_sections, same_number_min, moved_min)
    old_to_new = {i: j for j, (i, _) in matched.items()}

    keyed: list[tuple[tuple[int, int, int], SectionChange]] = []
    for j, s in enumerate(new_sections):
        if j not in matched:
            change = SectionChange("added", None, s.number, None, s.title, None, s.body, 0.0)
        else:
            i, score = matched[j]
            o = old_sections[i]
            if o.hash != s.hash:
                kind: Kind = "changed"
            else:
                kind = "unchanged" if o.number == s.number else "renumbered"
            change = SectionChange(
                kind, o.number, s.number, o.title, s.title, o.body, s.body, score
            )
        keyed.append(((j, 0, 0), change))
    anchor = -1
    for i, o in enumerate(old_sections):
        if i in old_to_new:
            anchor = old_to_new[i]
            continue
        change = SectionChange("removed", o.number, None, o.title, None, o.body, None, 0.0)
        keyed.append(((anchor, 1, i), change))
    keyed.sort(key=lambda item: item[0])
    return NormDiff(tuple(change for _, change in keyed))


def changed_clauses(diff: NormDiff) -> set[str]:
    """Return the old numbers of clauses whose text changed or that were removed."""
    return {c.old_number for c in diff.of_kind("changed", "removed") if c.old_number}


def removed_clauses(diff: NormDiff) -> set[str]:
    """Return the old numbers of clauses that were removed."""
    return {c.old_number for c in diff.of_kind("removed") if c.old_number}


def renumbered_clauses(diff: NormDiff) -> dict[str, str]:
    """Return {old number: new number} for clauses kept under another number, reworded or not."""
    return {
        c.old_number: c.new_number
        for c in diff.changes
        if c.old_number and c.new_number and c.old_number != c.new_number
    }


def _one_line(text: str) -> str:
    return " ".join(text.split())


def format_change(change: SectionChange, *, context: int | None = REPORT_CONTEXT) -> str:
    """Return one report line for a change, edits marked as [-old-]{+new+}."""
    if change.kind == "added":
        head = f"added {change.new_number} {change.new_title}"
        return _one_line(f"{head}: {change.new_text}" if change.new_text else head)
    if change.kind == "removed":
        head = f"removed {change.old_number} {change.old_title}"
        return _one_line(f"{head}: {change.old_text}" if change.old_text else head)
    numbers = f"{change.old_number} → {change.new_number}"
    if change.kind != "changed":
        return _one_line(f"{change.kind} {numbers} {change.new_title}")
    title = render_plain(change.title_segments()) if change.title_changed else change.new_title
    line = f"changed {numbers} {title}"
    segments = change.segments()
    if any(segment.op != "equal" for segment in segments):
        line += ": " + render_plain(segments, context=context)
    return _one_line(line)


def format_text(diff: NormDiff, *, context: int | None = REPORT_CONTEXT) -> str:
    """Return the report for the CLI: one line per section that is not unchanged."""
    lines = [format_change(c, context=context) for c in diff.changes if c.kind != "unchanged"]
    return "".join(line + "\n" for line in lines)
