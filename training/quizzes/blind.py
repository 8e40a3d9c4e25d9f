"""The blind check of ``QUIZ-GUIDE.md``: a keyless, shuffled sheet, its key, and a scorer (pure).

A reader sees only ``sheet.md`` — numbered items, options lettered in a shuffled order, no
ids, clause numbers or feedback — and writes one line per item (``12: B``, ``13: AC``,
``14: CABD``). ``key.json`` holds the letters of each item's key and the item it came
from; ``score`` compares a reader's answers with it.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from training.quizzes.items import Question, flow_text, question_to_dict

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
KIND_LABELS = {
    "single": "单选:选出一个答案",
    "multiple": "多选:选出所有正确的选项",
    "truefalse": "判断:A 正确,B 错误",
    "order": "排序:按正确的先后顺序写出全部字母",
}
ANSWER_LINE = re.compile(r"^\s*(\d+)\s*[:：.、)]?\s*([A-Za-z][A-Za-z ,，、/]*)?\s*$")


def banks_digest(by_lesson: Mapping[str, Sequence[Question]]) -> str:
    """Return a digest of every question's content, the same whatever the order of banks."""
    parts = sorted(
        json.dumps(question_to_dict(q), sort_keys=True, ensure_ascii=False)
        for questions in by_lesson.values()
        for q in questions
    )
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SheetItem:
    """One item of the sheet: what the reader sees, and the letters of its key."""

    number: int
    question: Question
    letters: tuple[str, ...]  # option keys in the order shown, by letter
    answer: str  # the key as letters ("B", "AC", "CABD")


def make_sheet(by_lesson: Mapping[str, Sequence[Question]], seed: int) -> list[SheetItem]:
    """Shuffle items across lessons and the options of each, reproducibly from the seed."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible shuffle, not a secret
    questions = [q for lesson in sorted(by_lesson) for q in by_lesson[lesson]]
    rng.shuffle(questions)
    items = []
    for number, question in enumerate(questions, start=1):
        keys = [o.key for o in question.options]
        if question.kind == "truefalse":
            keys = ["true", "false"]
        else:
            correct_order = list(keys)
            rng.shuffle(keys)
            if question.kind == "order" and keys == correct_order:
                keys = keys[1:] + keys[:1]
        letter_of = {key: LETTERS[i] for i, key in enumerate(keys)}
        answer = "".join(letter_of[k] for k in question.correct_keys())
        if question.kind == "multiple":
            answer = "".join(sorted(answer))
        items.append(SheetItem(number, question, tuple(keys), answer))
    return items


def render_sheet(items: Sequence[SheetItem]) -> str:
    """Return the keyless sheet as Markdown."""
    lines = [
        "# 服务规范测验 · 盲测答题卷",
        "",
        f"共 {len(items)} 题。每题写一行答案,例如 `12: B`、`13: AC`、`14: CABD`。",
        "",
    ]
    for item in items:
        q = item.question
        lines.append(f"## {item.number}. ({KIND_LABELS[q.kind]})")
        lines.append("")
        if q.scenario:
            lines.extend([flow_text(q.scenario), ""])
        lines.extend([flow_text(q.prompt), ""])
        for letter, key in zip(LETTERS, item.letters, strict=False):
            option = q.option(key)
            text = option.text if option is not None else key
            lines.append(f"- {letter}. {flow_text(text)}")
        lines.append("")
    return "\n".join(lines)


def render_key(items: Sequence[SheetItem], digest: str, seed: int) -> dict[str, Any]:
    """Return the key: per item number, its letters, the question id, lesson and kind."""
    return {
        "digest": digest,
        "seed": seed,
        "items": {
            str(item.number): {
                "answer": item.answer,
                "id": item.question.id,
                "lesson": item.question.lesson,
                "kind": item.question.kind,
                "generated": item.question.generated,
            }
            for item in items
        },
    }


class AnswerError(ValueError):
    """An answer file line cannot be read; the message names the line."""


def parse_answers(text: str) -> dict[str, str]:
    """Read ``N: LETTERS`` lines (blank answers allowed); raise AnswerError on anything else."""
    answers: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = ANSWER_LINE.match(line)
        if not match:
            raise AnswerError(f"line {number}: expected 'N: LETTERS', got {line.strip()!r}")
        item, letters = match.group(1), re.sub(r"[^A-Za-z]", "", match.group(2) or "")
        if item in answers:
            raise AnswerError(f"line {number}: item {item} is answered twice")
        answers[item] = letters.upper()
    return answers


@dataclass
class Score:
    """How a reader's answers compare with the key."""

    total: int = 0
    correct: int = 0
    unanswered: int = 0
    wrong: list[tuple[int, str, str, str]] = field(default_factory=list)  # number, id, given, key
    by_lesson: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    by_kind: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))

    @property
    def share(self) -> float:
        return self.correct / self.total if self.total else 0.0

    def lines(self) -> list[str]:
        """Return the score as lines of text."""
        out = [f"correct: {self.correct} of {self.total} ({self.share:.1%})"]
        if self.unanswered:
            out.append(f"unanswered: {self.unanswered}")
        out.append(
            "by kind: " + ", ".join(f"{k} {c}/{t}" for k, (c, t) in sorted(self.by_kind.items()))
        )
        out.append(
            "by lesson: "
            + ", ".join(f"{k} {c}/{t}" for k, (c, t) in sorted(self.by_lesson.items()))
        )
        out.extend(
            f"  #{n} {qid}: answered {given or '-'}, key {key}" for n, qid, given, key in self.wrong
        )
        return out


def score(key: Mapping[str, Any], answers: Mapping[str, str]) -> Score:
    """Compare answers with the key: multiple as a set of letters, order as a sequence."""
    result = Score()
    for number, entry in sorted(key["items"].items(), key=lambda pair: int(pair[0])):
        given = answers.get(number, "")
        expected = entry["answer"]
        if entry["kind"] == "multiple":
            right = sorted(given) == sorted(expected) and len(set(given)) == len(given)
        else:
            right = given == expected
        result.total += 1
        result.unanswered += not given
        for bucket in (result.by_lesson[entry["lesson"]], result.by_kind[entry["kind"]]):
            bucket[0] += right
            bucket[1] += 1
        if right:
            result.correct += 1
        else:
            result.wrong.append((int(number), entry["id"], given, expected))
    return result
