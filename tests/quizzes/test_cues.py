"""Cue statistics: every rule of the assessment issue, with a bank that breaks it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from training.quizzes.check import course_banks
from training.quizzes.cues import (
    citable_clauses,
    course_cues,
    item_cues,
    key_echoes_norm,
    key_is_longest,
)
from training.quizzes.items import Option, Question


def q(
    qid: str,
    kind: str = "single",
    options: list[tuple[str, bool]] | None = None,
    *,
    answer: bool | None = None,
    cites: tuple[str, ...] = ("4.2.1.2",),
) -> Question:
    if kind == "truefalse":
        opts = (Option("true", "正确", bool(answer), "f"), Option("false", "错误", not answer, "f"))
    else:
        options = options or [("甲方案", True), ("乙方案", False), ("丙方案", False)]
        opts = tuple(Option("abcdefgh"[i], text, ok, "f") for i, (text, ok) in enumerate(options))
    return Question(
        id=qid,
        kind=kind,
        cites=cites,
        scenario="",
        prompt="?",
        options=opts,
        answer=answer,
        steps=(),
        feedback="f",
        tags=(),
        generated=False,
        lesson="4.2",
    )


def fine_bank(n: int = 10) -> list[Question]:
    """A bank that breaks no rule: varied kinds, balanced true/false, key rarely longest."""
    bank = []
    for i in range(n):
        if i % 3 == 0:
            bank.append(q(f"t{i}", "truefalse", answer=i % 2 == 0))
        elif i % 3 == 1:
            bank.append(q(f"s{i}", options=[("甲", True), ("乙乙", False), ("丙", False)]))
        else:
            right = 2 + i % 3
            opts = [(f"选项{k}", k < right) for k in range(5)]
            bank.append(q(f"m{i}", "multiple", opts))
    return bank


def messages(stats) -> list[str]:
    return [str(cue) for cue in stats.cues]


def test_a_fine_bank_breaks_no_rule():
    assert messages(course_cues({"4.2": fine_bank()}, quiz_size=5)) == []


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ([("先问候。", True), ("再报公司", False), ("最后问需求", False)], "different punctuation"),
        ([("您好", True), ("你好", False), ("哈喽", False)], "only one option uses “您”"),
        (
            [("这里是深圳市正运动技术有限公司", True), ("这里是正运动", False), ("这里是", False)],
            "company's full name",
        ),
    ],
)
def test_single_item_cues(options, expected):
    found = item_cues(q("x", options=options))
    assert any(expected in message for message in found), found


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ([("甲", True), ("乙", True), ("丙", False)], "needs 4–6 options, has 3"),
        ([(f"项{k}", k < 5) for k in range(6)], "needs 2–4 correct options, has 5"),
        ([(f"项{k}", k < 1) for k in range(5)], "needs 2–4 correct options, has 1"),
    ],
)
def test_multiple_item_shape(options, expected):
    assert any(expected in m for m in item_cues(q("m", "multiple", options)))


def test_key_longest_in_more_than_30_percent_of_singles():
    long_key = [q(f"s{i}", options=[("最长的那个选项", True), ("短", False)]) for i in range(4)]
    bank = fine_bank(12) + long_key
    assert key_is_longest(long_key[0])
    assert any(
        "key is the longest option in" in m
        for m in messages(course_cues({"4.2": bank}, quiz_size=5))
    )


def test_key_echoing_the_norm_in_more_than_40_percent_of_singles():
    texts = {"4.2.1.2": "公事电话响后应及时接听,一般不得超过三声"}
    echo = [
        q(
            f"e{i}",
            options=[("及时接听，不超过三声", True), ("先忙完再接", False), ("让同事接", False)],
        )
        for i in range(5)
    ]
    assert key_echoes_norm(echo[0], texts) is True
    stats = course_cues({"4.2": fine_bank() + echo}, quiz_size=5, clause_texts=texts)
    assert any("echoes the cited clauses' wording" in m for m in messages(stats))


@pytest.mark.parametrize("true_count", [1, 9])
def test_true_false_balance_outside_40_to_60_percent(true_count):
    bank = [q(f"t{i}", "truefalse", answer=i < true_count) for i in range(10)]
    found = messages(course_cues({"4.2": bank}, quiz_size=5))
    assert any("true/false items are keyed true" in m for m in found)


def test_multiple_items_all_with_the_same_number_of_correct_options():
    bank = [q(f"m{i}", "multiple", [(f"项{k}", k < 3) for k in range(5)]) for i in range(10)]
    found = messages(course_cues({"4.2": bank}, quiz_size=5))
    assert any("have exactly 3 correct options; vary it" in m for m in found)


def test_a_bank_smaller_than_twice_the_quiz_size():
    found = messages(course_cues({"5": fine_bank(9)}, quiz_size=5))
    assert any(m.startswith("5: the bank holds 9 graded items; at least 10") for m in found)


def test_generated_drills_do_not_count_towards_the_bank_size():
    drills = [
        replace(question, id=f"g{i}", generated=True) for i, question in enumerate(fine_bank(5))
    ]
    stats = course_cues({"5": [*fine_bank(9), *drills]}, quiz_size=5)
    assert stats.per_lesson["5"] == 9
    assert any(m.startswith("5: the bank holds 9 graded items") for m in messages(stats))


def test_a_clause_nobody_cites():
    stats = course_cues({"4.2": fine_bank()}, quiz_size=5, clauses=["4.2.1.2", "4.2.1.3"])
    assert stats.uncited == ["4.2.1.3"]
    assert "clause 4.2.1.3 is cited by no item" in messages(stats)


def test_every_clause_that_states_a_rule_must_be_cited(app):
    doc, _, _ = course_banks(app.config["CONTENT_DIR"], app.config["QUIZ_DIR"])
    citable = citable_clauses(doc)
    assert "4.2.1.2" in citable
    assert "4.2.1" not in citable  # a heading without text of its own
    assert "3.3.2" in citable  # a heading with its own text
