"""Check one raw YAML question against the bank format and build a Question (pure)."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator
from typing import Any

import yaml

from training.norm.model import normalize_text
from training.quizzes.items import FALSE_KEY, KINDS, TAGS, TRUE_KEY, Option, Question

Report = Callable[[str, str], None]

QUESTION_KEYS = frozenset(
    {
        "id",
        "kind",
        "cites",
        "scenario",
        "prompt",
        "options",
        "answer",
        "steps",
        "feedback",
        "tags",
        "generated",
        "source_clause",
        "reviewed_for",
    }
)
OPTION_KEYS = frozenset({"text", "correct", "feedback"})
# Keys that belong to one kind only; anything else on that kind is a mistake.
KIND_KEYS = {
    "single": frozenset({"options"}),
    "multiple": frozenset({"options"}),
    "truefalse": frozenset({"answer"}),
    "order": frozenset({"steps"}),
}
ALTERNATIVE_KEYS = frozenset().union(*KIND_KEYS.values())
ID_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# "All/none of the above" and its usual spellings give the answer away.
GIVEAWAY = re.compile(r"以上(?:都|皆|均|全)(?:对|是|非|不对|不是|正确|错误|不正确)")
OPTION_KEY_LETTERS = "abcdefghijklmnopqrstuvwxyz"


class BankLoader(yaml.SafeLoader):
    """A SafeLoader that rejects duplicate keys and remembers each mapping's line."""


class _LineDict(dict):
    """A dict that knows the 1-based line its YAML mapping started on."""

    line: int = 0


def _construct_mapping(loader: BankLoader, node: yaml.MappingNode) -> Iterator[_LineDict]:
    """Build a _LineDict, refusing duplicate keys, which YAML would silently overwrite."""
    data = _LineDict()
    data.line = node.start_mark.line + 1
    yield data
    seen: set[str] = set()
    for key_node, _ in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value != "<<":
            if key_node.value in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key_node.value!r}", key_node.start_mark
                )
            seen.add(key_node.value)
    data.update(loader.construct_mapping(node))


BankLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)


def place_of(raw: object, index: int) -> str:
    """Name a question by its id, or by position and line when it has no usable id."""
    if isinstance(raw, dict):
        qid = raw.get("id")
        if isinstance(qid, str) and qid.strip():
            return qid
        line = getattr(raw, "line", 0)
        if line:
            return f"questions[{index}] (line {line})"
    return f"questions[{index}]"


