"""Tests for loading and validating quiz banks."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from training.quizzes.bank import NOT_BANKS, Problem, bank_stats, load_bank, load_banks

REPO = Path(__file__).resolve().parents[2]
QUIZ_DIR = REPO / "quizzes"


def valid_bank() -> dict[str, Any]:
    """Return a bank with one question of every kind, all valid."""
    return {
        "lesson": "4.2",
        "questions": [
            {
                "id": "phone-first-words",
                "kind": "single",
                "cites": ["4.2.1.2"],
                "scenario": "电话响到第二声。\n",
                "prompt": "你拿起电话,第一句应该怎么说?",
                "tags": ["external"],
                "options": [
                    {"text": "喂?找谁?", "feedback": "语气生硬。"},
                    {
                        "text": "您好,这里是深圳市正运动技术有限公司,请问有什么能帮到您?",
                        "correct": True,
                        "feedback": "规范规定的开头语。",
                    },
                    {"text": "(先把报价单做完)", "feedback": "不得超过三声。"},
                ],
            },
            {
                "id": "visit-must-do",
                "kind": "multiple",
                "cites": ["4.3.1"],
                "prompt": "拜访客户前应做哪些事?",
                "feedback": "准备充分才能体现专业。",
                "options": [
                    {"text": "提前预约", "correct": True, "feedback": "规范要求预约。"},
                    {"text": "准备资料", "correct": True, "feedback": "规范要求准备。"},
                    {"text": "临时上门", "feedback": "打扰客户。"},
                ],
            },
            {
                "id": "three-rings",
                "kind": "truefalse",
                "cites": ["4.2.1.1"],
                "prompt": "公事电话一般不得超过三声就应接听。",
                "answer": True,
                "feedback": "规范原文如此。",
                "tags": ["external", "concept"],
            },
            {
                "id": "guest-steps",
                "kind": "order",
                "cites": ["4.4.1"],
                "prompt": "接待来宾的顺序是?",
                "steps": ["起身迎接", "引导入座", "奉茶"],
                "feedback": "先迎接,再入座,后奉茶。",
                "tags": ["internal"],
            },
            {
                "id": "gen-greeting",
                "kind": "single",
                "cites": ["4.2.1.2"],
                "prompt": "接听电话时应说?",
                "generated": True,
                "source_clause": "4.2.1.2",
                "options": [
                    {"text": "您好", "correct": True, "feedback": "规范用语。"},
                    {"text": "哪位", "feedback": "生硬。"},
                ],
            },
        ],
    }


def write(folder: Path, data: Any, name: str = "4.2.yaml") -> Path:
    """Write data as a YAML bank file (or raw text when given a str) and return its path."""
    path = folder / name
    text = data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True)
    path.write_text(text, encoding="utf-8")
    return path


def question(bank: dict[str, Any], qid: str) -> dict[str, Any]:
    """Return the raw question with this id."""
    return next(q for q in bank["questions"] if q["id"] == qid)


def test_valid_bank_loads_every_kind(tmp_path: Path) -> None:
    path = write(tmp_path, valid_bank())
    bank, problems = load_bank(path)
    assert problems == []
    assert bank is not None
    assert bank.lesson == "4.2"
    assert bank.path == path
    assert [q.kind for q in bank.questions] == [
        "single",
        "multiple",
        "truefalse",
        "order",
        "single",
    ]
    assert {q.lesson for q in bank.questions} == {"4.2"}


def test_option_keys_follow_file_order(tmp_path: Path) -> None:
    bank, _ = load_bank(write(tmp_path, valid_bank()))
    assert bank is not None
    single = bank.by_id()["phone-first-words"]
    assert [o.key for o in single.options] == ["a", "b", "c"]
    assert single.correct_keys() == ("b",)
    assert single.scenario == "电话响到第二声。"
    assert single.tags == ("external",)
    assert bank.by_id()["visit-must-do"].correct_keys() == ("a", "b")


def test_truefalse_gets_true_and_false_options(tmp_path: Path) -> None:
    bank, _ = load_bank(write(tmp_path, valid_bank()))
    assert bank is not None
    item = bank.by_id()["three-rings"]
    assert [(o.key, o.text, o.correct) for o in item.options] == [
        ("true", "正确", True),
        ("false", "错误", False),
    ]
    assert item.answer is True
    assert item.correct_keys() == ("true",)


def test_order_steps_become_numbered_options_in_correct_order(tmp_path: Path) -> None:
    bank, _ = load_bank(write(tmp_path, valid_bank()))
    assert bank is not None
    item = bank.by_id()["guest-steps"]
    assert [(o.key, o.text) for o in item.options] == [
        ("1", "起身迎接"),
        ("2", "引导入座"),
        ("3", "奉茶"),
    ]
    assert item.correct_keys() == ("1", "2", "3")
    assert item.steps == ("起身迎接", "引导入座", "奉茶")


def test_generated_item_keeps_its_source_clause(tmp_path: Path) -> None:
    bank, _ = load_bank(write(tmp_path, valid_bank()))
    assert bank is not None
    item = bank.by_id()["gen-greeting"]
    assert item.generated is True
    assert item.source_clause == "4.2.1.2"


def test_problem_str_names_file_place_and_message() -> None:
    assert str(Problem(Path("q/4.2.yaml"), "x-1", "bad")) == "q/4.2.yaml: x-1: bad"
    assert str(Problem(Path("q/4.2.yaml"), "", "bad")) == "q/4.2.yaml: bad"


Mutation = Callable[[dict[str, Any]], None]


def _set(qid: str, key: str, value: Any) -> Mutation:
    def mutate(bank: dict[str, Any]) -> None:
        question(bank, qid)[key] = value

    return mutate


def _drop(qid: str, key: str) -> Mutation:
    def mutate(bank: dict[str, Any]) -> None:
        del question(bank, qid)[key]

    return mutate


def _option(qid: str, index: int, key: str, value: Any) -> Mutation:
    def mutate(bank: dict[str, Any]) -> None:
        question(bank, qid)["options"][index][key] = value

    return mutate


def _drop_option_key(qid: str, index: int, key: str) -> Mutation:
    def mutate(bank: dict[str, Any]) -> None:
        del question(bank, qid)["options"][index][key]

    return mutate


def _top(key: str, value: Any) -> Mutation:
    def mutate(bank: dict[str, Any]) -> None:
        bank[key] = value

    return mutate


def _drop_top(key: str) -> Mutation:
    def mutate(bank: dict[str, Any]) -> None:
        del bank[key]

    return mutate


def _duplicate_first_question(bank: dict[str, Any]) -> None:
    bank["questions"].append(copy.deepcopy(bank["questions"][0]))


SINGLE, MULTI, TF, ORDER, GEN = (
    "phone-first-words",
    "visit-must-do",
    "three-rings",
    "guest-steps",
    "gen-greeting",
)

# (rule, mutation, place of the problem, fragment of its message)
BROKEN = [
    ("lesson missing", _drop_top("lesson"), "line 1", "'lesson' is missing"),
    ("lesson not a string", _top("lesson", 4.2), "line 1", "quoted string"),
    ("questions missing", _drop_top("questions"), "line 1", "non-empty list"),
    ("questions empty", _top("questions", []), "line 1", "non-empty list"),
    ("unknown top-level key", _top("title", "x"), "line 1", "unknown top-level key 'title'"),
    ("unknown question key", _set(SINGLE, "answr", True), SINGLE, "unknown key 'answr'"),
    ("id missing", _drop(SINGLE, "id"), "questions[0]", "'id' is missing"),
    ("id not kebab-case", _set(SINGLE, "id", "Phone_First"), "Phone_First", "kebab-case"),
    ("id duplicated", _duplicate_first_question, SINGLE, "duplicate id"),
    ("kind unknown", _set(SINGLE, "kind", "essay"), SINGLE, "kind must be one of"),
    ("kind missing", _drop(SINGLE, "kind"), SINGLE, "kind must be one of"),
    ("cites missing", _drop(SINGLE, "cites"), SINGLE, "'cites' is missing"),
    ("cites empty", _set(SINGLE, "cites", []), SINGLE, "'cites' must not be empty"),
    ("cites not a list", _set(SINGLE, "cites", "4.2.1"), SINGLE, "'cites' must be a list"),
    ("cite not a string", _set(SINGLE, "cites", [4.2]), SINGLE, "quoted string"),
    ("prompt missing", _drop(SINGLE, "prompt"), SINGLE, "'prompt' is missing"),
    ("prompt blank", _set(SINGLE, "prompt", "  "), SINGLE, "'prompt' is empty"),
    ("scenario not text", _set(SINGLE, "scenario", 3), SINGLE, "'scenario' must be text"),
    (
        "single with one option",
        _set(SINGLE, "options", [{"text": "您好", "correct": True, "feedback": "对"}]),
        SINGLE,
        "at least 2 options",
    ),
    ("single with no correct", _drop_option_key(SINGLE, 1, "correct"), SINGLE, "exactly one"),
    ("single with two correct", _option(SINGLE, 0, "correct", True), SINGLE, "exactly one"),
    (
        "multiple with two options",
        _set(
            MULTI,
            "options",
            [
                {"text": "甲", "correct": True, "feedback": "对"},
                {"text": "乙", "correct": True, "feedback": "对"},
            ],
        ),
        MULTI,
        "at least 3 options",
    ),
    ("multiple with one correct", _option(MULTI, 1, "correct", False), MULTI, "two or more"),
    ("multiple all correct", _option(MULTI, 2, "correct", True), MULTI, "one wrong option"),
    ("options missing", _drop(SINGLE, "options"), SINGLE, "needs a list of 'options'"),
    ("option text missing", _drop_option_key(SINGLE, 0, "text"), SINGLE, "option 1 text"),
    ("option feedback missing", _drop_option_key(SINGLE, 0, "feedback"), SINGLE, "feedback"),
    ("option feedback empty", _option(SINGLE, 2, "feedback", ""), SINGLE, "option 3 feedback"),
    ("option unknown key", _option(SINGLE, 0, "why", "x"), SINGLE, "unknown key 'why'"),
    ("option correct not boolean", _option(SINGLE, 1, "correct", "yes"), SINGLE, "true or false"),
    ("option not a mapping", _set(SINGLE, "options", ["甲", "乙"]), SINGLE, "must be a mapping"),
    ("duplicate option text", _option(SINGLE, 2, "text", "喂?找谁?"), SINGLE, "repeats the text"),
    ("以上都对", _option(SINGLE, 2, "text", "以上都对"), SINGLE, "all/none of the above"),
    ("以上都不对", _option(SINGLE, 2, "text", "以上都不对"), SINGLE, "all/none of the above"),
    ("以上皆是", _option(MULTI, 2, "text", "以上皆是"), MULTI, "all/none of the above"),
    ("以上皆非", _option(SINGLE, 0, "text", "以上皆非。"), SINGLE, "all/none of the above"),
    ("truefalse answer missing", _drop(TF, "answer"), TF, "'answer: true'"),
    ("truefalse answer not boolean", _set(TF, "answer", "对"), TF, "'answer: true'"),
    ("truefalse feedback missing", _drop(TF, "feedback"), TF, "'feedback' is missing"),
    (
        "truefalse with options",
        _set(TF, "options", [{"text": "对", "feedback": "x"}]),
        TF,
        "has no 'options'",
    ),
    ("order with two steps", _set(ORDER, "steps", ["甲", "乙"]), ORDER, "at least 3 steps"),
    ("order with repeated steps", _set(ORDER, "steps", ["甲", "乙", "甲"]), ORDER, "distinct"),
    ("order step blank", _set(ORDER, "steps", ["甲", "乙", " "]), ORDER, "'step 3' is empty"),
    ("order feedback missing", _drop(ORDER, "feedback"), ORDER, "'feedback' is missing"),
    ("order with answer", _set(ORDER, "answer", True), ORDER, "has no 'answer'"),
    ("single with steps", _set(SINGLE, "steps", ["甲", "乙", "丙"]), SINGLE, "has no 'steps'"),
    ("unknown tag", _set(SINGLE, "tags", ["external", "sales"]), SINGLE, "unknown tag 'sales'"),
    ("tags not a list", _set(SINGLE, "tags", "external"), SINGLE, "'tags' must be a list"),
    ("generated not boolean", _set(GEN, "generated", "yes"), GEN, "'generated' must be"),
    ("generated without source", _drop(GEN, "source_clause"), GEN, "needs 'source_clause'"),
    ("source not cited", _set(GEN, "source_clause", "4.9"), GEN, "also be listed in 'cites'"),
    ("source without generated", _drop(GEN, "generated"), GEN, "only for items marked"),
]


@pytest.mark.parametrize(
    ("mutate", "place", "fragment"),
    [pytest.param(m, p, f, id=rule) for rule, m, p, f in BROKEN],
)
def test_broken_bank_is_rejected_with_file_and_place(
    tmp_path: Path, mutate: Mutation, place: str, fragment: str
) -> None:
    data = valid_bank()
    mutate(data)
    path = write(tmp_path, data)
    bank, problems = load_bank(path)
    assert bank is None
    assert problems, "a broken bank must report at least one problem"
    assert all(p.path == path for p in problems)
    matching = [p for p in problems if fragment in p.message]
    assert matching, [str(p) for p in problems]
    assert any(p.place.startswith(place) for p in matching), [str(p) for p in matching]


def test_unknown_clause_is_rejected_when_clauses_are_given(tmp_path: Path) -> None:
    path = write(tmp_path, valid_bank())
    clauses = {"4.2.1.1", "4.2.1.2", "4.3.1"}
    bank, problems = load_bank(path, clause_numbers=clauses)
    assert bank is None
    assert [(p.place, p.message) for p in problems] == [
        ("guest-steps", "cited clause 4.4.1 does not exist in the norm")
    ]
    bank, problems = load_bank(path, clause_numbers=clauses | {"4.4.1"})
    assert bank is not None
    assert problems == []


def test_unknown_lesson_is_rejected_when_lessons_are_given(tmp_path: Path) -> None:
    path = write(tmp_path, valid_bank())
    bank, problems = load_bank(path, lesson_numbers={"4.1", "4.3"})
    assert bank is None
    assert [p.message for p in problems] == ["lesson '4.2' does not exist"]
    assert load_bank(path, lesson_numbers={"4.2"})[0] is not None


def test_yaml_syntax_error_reports_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, 'lesson: "4.2"\nquestions:\n  - id: a\n    kind: [single\n')
    bank, problems = load_bank(path)
    assert bank is None
    assert len(problems) == 1
    assert problems[0].place.startswith("line ")
    assert "YAML syntax error" in problems[0].message


def test_duplicate_yaml_key_is_rejected_not_overwritten(tmp_path: Path) -> None:
    text = 'lesson: "4.2"\nquestions:\n  - id: a\n    kind: single\n    kind: order\n'
    bank, problems = load_bank(write(tmp_path, text))
    assert bank is None
    assert [(p.place, p.message) for p in problems] == [
        ("line 5", "YAML syntax error: duplicate key 'kind'")
    ]


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        pytest.param("", "empty", id="empty file"),
        pytest.param("- 1\n- 2\n", "YAML mapping", id="list at top"),
        pytest.param("just text\n", "YAML mapping", id="scalar at top"),
        pytest.param(b"lesson: \xff\n", "UTF-8", id="not utf-8"),
    ],
)
def test_unusable_file_is_reported(tmp_path: Path, content: str | bytes, fragment: str) -> None:
    path = tmp_path / "4.2.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    bank, problems = load_bank(path)
    assert bank is None
    assert [fragment in p.message for p in problems] == [True]


def test_missing_file_is_reported_not_raised(tmp_path: Path) -> None:
    bank, problems = load_bank(tmp_path / "nope.yaml")
    assert bank is None
    assert "cannot read" in problems[0].message


def test_every_problem_in_a_file_is_reported_at_once(tmp_path: Path) -> None:
    data = valid_bank()
    question(data, SINGLE)["prompt"] = ""
    question(data, TF)["answer"] = "yes"
    question(data, ORDER)["steps"] = ["甲"]
    _, problems = load_bank(write(tmp_path, data))
    assert {p.place for p in problems} == {SINGLE, TF, ORDER}


def test_load_banks_returns_valid_banks_by_lesson(tmp_path: Path) -> None:
    write(tmp_path, valid_bank())
    other = {
        "lesson": "4.10",
        "questions": [{**question(valid_bank(), TF), "id": "other-three-rings"}],
    }
    write(tmp_path, other, "4.10.yaml")
    broken = valid_bank()
    broken["lesson"] = "5.1"
    broken["questions"] = [{**question(valid_bank(), TF), "id": "x", "answer": None}]
    write(tmp_path, broken, "5.1.yaml")
    banks, problems = load_banks(tmp_path)
    assert sorted(banks) == ["4.10", "4.2"]
    assert [(p.path.name, p.place) for p in problems] == [("5.1.yaml", "x")]
    stats = bank_stats(banks)
    assert list(stats["per_lesson"]) == ["4.2", "4.10"]


def test_load_banks_rejects_ids_shared_across_banks(tmp_path: Path) -> None:
    write(tmp_path, valid_bank())
    write(tmp_path, {"lesson": "4.3", "questions": [question(valid_bank(), TF)]}, "4.3.yaml")
    steps = {**question(valid_bank(), ORDER), "id": "guest-steps-again"}
    write(tmp_path, {"lesson": "4.4", "questions": [steps]}, "4.4.yaml")
    banks, problems = load_banks(tmp_path)
    assert sorted(banks) == ["4.4"]
    assert sorted(str(p) for p in problems) == [
        f"{tmp_path / '4.2.yaml'}: three-rings: id is also used in 4.3.yaml",
        f"{tmp_path / '4.3.yaml'}: three-rings: id is also used in 4.2.yaml",
    ]


def test_load_banks_rejects_file_named_after_another_lesson(tmp_path: Path) -> None:
    write(tmp_path, valid_bank(), "4.3.yaml")
    banks, problems = load_banks(tmp_path)
    assert banks == {}
    assert [p.message for p in problems] == ["file name must be 4.2.yaml to match its lesson"]


def test_load_banks_reports_yml_files_it_ignores(tmp_path: Path) -> None:
    write(tmp_path, valid_bank(), "4.2.yml")
    banks, problems = load_banks(tmp_path)
    assert banks == {}
    assert [p.path.name for p in problems] == ["4.2.yml"]


def test_bank_stats_counts_items_tags_and_longest_correct(tmp_path: Path) -> None:
    bank, _ = load_bank(write(tmp_path, valid_bank()))
    assert bank is not None
    stats = bank_stats({"4.2": bank})
    assert stats["total"] == 5
    assert stats["per_lesson"] == {"4.2": 5}
    assert stats["per_kind"] == {"single": 2, "multiple": 1, "truefalse": 1, "order": 1}
    assert stats["with_scenario"] == 1
    assert stats["generated"] == 1
    assert stats["per_tag"] == {
        "external": 2,
        "internal": 1,
        "concept": 1,
        "response": 0,
        "untagged": 2,
    }
    # phone-first-words: the correct option is the longest; gen-greeting: a tie, not longest.
    assert stats["single_correct_longest"] == 1
    assert stats["single_correct_longest_share"] == 0.5
    assert bank_stats([bank]) == stats


def test_bank_stats_of_nothing_is_zero() -> None:
    stats = bank_stats({})
    assert stats["total"] == 0
    assert stats["single_correct_longest_share"] == 0.0


yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                ["lesson", "questions", "id", "kind", "cites", "prompt", "options", "text"]
                + ["correct", "feedback", "answer", "steps", "tags", "generated", "source_clause"]
            ),
            inner,
            max_size=6,
        )
    ),
    max_leaves=20,
)


@settings(max_examples=150)
@given(data=yaml_values)
def test_loader_never_raises_on_arbitrary_data(
    tmp_path_factory: pytest.TempPathFactory, data: Any
) -> None:
    path = write(tmp_path_factory.mktemp("fuzz"), data)
    bank, problems = load_bank(path)
    assert (bank is None) == bool(problems)


@settings(max_examples=100)
@given(text=st.text(max_size=60))
def test_loader_never_raises_on_arbitrary_text(
    tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "4.2.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    bank, problems = load_bank(path)
    assert (bank is None) == bool(problems)


def real_bank_files() -> list[Path]:
    """Return the bank files checked into quizzes/."""
    return sorted(p for p in QUIZ_DIR.glob("*.yaml") if p.name not in NOT_BANKS)


def test_real_banks_are_valid() -> None:
    if not real_bank_files():
        pytest.skip("no banks in quizzes/ yet")
    banks, problems = load_banks(QUIZ_DIR)
    assert [str(p) for p in problems] == []
    assert len(banks) == len(real_bank_files())
