"""Load quiz banks from YAML and validate them against the bank format (pure, no Flask)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from fractions import Fraction
from pathlib import Path
from typing import Any

import yaml

from training.norm.model import normalize_text
from training.quizzes import schema
from training.quizzes.items import KINDS, TAGS, Bank, Option, Problem, Question

__all__ = [
    "Bank",
    "Option",
    "Problem",
    "Question",
    "bank_stats",
    "load_bank",
    "load_banks",
]


# YAML files in quizzes/ that are data for generating items, not banks.
NOT_BANKS = frozenset({"distractors.yaml"})


def load_bank(
    path: Path,
    *,
    clause_numbers: Collection[str] | None = None,
    lesson_numbers: Collection[str] | None = None,
) -> tuple[Bank | None, list[Problem]]:
    """Load and validate one bank file; the bank is None whenever a problem was found."""
    problems: list[Problem] = []

    def report(place: str, message: str) -> None:
        problems.append(Problem(path, place, message))

    data = _read_yaml(path, report)
    if data is None:
        return None, problems
    if not isinstance(data, dict):
        report("", "the file must be a YAML mapping with 'lesson' and 'questions'")
        return None, problems

    for key in data:
        if key not in ("lesson", "questions", "pass_mark"):
            report(_line(data), f"unknown top-level key {key!r}")
    pass_mark = data.get("pass_mark")
    if pass_mark is not None and (
        isinstance(pass_mark, bool)
        or not isinstance(pass_mark, int | float)
        or not 0 < pass_mark <= 1
    ):
        report(_line(data), f"pass_mark must be a number in (0, 1], not {pass_mark!r}")
        pass_mark = None
    lesson = data.get("lesson")
    if not isinstance(lesson, str) or not lesson.strip():
        report(_line(data), _string_needed("lesson", lesson))
        lesson = ""
    elif lesson_numbers is not None and lesson not in lesson_numbers:
        report(_line(data), f"lesson {lesson!r} does not exist")

    raw_questions = data.get("questions")
    if not isinstance(raw_questions, list) or not raw_questions:
        report(_line(data), "'questions' must be a non-empty list")
        raw_questions = []

    questions: list[Question] = []
    seen_ids: dict[str, str] = {}
    for index, raw in enumerate(raw_questions):
        place = schema.place_of(raw, index)
        qid = raw.get("id") if isinstance(raw, dict) else None
        if isinstance(qid, str) and qid:
            if qid in seen_ids:
                report(place, f"duplicate id (first used at {seen_ids[qid]})")
            else:
                seen_ids[qid] = _line(raw) or place
        question = schema.parse_question(
            raw,
            index=index,
            lesson=lesson,
            clause_numbers=clause_numbers,
            report=report,
        )
        if question is not None:
            questions.append(question)

    if problems:
        return None, problems
    bank = Bank(
        lesson=lesson,
        path=path,
        questions=tuple(questions),
        pass_mark=None if pass_mark is None else Fraction(str(pass_mark)),
    )
    return bank, problems


def load_banks(
    quiz_dir: Path,
    *,
    clause_numbers: Collection[str] | None = None,
    lesson_numbers: Collection[str] | None = None,
) -> tuple[dict[str, Bank], list[Problem]]:
    """Load every ``*.yaml`` bank in a folder; only fully valid banks are returned, by lesson."""
    problems: list[Problem] = []
    loaded: list[Bank] = []
    for stray in sorted(quiz_dir.glob("*.yml")):
        problems.append(Problem(stray, "", "bank files must end in .yaml; this file is ignored"))
    for path in sorted(quiz_dir.glob("*.yaml")):
        if path.name in NOT_BANKS:
            continue
        bank, found = load_bank(path, clause_numbers=clause_numbers, lesson_numbers=lesson_numbers)
        problems.extend(found)
        if bank is None:
            continue
        if path.stem != bank.lesson:
            problems.append(
                Problem(path, "", f"file name must be {bank.lesson}.yaml to match its lesson")
            )
            continue
        loaded.append(bank)

    owners: dict[str, list[Bank]] = {}
    for bank in loaded:
        for question in bank.questions:
            owners.setdefault(question.id, []).append(bank)
    clashing: set[Path] = set()
    for qid, banks in owners.items():
        if len(banks) < 2:
            continue
        for bank in banks:
            others = ", ".join(b.path.name for b in banks if b is not bank)
            problems.append(Problem(bank.path, qid, f"id is also used in {others}"))
            clashing.add(bank.path)

    result = {bank.lesson: bank for bank in loaded if bank.path not in clashing}
    return result, problems


def bank_stats(banks: Mapping[str, Bank] | Iterable[Bank]) -> dict[str, Any]:
    """Count items per lesson, kind and tag, and how often the correct single option is longest."""
    bank_list = list(banks.values()) if isinstance(banks, Mapping) else list(banks)
    questions = [q for bank in bank_list for q in bank.questions]
    tags: Counter[str] = Counter(tag for q in questions for tag in q.tags)
    tags["untagged"] = sum(1 for q in questions if not q.tags)
    singles = [q for q in questions if q.kind == "single"]
    longest = sum(1 for q in singles if _correct_is_longest(q))
    return {
        "total": len(questions),
        "per_lesson": {b.lesson: len(b.questions) for b in sorted(bank_list, key=_lesson_key)},
        "per_kind": {kind: sum(1 for q in questions if q.kind == kind) for kind in KINDS},
        "with_scenario": sum(1 for q in questions if q.scenario),
        "generated": sum(1 for q in questions if q.generated),
        "per_tag": {tag: tags[tag] for tag in (*TAGS, "untagged")},
        "single_correct_longest": longest,
        "single_correct_longest_share": longest / len(singles) if singles else 0.0,
    }


def _correct_is_longest(question: Question) -> bool:
    """Return True when the correct option is strictly longer than every other option."""
    lengths = [(len(normalize_text(o.text)), o.correct) for o in question.options]
    correct = max(n for n, ok in lengths if ok)
    return all(n < correct for n, ok in lengths if not ok)


def _lesson_key(bank: Bank) -> tuple[int | str, ...]:
    """Sort "4.10" after "4.9"."""
    return tuple(int(p) if p.isdigit() else p for p in bank.lesson.split("."))


def _read_yaml(path: Path, report: schema.Report) -> Any:
    """Return the parsed YAML document, or None after reporting why it cannot be read."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        report("", "the file is not valid UTF-8")
        return None
    except OSError as exc:
        report("", f"cannot read the file: {exc.strerror or exc}")
        return None
    try:
        data = yaml.load(text, Loader=schema.BankLoader)  # noqa: S506 - BankLoader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        place = f"line {mark.line + 1}" if mark else ""
        report(place, f"YAML syntax error: {exc.problem or exc.context}")
        return None
    except yaml.YAMLError as exc:
        report("", f"YAML error: {exc}")
        return None
    if data is None:
        report("", "the file is empty")
    return data