def parse_question(
    raw: object,
    *,
    index: int,
    lesson: str,
    clause_numbers: Collection[str] | None,
    report: Report,
) -> Question | None:
    """Return the Question for one raw item, or None after reporting every problem found."""
    place = place_of(raw, index)
    count = 0

    def bad(message: str) -> None:
        nonlocal count
        count += 1
        report(place, message)

    if not isinstance(raw, dict):
        bad("each question must be a mapping")
        return None
    for key in raw:
        if key not in QUESTION_KEYS:
            bad(f"unknown key {key!r}")

    qid = raw.get("id")
    if not isinstance(qid, str) or not qid:
        bad("'id' is missing")
        qid = ""
    elif not ID_PATTERN.fullmatch(qid):
        bad(f"id {qid!r} must be kebab-case (a-z, 0-9 and single hyphens)")

    kind = raw.get("kind")
    if not isinstance(kind, str) or kind not in KINDS:
        bad(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
        kind = ""
    else:
        for key in sorted(ALTERNATIVE_KEYS - KIND_KEYS[kind]):
            if key in raw:
                bad(f"a {kind} question has no {key!r}")

    cites = _string_list(raw.get("cites"), "cites", bad, required=True)
    if clause_numbers is not None:
        for cite in cites:
            if cite not in clause_numbers:
                bad(f"cited clause {cite} does not exist in the norm")

    scenario = _text(raw.get("scenario"), "scenario", bad, required=False)
    prompt = _text(raw.get("prompt"), "prompt", bad, required=True)
    feedback = _text(raw.get("feedback"), "feedback", bad, required=kind in ("truefalse", "order"))
    tags = _string_list(raw.get("tags"), "tags", bad, required=False)
    for tag in tags:
        if tag not in TAGS:
            bad(f"unknown tag {tag!r}; use {', '.join(TAGS)}")
    if len(set(tags)) != len(tags):
        bad("tags repeat")

    generated = raw.get("generated", False)
    if not isinstance(generated, bool):
        bad("'generated' must be true or false")
        generated = False
    source_clause = raw.get("source_clause")
    if source_clause is not None:
        if not isinstance(source_clause, str) or not source_clause:
            bad("'source_clause' must be a quoted clause number")
            source_clause = None
        elif source_clause not in cites:
            bad(f"source_clause {source_clause} must also be listed in 'cites'")
        if not generated:
            bad("'source_clause' is only for items marked 'generated: true'")
    elif generated:
        bad("a generated item needs 'source_clause'")

    # After a revision changes a cited clause, the author re-reads the item and
    # records the version (first 12 hex digits of its digest) it was checked against.
    reviewed_for = raw.get("reviewed_for", "")
    if not isinstance(reviewed_for, str):
        bad("'reviewed_for' must be a quoted version digest")
        reviewed_for = ""

    answer: bool | None = None
    steps: tuple[str, ...] = ()
    options: tuple[Option, ...] = ()
    if kind in ("single", "multiple"):
        options = _choice_options(raw.get("options"), kind, bad)
    elif kind == "truefalse":
        answer = raw.get("answer")
        if not isinstance(answer, bool):
            bad("a truefalse question needs 'answer: true' or 'answer: false'")
            answer = None
        else:
            options = (
                Option(TRUE_KEY, "正确", answer, feedback),
                Option(FALSE_KEY, "错误", not answer, feedback),
            )
    elif kind == "order":
        steps = _steps(raw.get("steps"), bad)
        options = tuple(Option(str(i), s, True, "") for i, s in enumerate(steps, start=1))

    if count:
        return None
    return Question(
        id=qid,
        kind=kind,
        cites=tuple(cites),
        scenario=scenario,
        prompt=prompt,
        options=options,
        answer=answer,
        steps=steps,
        feedback=feedback,
        tags=tuple(tags),
        generated=generated,
        lesson=lesson,
        source_clause=source_clause,
        reviewed_for=reviewed_for,
    )


def _choice_options(raw: Any, kind: str, bad: Callable[[str], None]) -> tuple[Option, ...]:
    """Check the options of a single/multiple question and give them keys a, b, …."""
    if not isinstance(raw, list):
        bad(f"a {kind} question needs a list of 'options'")
        return ()
    minimum = 2 if kind == "single" else 3
    if len(raw) < minimum:
        bad(f"a {kind} question needs at least {minimum} options, has {len(raw)}")
    if len(raw) > len(OPTION_KEY_LETTERS):
        bad(f"too many options ({len(raw)})")
        return ()
    options: list[Option] = []
    seen: dict[str, int] = {}
    for number, item in enumerate(raw, start=1):
        where = f"option {number}"
        if not isinstance(item, dict):
            bad(f"{where} must be a mapping with 'text' and 'feedback'")
            continue
        for key in item:
            if key not in OPTION_KEYS:
                bad(f"{where}: unknown key {key!r}")
        text = _text(item.get("text"), f"{where} text", bad, required=True)
        feedback = _text(item.get("feedback"), f"{where} feedback", bad, required=True)
        correct = item.get("correct", False)
        if not isinstance(correct, bool):
            bad(f"{where}: 'correct' must be true or false")
            correct = False
        if text:
            folded = normalize_text(text)
            if GIVEAWAY.search(folded):
                bad(f"{where}: no 'all/none of the above' options ({text!r})")
            if folded in seen:
                bad(f"{where} repeats the text of option {seen[folded]}")
            seen.setdefault(folded, number)
        options.append(Option(OPTION_KEY_LETTERS[number - 1], text, correct, feedback))

    right = sum(1 for item in raw if isinstance(item, dict) and item.get("correct") is True)
    if kind == "single" and right != 1:
        bad(f"a single question needs exactly one correct option, has {right}")
    if kind == "multiple":
        if right < 2:
            bad(f"a multiple question needs two or more correct options, has {right}")
        if raw and right == len(raw):
            bad("a multiple question needs at least one wrong option")
    return tuple(options)


def _steps(raw: Any, bad: Callable[[str], None]) -> tuple[str, ...]:
    """Check the steps of an order question."""
    if not isinstance(raw, list):
        bad("an order question needs a list of 'steps'")
        return ()
    steps = [_text(item, f"step {n}", bad, required=True) for n, item in enumerate(raw, start=1)]
    filled = [normalize_text(s) for s in steps if s]
    if len(set(filled)) != len(filled):
        bad("steps must be distinct")
    if len(steps) < 3:
        bad(f"an order question needs at least 3 steps, has {len(steps)}")
    if len(steps) > len(OPTION_KEY_LETTERS):
        bad(f"too many steps ({len(steps)})")  # as options: a bank file names them A…Z
    return tuple(steps)


def _text(value: Any, name: str, bad: Callable[[str], None], *, required: bool) -> str:
    """Return a stripped string field, reporting a missing or non-string value."""
    if value is None:
        if required:
            bad(f"'{name}' is missing")
        return ""
    if not isinstance(value, str):
        bad(f"'{name}' must be text, not {type(value).__name__} {value!r}; quote it")
        return ""
    text = value.strip()
    if not text and required:
        bad(f"'{name}' is empty")
    return text


def _string_list(value: Any, name: str, bad: Callable[[str], None], *, required: bool) -> list[str]:
    """Return a list of non-empty strings, reporting anything else."""
    if value is None:
        if required:
            bad(f"'{name}' is missing")
        return []
    if not isinstance(value, list):
        bad(f"'{name}' must be a list")
        return []
    if not value and required:
        bad(f"'{name}' must not be empty")
    result = []
    for item in value:
        if not isinstance(item, str) or not item.strip():
            bad(f"every entry of '{name}' must be a quoted string, not {item!r}")
        else:
            result.append(item.strip())
    return result
