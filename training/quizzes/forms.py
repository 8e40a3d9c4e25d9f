"""Reading a submitted quiz form against the attempt's draw.

The form carries display positions, never option keys: keys follow the
bank's order (for ordering items, the correct order), so sending them would
put the answer in the page source. Positions are mapped back through the
stored draw.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from werkzeug.datastructures import MultiDict

from training.quizzes.services import ShownQuestion

ALLOWED_EXTRA_FIELDS = frozenset({"csrf_token", "submit"})
FIELD_RE = re.compile(r"^q(\d+)(?:-(\d+))?$")


class TamperedForm(ValueError):
    """The form names questions or options that are not those of the draw."""


@dataclass
class ParsedAnswers:
    """Answers by question id, what the learner chose by field, and what is missing."""

    answers: dict[str, list[str]] = field(default_factory=dict)
    chosen: dict[str, list[str]] = field(default_factory=dict)
    unanswered: list[int] = field(default_factory=list)
    invalid_order: list[int] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.unanswered and not self.invalid_order


def _position(value: str, count: int) -> int:
    if not (value.isascii() and value.isdecimal()) or not 0 <= int(value) < count:
        raise TamperedForm(f"option {value!r} is not in the draw")
    return int(value)


def parse_answers(form: MultiDict, shown: Sequence[ShownQuestion]) -> ParsedAnswers:
    """Map form fields to option keys; raise TamperedForm for anything outside the draw."""
    by_index = {item.index: item for item in shown}
    for name in form:
        if name in ALLOWED_EXTRA_FIELDS:
            continue
        match = FIELD_RE.match(name)
        if not match or int(match.group(1)) not in by_index:
            raise TamperedForm(f"unexpected field {name!r}")
        item = by_index[int(match.group(1))]
        is_step = match.group(2) is not None
        if is_step != (item.question.kind == "order"):
            raise TamperedForm(f"field {name!r} does not fit question {item.index}")
        if is_step and int(match.group(2)) >= len(item.options):
            raise TamperedForm(f"unexpected field {name!r}")

    parsed = ParsedAnswers()
    for item in shown:
        name = f"q{item.index}"
        count = len(item.options)
        if item.question.kind == "order":
            _parse_order(form, item, parsed)
            continue
        values = form.getlist(name)
        if item.question.kind != "multiple" and len(values) > 1:
            raise TamperedForm(f"{name}: several answers to a one-answer question")
        positions = [_position(v, count) for v in values]
        if len(set(positions)) != len(positions):
            raise TamperedForm(f"{name}: an option is sent twice")
        parsed.chosen[name] = [str(p) for p in positions]
        if not positions:
            parsed.unanswered.append(item.index)
            continue
        parsed.answers[item.question.id] = [item.options[p].key for p in sorted(positions)]
    return parsed


def _parse_order(form: MultiDict, item: ShownQuestion, parsed: ParsedAnswers) -> None:
    """Read the rank chosen for each displayed step."""
    count = len(item.options)
    ranks: dict[int, int] = {}
    for position in range(count):
        name = f"q{item.index}-{position}"
        values = form.getlist(name)
        if len(values) > 1:
            raise TamperedForm(f"{name}: several ranks for one step")
        if values and values[0] != "":
            if (
                not (values[0].isascii() and values[0].isdecimal())
                or not 1 <= int(values[0]) <= count
            ):
                raise TamperedForm(f"{name}: rank {values[0]!r} is out of range")
            ranks[position] = int(values[0])
            parsed.chosen[name] = [values[0]]
    if not ranks:
        parsed.unanswered.append(item.index)
    elif len(ranks) != count or sorted(ranks.values()) != list(range(1, count + 1)):
        parsed.invalid_order.append(item.index)
    else:
        ordered = sorted(ranks, key=ranks.__getitem__)
        parsed.answers[item.question.id] = [item.options[p].key for p in ordered]