def _line(node: object) -> str:
    """Return "line N" for a mapping read by BankLoader, else an empty string."""
    line = getattr(node, "line", None)
    return f"line {line}" if line else ""


def _string_needed(name: str, value: object) -> str:
    """Explain that a value must be a quoted, non-empty string."""
    if value is None or value == "":
        return f"'{name}' is missing or empty"
    return f"'{name}' must be a quoted string, not {type(value).__name__} {value!r}"


GENERATED_DIR = "generated"


def load_all_banks(
    quiz_dir: Path, *, clause_numbers: Collection[str], lesson_numbers: Collection[str]
) -> tuple[dict[str, list[Question]], list[Problem]]:
    """Load authored banks and ``generated/`` banks together: questions by lesson, and problems.

    Ids must be unique across both folders.
    """
    authored, problems = load_banks(
        quiz_dir, clause_numbers=clause_numbers, lesson_numbers=lesson_numbers
    )
    generated: dict[str, Bank] = {}
    if (quiz_dir / GENERATED_DIR).is_dir():
        generated, more = load_banks(
            quiz_dir / GENERATED_DIR, clause_numbers=clause_numbers, lesson_numbers=lesson_numbers
        )
        problems.extend(more)
    seen: dict[str, Path] = {}
    by_lesson: dict[str, list[Question]] = {}
    for bank in [*authored.values(), *generated.values()]:
        for question in bank.questions:
            if question.id in seen:
                problems.append(
                    Problem(bank.path, question.id, f"id is also used in {seen[question.id]}")
                )
            seen[question.id] = bank.path
            by_lesson.setdefault(bank.lesson, []).append(question)
    return by_lesson, problems
