"""Plan lessons from a parsed norm and render each as a Markdown file with front matter."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

import yaml

from training.content import text as t
from training.content.render import render_lesson_body
from training.content.summaries import Summaries
from training.norm.model import NormDocument, Section

LESSON_ID_RE = re.compile(r"lesson-\d+(?:\.\d+)*")
# Characters that are unsafe in file names on some system, plus whitespace.
UNSAFE_FILENAME_RE = re.compile(r'[<>:"/\\|?*\x00-\x1f\s]+')
SLUG_CHARS = 40


def lesson_hash(section_hashes: Iterable[str]) -> str:
    """Return sha256 over section hashes in order; numbers are not part of it."""
    return hashlib.sha256("\n".join(section_hashes).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Lesson:
    """One lesson: a section of the norm with everything beneath it.

    ``intro_sections`` are ancestors above the lesson level whose own text would
    otherwise belong to no lesson; the first lesson beneath them shows it.
    """

    section: Section
    chapter: Section
    order: int
    intro_sections: tuple[Section, ...] = ()

    @property
    def number(self) -> str:
        """Return the lesson's section number ("4.2")."""
        return self.section.number

    @property
    def id(self) -> str:
        """Return the stable lesson id used in front matter ("lesson-4.2")."""
        return f"lesson-{self.number}"

    @property
    def title(self) -> str:
        """Return the section title, or its first short sentence when it has none."""
        return self.section.title or t.short_point(self.section.body) or self.number

    @property
    def covered(self) -> list[Section]:
        """Return the sections whose text this lesson shows, in document order."""
        return [*self.intro_sections, *self.section.walk()]

    @property
    def hash(self) -> str:
        """Return sha256 over the covered sections' hashes (numbers excluded)."""
        return lesson_hash(section.hash for section in self.covered)

    @property
    def filename(self) -> str:
        """Return "<number>-<title>.md" with characters unsafe in file names removed."""
        slug = UNSAFE_FILENAME_RE.sub("-", self.title).strip("-. ")[:SLUG_CHARS].rstrip("-. ")
        return f"{self.number}-{slug}.md" if slug else f"{self.number}.md"


def plan_lessons(doc: NormDocument, lesson_level: int = 2) -> list[Lesson]:
    """Return one lesson per section at ``lesson_level`` and per shallower leaf, in order."""
    lessons: list[Lesson] = []

    def visit(section: Section, depth: int, chapter: Section, pending: list[Section]) -> None:
        if depth >= lesson_level or not section.children:
            lessons.append(Lesson(section, chapter, len(lessons) + 1, tuple(pending)))
            pending.clear()
            return
        if section.body:
            pending.append(section)
        for child in section.children:
            visit(child, depth + 1, chapter, pending)

    for top in doc.sections:
        visit(top, 1, top, [])
    return lessons


def front_matter(lesson: Lesson, *, source: str, source_sha256: str) -> dict:
    """Return the lesson's metadata in the order it is written."""
    return {
        "id": lesson.id,
        "number": lesson.number,
        "title": lesson.title,
        "chapter": {"number": lesson.chapter.number, "title": lesson.chapter.title},
        "order": lesson.order,
        "source": source,
        "source_sha256": source_sha256,
        "sections": [
            {"number": s.number, "title": s.title, "hash": s.hash} for s in lesson.covered
        ],
        "hash": lesson.hash,
    }


def render_lesson(
    lesson: Lesson, *, source: str, source_sha256: str, summaries: Summaries | None = None
) -> str:
    """Return the full lesson file: YAML front matter, a blank line, the Markdown body."""
    meta = yaml.safe_dump(
        front_matter(lesson, source=source, source_sha256=source_sha256),
        sort_keys=False,
        allow_unicode=True,
        width=10_000,
    )
    points = (summaries or {}).get(lesson.number)
    return f"---\n{meta}---\n\n{render_lesson_body(lesson, points)}"


def generate_lessons(
    doc: NormDocument,
    *,
    source: str,
    lesson_level: int = 2,
    summaries: Summaries | None = None,
) -> dict[str, str]:
    """Return every lesson file of the norm as {file name: text}, with its 要点 if given."""
    files: dict[str, str] = {}
    for lesson in plan_lessons(doc, lesson_level):
        files[lesson.filename] = render_lesson(
            lesson, source=source, source_sha256=doc.source_sha256, summaries=summaries
        )
    return files
