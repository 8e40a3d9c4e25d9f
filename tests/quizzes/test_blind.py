"""The blind check: a keyless shuffled sheet, its key, a scorer; and the cue statistics."""

from __future__ import annotations

import json

import pytest

from training.quizzes import blind


@pytest.fixture
def sheet(runner, tmp_path):
    out = tmp_path / "blind"
    result = runner.invoke(args=["content", "blind-sheet", "--out", str(out), "--seed", "7"])
    assert result.exit_code == 0, result.output
    return out


def _answers_from(key: dict, wrong: set[str] = frozenset()) -> str:
    lines = []
    for number, entry in key["items"].items():
        answer = entry["answer"]
        if number in wrong:
            answer = "Z"
        lines.append(f"{number}: {answer}")
    return "\n".join(lines)


def test_the_sheet_shows_no_key_no_ids_no_clauses_and_no_feedback(sheet, app):
    from training.quizzes.check import course_banks

    text = (sheet / "sheet.md").read_text("utf-8")
    key = json.loads((sheet / "key.json").read_text("utf-8"))
    _, by_lesson, _ = course_banks(app.config["CONTENT_DIR"], app.config["QUIZ_DIR"])
    # The sheet holds what quizzes grade: authored items, not the generated phrase drills.
    graded = {lesson: [q for q in qs if not q.generated] for lesson, qs in by_lesson.items()}
    questions = [q for qs in graded.values() for q in qs]
    assert len(key["items"]) == len(questions)
    assert key["digest"] == blind.banks_digest(graded)
    for question in questions:
        assert question.id not in text
        for option in question.options:
            if option.feedback and len(option.feedback) > 12:
                assert option.feedback not in text
    assert "correct" not in text
    # items are shuffled across lessons
    lessons = [entry["lesson"] for entry in key["items"].values()]
    assert lessons != sorted(lessons)


def test_the_same_seed_gives_the_same_sheet(runner, sheet, tmp_path):
    again = tmp_path / "again"
    runner.invoke(args=["content", "blind-sheet", "--out", str(again), "--seed", "7"])
    assert (again / "sheet.md").read_bytes() == (sheet / "sheet.md").read_bytes()


def test_scoring_the_key_itself_is_all_right_and_each_wrong_answer_counts(runner, sheet):
    key = json.loads((sheet / "key.json").read_text("utf-8"))
    answers = sheet / "mine.txt"
    answers.write_text(_answers_from(key), "utf-8")
    result = runner.invoke(
        args=["content", "blind-score", "--key", str(sheet / "key.json"), str(answers)]
    )
    total = len(key["items"])
    assert f"correct: {total} of {total} (100.0%)" in result.output
    answers.write_text(_answers_from(key, wrong={"1", "2", "3"}), "utf-8")
    result = runner.invoke(
        args=["content", "blind-score", "--key", str(sheet / "key.json"), str(answers)]
    )
    assert f"correct: {total - 3} of {total}" in result.output
    assert f"#1 {key['items']['1']['id']}: answered Z" in result.output


def test_a_malformed_answer_file_names_the_line(runner, sheet):
    answers = sheet / "bad.txt"
    answers.write_text("1: A\n2 - 我选 B\n", "utf-8")
    result = runner.invoke(
        args=["content", "blind-score", "--key", str(sheet / "key.json"), str(answers)]
    )
    assert result.exit_code == 1
    assert "line 2" in result.output


@pytest.mark.parametrize(
    ("kind", "key", "given", "right"),
    [
        ("multiple", "AC", "CA", True),
        ("multiple", "AC", "A", False),
        ("multiple", "AC", "ACC", False),
        ("order", "CAB", "CAB", True),
        ("order", "CAB", "ACB", False),
        ("single", "B", "b", False),  # the parser upper-cases; score compares as given
        ("truefalse", "A", "A", True),
    ],
)
def test_scoring_by_kind(kind, key, given, right):
    result = blind.score(
        {"items": {"1": {"answer": key, "id": "q", "lesson": "1.1", "kind": kind}}}, {"1": given}
    )
    assert result.correct == int(right)


def test_answer_lines_accept_common_spellings():
    assert blind.parse_answers("1: a\n2：B、C\n3. CABD\n4:\n# note\n") == {
        "1": "A",
        "2": "BC",
        "3": "CABD",
        "4": "",
    }
    with pytest.raises(blind.AnswerError, match="twice"):
        blind.parse_answers("1: A\n1: B")
