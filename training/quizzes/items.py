"""Plain data types for quiz banks."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

KINDS = ("single", "multiple", "truefalse", "order")
# A line break inside Chinese text is no space; between Latin words or digits it is one.
_LINE_BREAK = re.compile(r"\s*\n\s*")
_LATIN_EDGE = re.compile(r"[A-Za-z0-9]")
# "response": a rude-vs-correct item, whose options are what someone says or does next.
TAGS = ("external", "internal", "concept", "response")
TRUE_KEY = "true"
FALSE_KEY = "false"


def flow_text(text: str) -> str:
    """Join the lines of a YAML block as one paragraph, without spaces in Chinese text."""
    parts = _LINE_BREAK.split(text.strip())
    out = parts[0] if parts else ""
    for part in parts[1:]:
        glue = (
            " "
            if out and part and _LATIN_EDGE.match(out[-1]) and _LATIN_EDGE.match(part[0])
            else ""
        )
        out += glue + part
    return out


@dataclass(frozen=True)
class Option:
    """One answer option; ``key`` is stable so a stored draw can refer to it."""

    key: str
    text: str
    correct: bool
    feedback: str


@dataclass(frozen=True)
class Question:
    """One validated quiz item.

    For ``truefalse`` the options are built from ``answer`` (keys "true"/"false");
    for ``order`` the options are the steps, keys "1", "2", … in correct order.
    """

    id: str
    kind: str
    cites: tuple[str, ...]
    scenario: str
    prompt: str
    options: tuple[Option, ...]
    answer: bool | None
    steps: tuple[str, ...]
    feedback: str
    tags: tuple[str, ...]
    generated: bool
    lesson: str
    source_clause: str | None = None
    reviewed_for: str = ""  # version digest prefix the item was last reviewed against

    def correct_keys(self) -> tuple[str, ...]:
        """Return the keys of the correct options; for ``order`` the full correct sequence."""
        return tuple(o.key for o in self.options if o.correct)

    def option(self, key: str) -> Option | None:
        """Return the option with this key, if any."""
        return next((o for o in self.options if o.key == key), None)

    def options_for(self, keys: Iterable[str]) -> tuple[Option, ...]:
        """Return the options with these keys, in their order; KeyError for a key it lacks."""
        by_key = {o.key: o for o in self.options}
        return tuple(by_key[key] for key in keys)

    def title(self, limit: int = 60) -> str:
        """Name the question for HR by its scenario and prompt, never by its id alone."""
        text = flow_text(f"{self.scenario}\n{self.prompt}")
        return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Bank:
    """All questions of one lesson's bank file."""

    lesson: str
    path: Path
    questions: tuple[Question, ...]
    pass_mark: Fraction | None = None  # None: the configured default applies

    def by_id(self) -> dict[str, Question]:
        """Return the questions keyed by id."""
        return {q.id: q for q in self.questions}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a bank file; ``place`` is a question id, a line or empty."""

    path: Path
    place: str
    message: str

    def __str__(self) -> str:
        if self.place:
            return f"{self.path}: {self.place}: {self.message}"
        return f"{self.path}: {self.message}"


def question_to_dict(question: Question) -> dict[str, Any]:
    """Return a JSON-ready form of a question (stored with questions and attempts)."""
    data = dataclasses.asdict(question)
    # A JSON round trip turns tuples into lists, as the database hands them back,
    # so a stored copy compares equal to a fresh one.
    return json.loads(json.dumps(data, ensure_ascii=False))


def question_from_dict(data: Mapping[str, Any]) -> Question:
    """Rebuild a question stored with ``question_to_dict``."""
    values = dict(data)
    values["options"] = tuple(Option(**o) for o in values["options"])
    for key in ("cites", "steps", "tags"):
        values[key] = tuple(values.get(key) or ())
    return Question(**values)
