"""Build ``content/lessons/`` from the norm source: write changed lessons, remove stale ones."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from training.content.lessons import LESSON_ID_RE, generate_lessons
from training.content.outline import OUTLINE_FILE, Outline, load_outline
from training.content.summaries import SUMMARIES_FILE, load_summaries
from training.norm.model import NormDocument

LESSONS_DIR = "lessons"


@dataclass
class BuildReport:
    """What a build did, as file names inside the lessons folder (and generated banks)."""

    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    banks_written: list[str] = field(default_factory=list)
    banks_unchanged: list[str] = field(default_factory=list)
    banks_removed: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """Return the counts as one line."""
        return (
            f"{len(self.written)} written, {len(self.unchanged)} unchanged, "
            f"{len(self.removed)} removed"
        )


def parse_norm(source: Path, outline: Outline) -> NormDocument:
    """Parse the norm with the outline's title overrides and check the overrides exist."""
    # Imported here so the content package loads even while the parser is being changed.
    from training.norm.parse import parse_file

    doc = parse_file(source, title_overrides=outline.titles)
    outline.check_numbers(doc)
    return doc


def source_label(source: Path, content_dir: Path) -> str:
    """Return the source path as recorded in front matter: relative to content/, with /."""
    return Path(os.path.relpath(source.resolve(), content_dir.resolve())).as_posix()


def expected_lessons(content_dir: Path, source: Path | None = None) -> dict[str, str]:
    """Return the lesson files a fresh build would write, as {file name: text}.

    Raises OutlineError, SummaryError or NormParseError; nothing is written.
    """
    outline = load_outline(content_dir / OUTLINE_FILE)
    summaries = load_summaries(content_dir / SUMMARIES_FILE)
    source = source if source is not None else outline.source_path()
    doc = parse_norm(source, outline)
    return generate_lessons(
        doc,
        source=source_label(source, content_dir),
        lesson_level=outline.lesson_level,
        summaries=summaries,
    )


def expected_generated_banks(
    content_dir: Path, quiz_dir: Path, source: Path | None = None
) -> dict[str, str]:
    """Return the generated quiz banks a fresh build would write, as {lesson: text}.

    Raises OutlineError, NormParseError or DistractorError; nothing is written.
    """
    from training.content.generated import (
        DISTRACTORS_FILE,
        generated_banks,
        lesson_map,
        load_distractors,
    )
    from training.content.lessons import plan_lessons

    outline = load_outline(content_dir / OUTLINE_FILE)
    source = source if source is not None else outline.source_path()
    doc = parse_norm(source, outline)
    lessons = [lesson.number for lesson in plan_lessons(doc, outline.lesson_level)]
    distractors = load_distractors(quiz_dir / DISTRACTORS_FILE)
    return generated_banks(
        doc,
        distractors,
        lesson_map(doc, lessons),
        source=f"content/{source_label(source, content_dir)}",
    )


def is_generated_lesson(path: Path) -> bool:
    """Return True if the file carries our front matter (``id: lesson-<number>``)."""
    try:
        head = path.read_text(encoding="utf-8").split("\n", 2)
    except (OSError, UnicodeDecodeError):
        return False
    if len(head) < 2 or head[0] != "---" or not head[1].startswith("id: "):
        return False
    return bool(LESSON_ID_RE.fullmatch(head[1].removeprefix("id: ").strip()))


def build(
    content_dir: Path, source: Path | None = None, quiz_dir: Path | None = None
) -> BuildReport:
    """Generate lessons (and, with ``quiz_dir``, generated quiz items), touching only changes.

    Everything is parsed and generated before the first file is written.
    """
    files = expected_lessons(content_dir, source)
    banks = expected_generated_banks(content_dir, quiz_dir, source) if quiz_dir else None
    lessons_dir = content_dir / LESSONS_DIR
    lessons_dir.mkdir(parents=True, exist_ok=True)
    report = BuildReport()
    for name, text in files.items():
        path = lessons_dir / name
        if path.exists() and path.read_bytes() == text.encode("utf-8"):
            report.unchanged.append(name)
            continue
        path.write_bytes(text.encode("utf-8"))
        report.written.append(name)
    for path in sorted(lessons_dir.glob("*.md")):
        if path.name not in files and is_generated_lesson(path):
            path.unlink()
            report.removed.append(path.name)
    if quiz_dir is not None and banks is not None:
        from training.content.generated import write_generated

        written, unchanged, removed = write_generated(quiz_dir, banks)
        report.banks_written = [p.name for p in written]
        report.banks_unchanged = [p.name for p in unchanged]
        report.banks_removed = [p.name for p in removed]
    return report
