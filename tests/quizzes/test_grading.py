"""Tests for drawing quizzes and grading answers."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from training.quizzes.bank import Bank, Option, Question
from training.quizzes.grading import (
    Draw,
    DrawnQuestion,
    Grade,
    StaleDrawError,
    grade,
    make_draw,
    mark_percent,
    passed,
    required_correct,
    validate_answers,
)


def make_question(qid: str, kind: str, correct: list[bool] | None = None, n: int = 3) -> Question:
    """Build a valid Question of a kind without going through YAML."""
    answer = None
    steps: tuple[str, ...] = ()
    if kind == "truefalse":
        answer = bool(correct[0]) if correct else True
        options = (Option("true", "正确", answer, "f"), Option("false", "错误", not answer, "f"))
    elif kind == "order":
        steps = tuple(f"步骤{i}" for i in range(1, n + 1))
        options = tuple(Option(str(i), s, True, "") for i, s in enumerate(steps, start=1))
    else:
        flags = correct or [True] + [False] * (n - 1)
        options = tuple(Option("abcdefghij"[i], f"选项{i}", ok, "f") for i, ok in enumerate(flags))
    return Question(
        id=qid,
        kind=kind,
        cites=("4.2.1.2",),
        scenario="",
        prompt="?",
        options=options,
        answer=answer,
        steps=steps,
        feedback="f",
        tags=(),
        generated=False,
        lesson="4.2",
    )


SINGLE = make_question("s", "single", [False, True, False])
MULTI = make_question("m", "multiple", [True, False, True, False])
TF = make_question("t", "truefalse", [False])
ORDER = make_question("o", "order", n=4)
QUESTIONS = {q.id: q for q in (SINGLE, MULTI, TF, ORDER)}
BANK = Bank("4.2", Path("quizzes/4.2.yaml"), tuple(QUESTIONS.values()))
DRAW = Draw(
    seed=0,
    questions=(
        DrawnQuestion("s", ("c", "a", "b")),
        DrawnQuestion("m", ("d", "b", "a", "c")),
        DrawnQuestion("t", ("true", "false")),
        DrawnQuestion("o", ("3", "1", "4", "2")),
    ),
)
ALL_RIGHT = {"s": ["b"], "m": ["a", "c"], "t": ["false"], "o": ["1", "2", "3", "4"]}


@pytest.mark.parametrize(
    ("qid", "chosen", "expected"),
    [
        pytest.param("s", ["b"], True, id="single right"),
        pytest.param("s", ["a"], False, id="single wrong"),
        pytest.param("s", [], False, id="single unanswered"),
        pytest.param("s", ["b", "a"], False, id="single two keys"),
        pytest.param("s", ["b", "b"], False, id="single key repeated"),
        pytest.param("m", ["a", "c"], True, id="multiple exact"),
        pytest.param("m", ["c", "a"], True, id="multiple any order"),
        pytest.param("m", ["a"], False, id="multiple subset"),
        pytest.param("m", ["a", "c", "d"], False, id="multiple superset"),
        pytest.param("m", ["a", "a", "c"], False, id="multiple repeated key"),
        pytest.param("t", ["false"], True, id="truefalse right"),
        pytest.param("t", ["true"], False, id="truefalse wrong"),
        pytest.param("o", ["1", "2", "3", "4"], True, id="order right"),
        pytest.param("o", ["1", "2", "4", "3"], False, id="order swapped"),
        pytest.param("o", ["1", "2", "3"], False, id="order partial"),
        pytest.param("o", ["3", "1", "4", "2"], False, id="order as displayed"),
    ],
)
def test_grade_each_kind(qid: str, chosen: list[str], expected: bool) -> None:
    result = grade(DRAW, QUESTIONS, {**ALL_RIGHT, qid: chosen})
    by_id = {r.question_id: r for r in result.per_question}
    assert by_id[qid].is_correct is expected
    assert by_id[qid].chosen == tuple(chosen)
    assert result.correct_count == 3 + expected
    assert result.score == Fraction(3 + expected, 4)


def test_grade_reports_correct_keys_in_draw_order() -> None:
    result = grade(DRAW, QUESTIONS, ALL_RIGHT)
    assert [(r.question_id, r.correct_keys) for r in result.per_question] == [
        ("s", ("b",)),
        ("m", ("a", "c")),
        ("t", ("false",)),
        ("o", ("1", "2", "3", "4")),
    ]
    assert result.score == 1
    assert result.total == 4


def test_grade_with_no_answers_scores_zero() -> None:
    result = grade(DRAW, QUESTIONS, {})
    assert result.score == 0
    assert result.correct_count == 0
    assert not passed(result)


def test_grade_refuses_a_draw_the_bank_no_longer_matches() -> None:
    with pytest.raises(StaleDrawError, match="no longer in the bank"):
        grade(DRAW, {k: v for k, v in QUESTIONS.items() if k != "m"}, ALL_RIGHT)
    shrunk = {**QUESTIONS, "s": make_question("s", "single", [True, False])}
    with pytest.raises(StaleDrawError, match="options of 's' changed"):
        grade(DRAW, shrunk, ALL_RIGHT)


def result_of(correct: int, total: int) -> Grade:
    """Grade a synthetic attempt with this many right answers."""
    questions = [make_question(f"q{i}", "single") for i in range(total)]
    draw = Draw(0, tuple(DrawnQuestion(q.id, ("a", "b", "c")) for q in questions))
    answers = {q.id: ["a" if i < correct else "b"] for i, q in enumerate(questions)}
    return grade(draw, {q.id: q for q in questions}, answers)


@pytest.mark.parametrize(
    ("correct", "total", "mark", "expected"),
    [
        pytest.param(4, 5, 0.8, True, id="exactly 80%"),
        pytest.param(3, 5, 0.8, False, id="60% of 80%"),
        pytest.param(7, 10, 0.7, True, id="exactly 0.7, not representable in binary"),
        pytest.param(2, 3, 0.67, False, id="two thirds below 0.67"),
        pytest.param(1, 3, Fraction(1, 3), True, id="exactly a third as Fraction"),
        pytest.param(5, 5, 1, True, id="full marks at 1"),
        pytest.param(0, 5, 0, True, id="anything passes at 0"),
        pytest.param(9, 10, "0.9", True, id="mark as string"),
    ],
)
def test_passed_at_the_mark(correct: int, total: int, mark: float, expected: bool) -> None:
    assert passed(result_of(correct, total), mark) is expected


def test_passed_defaults_to_80_percent() -> None:
    assert passed(result_of(4, 5))
    assert not passed(result_of(3, 5))


@pytest.mark.parametrize("mark", [-0.1, 1.01])
def test_passed_refuses_a_mark_outside_0_and_1(mark: float) -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        passed(result_of(1, 1), mark)


@pytest.mark.parametrize(
    ("answers", "fragment"),
    [
        pytest.param({**ALL_RIGHT, "x": ["a"]}, "not in the draw: 'x'", id="unknown question"),
        pytest.param(
            {**ALL_RIGHT, "s": ["z"]}, "s: option keys not in the draw: 'z'", id="bad key"
        ),
        pytest.param(
            {**ALL_RIGHT, "t": ["a"]}, "t: option keys not in the draw", id="key of other"
        ),
        pytest.param({**ALL_RIGHT, "m": ["a", "a"]}, "m: an option is chosen twice", id="repeat"),
        pytest.param({**ALL_RIGHT, "s": "b"}, "s: answer must be a list", id="string answer"),
        pytest.param({**ALL_RIGHT, "m": [["a"]]}, "m: answer must be a list", id="nested"),
        pytest.param({k: v for k, v in ALL_RIGHT.items() if k != "o"}, "unanswered: o", id="gap"),
        pytest.param({**ALL_RIGHT, "m": []}, "unanswered: m", id="empty list"),
    ],
)
def test_validate_answers_reports_tampering(answers: dict, fragment: str) -> None:
    problems = validate_answers(DRAW, answers)
    assert any(fragment in p for p in problems), problems


@pytest.mark.parametrize(
    ("answers", "fragment"),
    [
        pytest.param({**ALL_RIGHT, "s": ["a", "b"]}, "s: choose exactly one", id="single two"),
        pytest.param({**ALL_RIGHT, "t": ["true", "false"]}, "t: choose exactly one", id="tf two"),
        pytest.param({**ALL_RIGHT, "o": ["1", "2"]}, "o: put all 4 steps", id="order partial"),
    ],
)
def test_validate_answers_checks_counts_when_questions_are_given(
    answers: dict, fragment: str
) -> None:
    assert validate_answers(DRAW, answers) == []
    problems = validate_answers(DRAW, answers, QUESTIONS)
    assert any(fragment in p for p in problems), problems


def test_validate_answers_accepts_a_complete_answer_sheet() -> None:
    assert validate_answers(DRAW, ALL_RIGHT, QUESTIONS) == []
    wrong_but_wellformed = {"s": ["a"], "m": ["d"], "t": ["true"], "o": ["4", "3", "2", "1"]}
    assert validate_answers(DRAW, wrong_but_wellformed, QUESTIONS) == []


def test_validate_answers_lists_every_unanswered_question() -> None:
    assert validate_answers(DRAW, {}) == [
        "unanswered: s",
        "unanswered: m",
        "unanswered: t",
        "unanswered: o",
    ]


def test_make_draw_keeps_truefalse_order_and_never_shows_steps_in_order() -> None:
    for seed in range(200):
        draw = make_draw(BANK, seed, size=4)
        by_id = {q.question_id: q.option_keys for q in draw.questions}
        assert by_id["t"] == ("true", "false")
        assert by_id["o"] != ("1", "2", "3", "4")
        assert sorted(by_id["o"]) == ["1", "2", "3", "4"]


def test_make_draw_takes_the_whole_bank_when_it_is_small() -> None:
    draw = make_draw(BANK, 7, size=10)
    assert sorted(q.question_id for q in draw.questions) == ["m", "o", "s", "t"]
    assert draw.seed == 7


def test_make_draw_refuses_size_zero() -> None:
    with pytest.raises(ValueError, match="at least one"):
        make_draw(BANK, 1, size=0)


def test_draw_round_trips_through_a_dict() -> None:
    draw = make_draw(BANK, 3)
    assert Draw.from_dict(draw.as_dict()) == draw


@pytest.mark.parametrize("stored", [{}, {"seed": 1}, {"seed": 1, "questions": [{"id": "x"}]}])
def test_draw_from_a_malformed_dict_raises_value_error(stored: dict) -> None:
    with pytest.raises(ValueError, match="not a stored draw"):
        Draw.from_dict(stored)


# --- properties over random banks, draws and answers ---------------------------------


@st.composite
def questions(draw: st.DrawFn, qid: str) -> Question:
    """Draw a valid random question of any kind."""
    kind = draw(st.sampled_from(["single", "multiple", "truefalse", "order"]))
    if kind == "single":
        n = draw(st.integers(2, 6))
        right = draw(st.integers(0, n - 1))
        return make_question(qid, kind, [i == right for i in range(n)])
    if kind == "multiple":
        flags = draw(
            st.lists(st.booleans(), min_size=3, max_size=6).filter(
                lambda f: sum(f) >= 2 and not all(f)
            )
        )
        return make_question(qid, kind, flags)
    if kind == "truefalse":
        return make_question(qid, kind, [draw(st.booleans())])
    return make_question(qid, kind, n=draw(st.integers(3, 6)))


@st.composite
def banks(draw: st.DrawFn) -> Bank:
    """Draw a bank of 1–12 random questions with unique ids."""
    n = draw(st.integers(1, 12))
    items = tuple(draw(questions(f"q-{i}")) for i in range(n))
    return Bank("4.2", Path("quizzes/4.2.yaml"), items)


seeds = st.integers(min_value=0, max_value=2**32)
sizes = st.integers(min_value=1, max_value=15)


@settings(max_examples=200)
@given(bank=banks(), seed=seeds, size=sizes)
def test_draw_is_deterministic_and_has_no_duplicates(bank: Bank, seed: int, size: int) -> None:
    draw = make_draw(bank, seed, size)
    assert draw == make_draw(bank, seed, size)
    ids = [q.question_id for q in draw.questions]
    assert len(ids) == len(set(ids)) == min(size, len(bank.questions))
    by_id = bank.by_id()
    for drawn in draw.questions:
        assert sorted(drawn.option_keys) == sorted(o.key for o in by_id[drawn.question_id].options)


@settings(max_examples=200)
@given(bank=banks(), seed=seeds, size=sizes, data=st.data())
def test_score_is_between_0_and_1_for_any_answers(
    bank: Bank, seed: int, size: int, data: st.DataObject
) -> None:
    draw = make_draw(bank, seed, size)
    answers = {
        q.question_id: data.draw(st.lists(st.sampled_from(q.option_keys), max_size=6))
        for q in draw.questions
    }
    result = grade(draw, bank.by_id(), answers)
    assert 0 <= result.score <= 1
    assert result.correct_count == sum(r.is_correct for r in result.per_question)
    assert result.score == Fraction(result.correct_count, result.total)


@settings(max_examples=200)
@given(bank=banks(), seed=seeds, size=sizes)
def test_all_correct_answers_score_1_and_pass(bank: Bank, seed: int, size: int) -> None:
    draw = make_draw(bank, seed, size)
    by_id = bank.by_id()
    answers = {q.question_id: list(by_id[q.question_id].correct_keys()) for q in draw.questions}
    assert validate_answers(draw, answers, by_id) == []
    result = grade(draw, by_id, answers)
    assert result.score == 1
    assert passed(result, 1.0)


@settings(max_examples=200)
@given(total=st.integers(1, 30), data=st.data())
def test_passing_exactly_at_a_fraction_mark_passes(total: int, data: st.DataObject) -> None:
    correct = data.draw(st.integers(0, total))
    mark = Fraction(correct, total)
    assert passed(result_of(correct, total), mark)
    if correct:
        assert not passed(result_of(correct - 1, total), mark)


@settings(max_examples=101)
@given(percent=st.integers(0, 100))
def test_passing_exactly_at_a_percent_mark_given_as_float_passes(percent: int) -> None:
    step = math.gcd(percent, 100)
    result = result_of(percent // step, 100 // step)
    assert passed(result, percent / 100)
    if percent < 100:
        assert not passed(result, (percent + 1) / 100)


TEN = Bank(
    "4.2", Path("quizzes/4.2.yaml"), tuple(make_question(f"q{i}", "single") for i in range(10))
)


def _ids(draw: Draw) -> list[str]:
    return [q.question_id for q in draw.questions]


@pytest.mark.parametrize("seed", range(50))
def test_a_retry_draws_what_the_learner_has_seen_least(seed: int) -> None:
    history: list[list[str]] = []
    for _ in range(8):
        ids = _ids(make_draw(TEN, seed * 100 + len(history), 5, history=history))
        assert len(set(ids)) == 5
        if history:
            assert len(set(ids) & set(history[-1])) <= 2  # at most 40 % repeats
            assert set(ids) not in [set(earlier) for earlier in history]
        if len(history) == 1:
            assert not set(ids) & set(history[0])  # five unseen questions were there
        history.append(ids)
    seen = {qid: sum(qid in h for h in history) for qid in TEN.by_id()}
    assert max(seen.values()) - min(seen.values()) <= 2


@settings(max_examples=200)
@given(bank=banks(), seed=seeds, size=sizes, data=st.data())
def test_a_retry_never_repeats_an_earlier_set_while_the_bank_allows(
    bank: Bank, seed: int, size: int, data: st.DataObject
) -> None:
    ids = list(bank.by_id())
    count = min(size, len(ids))
    history = [
        data.draw(st.lists(st.sampled_from(ids), min_size=count, max_size=count, unique=True))
        for _ in range(data.draw(st.integers(0, 4)))
    ]
    drawn = set(_ids(make_draw(bank, seed, size, history=history)))
    assert len(drawn) == count
    possible = math.comb(len(ids), count)
    if possible > len({frozenset(h) for h in history}):
        assert drawn not in [set(h) for h in history]


@pytest.mark.parametrize(
    ("mark", "total", "needed", "percent"),
    [("4/5", 5, 4, 80), ("4/5", 4, 4, 80), ("0.8", 3, 3, 80), ("3/5", 5, 3, 60), ("2/3", 5, 4, 67)],
)
def test_required_correct_and_percent_of_a_pass_mark(mark, total, needed, percent) -> None:
    assert required_correct(mark, total) == needed
    assert mark_percent(mark) == percent
