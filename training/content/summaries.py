"""Hand-written 本课要点 per lesson: ``content/summaries.yaml``, checked against the norm.

The key points are content, written and reviewed by an editor, never cut from the clause
text. Each point names the clauses it summarises with the first digits of each clause's
text hash as it read when the point was last checked against it. When a revision changes a
clause, its hash no longer matches: ``flask content check`` names the clause and the lesson,
and a lesson built meanwhile shows, instead of the outdated point, a note sending the reader
to the clause's text below (``stale`` points).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from training.content.outline import ContentFileError
from training.norm.model import Section

SUMMARIES_FILE = "summaries.yaml"
HASH_CHARS = 12  # as many hex digits as the review stamps of quiz items
MAX_POINTS = 6  # a box at the top of the lesson stays short


class SummaryError(ContentFileError):
    """``summaries.yaml`` is unusable; ``place`` is a lesson number or "file"."""


@dataclass(frozen=True)
class KeyPoint:
    """One point of a lesson's 要点: its text and {clause number: hash when reviewed}."""

    text: str
    cites: tuple[tuple[str, str], ...]

    @property
    def clauses(self) -> tuple[str, ...]:
        return tuple(number for number, _ in self.cites)

    def stale_clauses(self, hashes: Mapping[str, str]) -> list[str]:
        """Return the cited clauses whose text changed since review (or that are gone)."""
        return [
            number
            for number, reviewed in self.cites
            if hashes.get(number, "")[:HASH_CHARS] != reviewed
        ]


Summaries = dict[str, tuple[KeyPoint, ...]]


def load_summaries(path: Path) -> Summaries:
    """Read and validate the summaries file, raising SummaryError with the place of a problem.

    A missing file is no summaries at all (``flask content check`` reports the lessons).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise SummaryError(f"cannot read the file: {exc}", path=path) from None
    try:
        # BaseLoader keeps "1.10" and "4.2" as written, never as numbers.
        data = yaml.load(text, Loader=yaml.BaseLoader)  # noqa: S506 -- BaseLoader builds no objects
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        place = f"line {mark.line + 1}" if mark else "file"
        raise SummaryError(f"not valid YAML: {exc}", path=path, place=place) from None
    if data in (None, ""):
        return {}
    if not isinstance(data, dict):
        raise SummaryError("expected a mapping of lesson number to a list of points", path=path)
    result: Summaries = {}
    for lesson, raw in data.items():
        place = str(lesson)
        if not isinstance(raw, list) or not raw:
            raise SummaryError("expected a list of points (text and cites)", path=path, place=place)
        if len(raw) > MAX_POINTS:
            raise SummaryError(
                f"{len(raw)} points; keep at most {MAX_POINTS}", path=path, place=place
            )
        result[place] = tuple(
            _point(item, path, f"{place}: point {i}") for i, item in enumerate(raw, 1)
        )
    return result


def _point(item: object, path: Path, place: str) -> KeyPoint:
    if not isinstance(item, dict) or set(item) != {"text", "cites"}:
        raise SummaryError("a point is a mapping with 'text' and 'cites'", path=path, place=place)
    text, cites = item["text"], item["cites"]
    if not isinstance(text, str) or not text.strip():
        raise SummaryError("'text' is empty", path=path, place=place)
    if not isinstance(cites, dict) or not cites:
        raise SummaryError(
            "'cites' maps each clause the point summarises to its reviewed hash",
            path=path,
            place=place,
        )
    pairs = []
    for number, digest in cites.items():
        if not isinstance(digest, str) or len(digest) != HASH_CHARS:
            raise SummaryError(
                f"clause {number}: the hash must be the first {HASH_CHARS} hex digits of the "
                "clause's text hash (`flask content check` shows it)",
                path=path,
                place=place,
            )
        pairs.append((str(number), digest.lower()))
    return KeyPoint(" ".join(text.split()), tuple(pairs))


def needs_summary(section: Section) -> bool:
    """Return True if the section holds a rule of its own: text, not only a heading."""
    return bool(section.body.strip()) or not section.children


def summary_problems(
    lesson: str, covered: Iterable[Section], points: tuple[KeyPoint, ...] | None
) -> list[str]:
    """Return what is wrong with one lesson's points against the clauses it covers."""
    sections = list(covered)
    if not points:
        return ["no 本课要点; write 1 to 6 points for this lesson in summaries.yaml"]
    hashes = {s.number: s.hash for s in sections}
    problems = []
    for index, point in enumerate(points, 1):
        for number, reviewed in point.cites:
            if number not in hashes:
                problems.append(f"point {index} cites clause {number}, which is not in this lesson")
            elif hashes[number][:HASH_CHARS] != reviewed:
                now = hashes[number][:HASH_CHARS]
                problems.append(
                    f"clause {number} changed since its 要点 were reviewed (reviewed {reviewed}, "
                    f"now {now}): check point {index} against the clause's new text, then set "
                    f"its hash to {now}"
                )
    cited = {number for point in points for number in point.clauses}
    for section in sections:
        if needs_summary(section) and section.number not in cited:
            problems.append(
                f"clause {section.number} is summarised by no point "
                f"(its hash is {section.hash[:HASH_CHARS]})"
            )
    return problems
