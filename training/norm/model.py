"""Plain data types for a parsed norm document."""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass, field


def normalize_text(text: str) -> str:
    """Return text in the canonical form used for hashing.

    NFKC folds full-width ASCII and punctuation variants, and all whitespace is
    removed because line breaks and spacing in Chinese text carry no meaning.
    """
    folded = unicodedata.normalize("NFKC", text)
    return "".join(folded.split())


def text_hash(text: str) -> str:
    """Return the sha256 hex digest of the normalized text."""
    return hashlib.sha256(normalize_text(text).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Section:
    """One numbered section of the norm.

    ``number`` is the canonical dotted path ("4.2.1.2"; for 一、/(一) styles the
    ordinals, e.g. "1.1"); ``label`` is the marker as written ("4.2.1.2",
    "(一)", "第三条"). ``body`` is the section's own text without its number,
    its title (when the title was taken from the text) and its children.
    ``hash`` covers only title and body, never the number, so renumbering
    alone does not change it.
    """

    number: str
    label: str
    title: str
    body: str
    level: int
    children: tuple[Section, ...] = ()
    hash: str = field(default="", compare=False)

    def walk(self):
        """Yield this section and all its descendants in document order."""
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass(frozen=True)
class NormDocument:
    """A parsed norm: its title, top-level sections and the source digest."""

    title: str
    sections: tuple[Section, ...]
    source_sha256: str
    preamble: str = ""

    def walk(self):
        """Yield every section in document order."""
        for section in self.sections:
            yield from section.walk()

    def find(self, number: str) -> Section | None:
        """Return the section with this canonical number, if any."""
        return next((s for s in self.walk() if s.number == number), None)


class NormParseError(ValueError):
    """The input is not a usable norm document; ``where`` names the line or place."""

    def __init__(self, message: str, where: str | None = None):
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)
