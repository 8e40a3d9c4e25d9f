"""Load and validate ``content/outline.yaml``, the editor's settings for lesson generation."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from training.norm.model import NormDocument

OUTLINE_FILE = "outline.yaml"
KNOWN_KEYS = ("source", "lesson_level", "titles")
NUMBER_RE = re.compile(r"\d+(?:\.\d+)*")


class ContentFileError(ValueError):
    """A content file is unusable; ``path`` and ``place`` (a lesson, a key, "file") say where."""

    def __init__(self, message: str, *, path: Path, place: str = "file"):
        self.path = path
        self.place = place
        self.message = message
        super().__init__(f"{path}: {place}: {message}")


class OutlineError(ContentFileError):
    """``outline.yaml`` is unusable."""


@dataclass(frozen=True)
class Outline:
    """Settings for generating lessons from the norm."""

    path: Path
    source: str
    lesson_level: int = 2
    titles: dict[str, str] = field(default_factory=dict)

    def source_path(self) -> Path:
        """Return the norm source as a path (``source`` is relative to the content dir)."""
        return self.path.parent / self.source

    def check_numbers(self, doc: NormDocument) -> None:
        """Raise OutlineError if a title override names a section the norm does not have."""
        known = {section.number for section in doc.walk()}
        for number in self.titles:
            if number not in known:
                raise OutlineError(
                    f"section {number} is not in the norm; remove or fix this title override",
                    path=self.path,
                    place=f"titles.{number}",
                )


def load_outline(path: Path) -> Outline:
    """Read and validate an outline file, raising OutlineError with the place of any problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise OutlineError("file not found", path=path) from None
    try:
        # BaseLoader keeps every scalar as written, so "1.10" stays a section number, not 1.1.
        data = yaml.load(text, Loader=yaml.BaseLoader)  # noqa: S506 -- BaseLoader builds no objects
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        place = f"line {mark.line + 1}" if mark else "file"
        raise OutlineError(f"not valid YAML: {exc}", path=path, place=place) from None
    if not isinstance(data, dict):
        raise OutlineError("expected a mapping with keys: " + ", ".join(KNOWN_KEYS), path=path)

    for key in data:
        if key not in KNOWN_KEYS:
            raise OutlineError(
                f"unknown key {key!r}; expected one of: {', '.join(KNOWN_KEYS)}",
                path=path,
                place=str(key),
            )

    source = data.get("source")
    if not isinstance(source, str) or not source.strip():
        raise OutlineError("give the norm file, relative to content/", path=path, place="source")

    raw_level = data.get("lesson_level", "2")
    if not isinstance(raw_level, str) or not raw_level.isdigit() or int(raw_level) < 1:
        raise OutlineError("must be a whole number from 1", path=path, place="lesson_level")

    raw_titles = data.get("titles", {})
    if raw_titles == "":
        raw_titles = {}
    if not isinstance(raw_titles, dict):
        raise OutlineError(
            "expected a mapping of section number to title", path=path, place="titles"
        )
    titles: dict[str, str] = {}
    for number, title in raw_titles.items():
        if not isinstance(number, str) or not NUMBER_RE.fullmatch(number):
            raise OutlineError(
                "not a section number like 4.2.1", path=path, place=f"titles.{number}"
            )
        if not isinstance(title, str) or not title.strip():
            raise OutlineError(
                "title must be a non-empty text", path=path, place=f"titles.{number}"
            )
        titles[number] = title.strip()

    return Outline(path=path, source=source.strip(), lesson_level=int(raw_level), titles=titles)
