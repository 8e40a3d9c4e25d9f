"""Validate ``content/``: the outline, every lesson's front matter, lessons equal a fresh build.

``CHECKS`` is the list ``flask content check`` runs; other features append their
own check (a callable ``(content_dir, app) -> list[Problem]``), e.g. the quiz bank.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import frontmatter
import yaml

from training.content.build import LESSONS_DIR, expected_lessons, is_generated_lesson, parse_norm
from training.content.lessons import LESSON_ID_RE, lesson_hash, plan_lessons
from training.content.outline import OUTLINE_FILE, OutlineError, load_outline
from training.content.summaries import (
    SUMMARIES_FILE,
    SummaryError,
    load_summaries,
    summary_problems,
)
from training.norm.model import NormParseError

REBUILD = "run `flask content build`"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the content, printed as ``path: place: message``."""

    path: str
    place: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.place}: {self.message}"


Check = Callable[[Path, Any], list[Problem]]


def display_path(path: Path, content_dir: Path) -> str:
    """Return the path as shown in problems: relative to the folder holding content/."""
    try:
        return path.resolve().relative_to(content_dir.resolve().parent).as_posix()
    except ValueError:
        return path.as_posix()


def check_outline(content_dir: Path, app: Any = None) -> list[Problem]:
    """Check that outline.yaml is valid and names an existing source."""
    try:
        outline = load_outline(content_dir / OUTLINE_FILE)
    except OutlineError as exc:
        return [Problem(display_path(exc.path, content_dir), exc.place, exc.message)]
    source = outline.source_path()
    if not source.is_file():
        path = display_path(outline.path, content_dir)
        return [Problem(path, "source", f"file not found: {display_path(source, content_dir)}")]
    return []


FIELDS = {
    "id": str,
    "number": str,
    "title": str,
    "chapter": dict,
    "order": int,
    "source": str,
    "source_sha256": str,
    "sections": list,
    "hash": str,
}


def front_matter_problems(path: Path) -> tuple[dict | None, list[str]]:
    """Return a lesson file's metadata (None if unreadable) and what is wrong with it."""
    try:
        # Values are whatever the YAML held; FIELDS checks their types below.
        meta: dict[str, Any] = frontmatter.loads(path.read_text(encoding="utf-8")).metadata
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        return None, [f"front matter is not valid YAML: {exc}"]
    if not meta:
        return None, ["no front matter"]
    problems = []
    for name, kind in FIELDS.items():
        if not isinstance(meta.get(name), kind) or isinstance(meta.get(name), bool):
            problems.append(f"field {name!r} missing or not a {kind.__name__}")
    if problems:
        return meta, problems
    if not LESSON_ID_RE.fullmatch(meta["id"]) or meta["id"] != f"lesson-{meta['number']}":
        problems.append(f"id {meta['id']!r} does not match number {meta['number']!r}")
    chapter = meta["chapter"]
    if not isinstance(chapter.get("number"), str) or not isinstance(chapter.get("title"), str):
        problems.append("chapter needs a number and a title")
    sections = meta["sections"]
    if not sections or not all(
        isinstance(s, dict) and all(isinstance(s.get(k), str) for k in ("number", "title", "hash"))
        for s in sections
    ):
        problems.append("sections must list number, title and hash of each covered section")
    else:
        if lesson_hash(s["hash"] for s in sections) != meta["hash"]:
            problems.append("hash does not match the sections' hashes")
    return meta, problems


def check_lessons(content_dir: Path, app: Any = None) -> list[Problem]:
    """Check every lesson file and that the lessons equal a fresh build from the source."""
    lessons_dir = content_dir / LESSONS_DIR
    problems: list[Problem] = []
    present = {path.name: path for path in sorted(lessons_dir.glob("*.md"))}
    for path in present.values():
        _, found = front_matter_problems(path)
        shown = display_path(path, content_dir)
        problems.extend(Problem(shown, "front matter", message) for message in found)

    if check_outline(content_dir, app):
        return problems  # reported by check_outline; nothing to compare against
    try:
        expected = expected_lessons(content_dir)
    except SummaryError:
        return problems  # reported by check_summaries
    except OutlineError as exc:
        return [*problems, Problem(display_path(exc.path, content_dir), exc.place, exc.message)]
    except NormParseError as exc:
        source = load_outline(content_dir / OUTLINE_FILE).source_path()
        place = exc.where or "file"
        message = str(exc).removeprefix(f"{exc.where}: ") if exc.where else str(exc)
        return [*problems, Problem(display_path(source, content_dir), place, message)]

    for name, text in expected.items():
        path = lessons_dir / name
        shown = display_path(path, content_dir)
        if name not in present:
            problems.append(Problem(shown, "file", f"missing; {REBUILD}"))
            continue
        actual = path.read_text(encoding="utf-8")
        if actual != text:
            problems.append(Problem(shown, *_difference(actual, text)))
    for name, path in present.items():
        if name in expected:
            continue
        shown = display_path(path, content_dir)
        if is_generated_lesson(path):
            message = f"not a lesson of the current norm (stale); {REBUILD}"
        else:
            message = "not a generated lesson; lessons/ holds only generated files"
        problems.append(Problem(shown, "file", message))
    return problems


def _difference(actual: str, expected: str) -> tuple[str, str]:
    """Return (place, message) for a lesson that differs from the fresh build."""
    actual_lines, expected_lines = actual.splitlines(), expected.splitlines()
    line = next(
        (
            number
            for number, (a, b) in enumerate(zip(actual_lines, expected_lines, strict=False), 1)
            if a != b
        ),
        min(len(actual_lines), len(expected_lines)) + 1,
    )
    sha_line = next((x for x in expected_lines if x.startswith("source_sha256:")), None)
    if sha_line and sha_line not in actual_lines:
        return f"line {line}", f"stale: built from an older norm source; {REBUILD}"
    return f"line {line}", f"differs from a fresh build (hand-edited?); {REBUILD}"


def check_summaries(content_dir: Path, app: Any = None) -> list[Problem]:
    """Check summaries.yaml: every lesson has 要点, reviewed against its clauses' current text."""
    path = content_dir / SUMMARIES_FILE
    shown = display_path(path, content_dir)
    if not path.is_file():
        return [Problem(shown, "file", "missing; write the 本课要点 of every lesson")]
    try:
        summaries = load_summaries(path)
    except SummaryError as exc:
        return [Problem(shown, exc.place, exc.message)]
    if check_outline(content_dir, app):
        return []  # reported by check_outline
    outline = load_outline(content_dir / OUTLINE_FILE)
    try:
        doc = parse_norm(outline.source_path(), outline)
    except (OutlineError, NormParseError):
        return []  # reported by check_lessons
    lessons = plan_lessons(doc, outline.lesson_level)
    problems = [
        Problem(shown, lesson.number, message)
        for lesson in lessons
        for message in summary_problems(lesson.number, lesson.covered, summaries.get(lesson.number))
    ]
    known = {lesson.number for lesson in lessons}
    problems.extend(
        Problem(shown, number, "not a lesson of the current norm; remove or renumber it")
        for number in summaries
        if number not in known
    )
    return problems


# Features that build on the content add their checks here (the quiz banks do, when the app
# registers its commands), so this module never imports them.
CHECKS: list[Check] = [check_outline, check_summaries, check_lessons]


def run_checks(content_dir: Path, app: Any = None) -> list[Problem]:
    """Run every registered check and return all problems found."""
    problems: list[Problem] = []
    for check in CHECKS:
        problems.extend(check(content_dir, app))
    return problems
