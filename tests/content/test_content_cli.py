import json

import pytest
from flask import Flask
from flask_babel import Babel

from training.content import check
from training.content.build import build
from training.content.check import Problem
from training.content.cli import content_cli

from .conftest import CONTENT


def make_runner(content_dir):
    app = Flask(__name__)
    app.config.update(CONTENT_DIR=content_dir, QUIZ_DIR=content_dir.parent / "quizzes")
    app.cli.add_command(content_cli)
    Babel(app)  # parser errors are messages, as in the app (no catalogs here: Chinese)
    return app.test_cli_runner()


@pytest.fixture
def built(content_dir):
    """Return a scratch content/ with freshly built lessons."""
    build(content_dir, quiz_dir=content_dir.parent / "quizzes")
    return content_dir


def test_build_command_prints_the_report(content_dir):
    result = make_runner(content_dir).invoke(args=["content", "build"])
    assert result.exit_code == 0, result.output
    assert "written    lessons/4.2-外部服务的方式.md" in result.output
    assert "14 written, 0 unchanged, 0 removed" in result.output
    again = make_runner(content_dir).invoke(args=["content", "build"])
    assert "0 written, 14 unchanged, 0 removed" in again.output


def test_build_command_fails_on_an_empty_source_and_writes_nothing(content_dir):
    empty = content_dir / "source" / "empty.txt"
    empty.write_bytes(b"")
    result = make_runner(content_dir).invoke(args=["content", "build", str(empty)])
    assert result.exit_code == 1
    assert "empty.txt" in result.output
    assert "Nothing was written." in result.output
    assert not (content_dir / "lessons").exists()


def test_outline_command_prints_a_tree(content_dir):
    source = content_dir / "source" / "service-norm.txt"
    result = make_runner(content_dir).invoke(args=["content", "outline", str(source)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "公司服务规范"
    assert any(line.startswith("      4.2.1.2 ") for line in lines)
    assert any(line.startswith("    4.2.2 上门服务  [") for line in lines)


def test_outline_command_prints_json(content_dir):
    source = content_dir / "source" / "service-norm.txt"
    result = make_runner(content_dir).invoke(args=["content", "outline", str(source), "--json"])
    rows = json.loads(result.output)
    row = next(row for row in rows if row["number"] == "4.2.2")
    assert row["title"] == "上门服务"
    assert set(row) == {"number", "title", "level", "hash"}


def test_check_passes_on_the_real_content():
    result = make_runner(CONTENT).invoke(args=["content", "check"])
    assert result.exit_code == 0, result.output
    assert "14 lessons" in result.output


def test_check_passes_on_a_fresh_build(built):
    assert make_runner(built).invoke(args=["content", "check"]).exit_code == 0


def test_check_names_a_hand_edited_lesson(built):
    lesson = built / "lessons" / "4.2-外部服务的方式.md"
    lesson.write_text(lesson.read_text(encoding="utf-8").replace("电话联系", "电话沟通", 1))
    result = make_runner(built).invoke(args=["content", "check"])
    assert result.exit_code == 1
    assert "content/lessons/4.2-外部服务的方式.md: line " in result.output
    assert "hand-edited" in result.output


def test_check_names_a_missing_lesson(built):
    (built / "lessons" / "5-其它.md").unlink()
    result = make_runner(built).invoke(args=["content", "check"])
    assert result.exit_code == 1
    assert "content/lessons/5-其它.md: file: missing" in result.output


def test_check_names_an_extra_lesson(built):
    (built / "lessons" / "notes.md").write_text("# 笔记\n", encoding="utf-8")
    result = make_runner(built).invoke(args=["content", "check"])
    assert result.exit_code == 1
    assert "content/lessons/notes.md: front matter: no front matter" in result.output
    assert "content/lessons/notes.md: file: not a generated lesson" in result.output


def test_check_reports_a_lesson_built_from_an_older_source(built):
    source = built / "source" / "service-norm.txt"
    source.write_text(source.read_text(encoding="utf-8").replace("适时修订", "及时修订"))
    result = make_runner(built).invoke(args=["content", "check"])
    assert result.exit_code == 1
    assert "content/lessons/5-其它.md: line " in result.output
    assert "stale" in result.output


@pytest.mark.parametrize(
    ("outline", "place"),
    [
        ("source: source/service-norm.txt\nlesson_levels: 2\n", "lesson_levels"),
        ("source: source/missing.txt\n", "source"),
        ('source: source/service-norm.txt\ntitles:\n  "9.9": 不存在\n', "titles.9.9"),
    ],
)
def test_check_names_a_bad_outline(built, outline, place):
    (built / "outline.yaml").write_text(outline, encoding="utf-8")
    result = make_runner(built).invoke(args=["content", "check"])
    assert result.exit_code == 1
    assert f"content/outline.yaml: {place}: " in result.output


def test_check_reports_broken_front_matter(built):
    lesson = built / "lessons" / "5-其它.md"
    lesson.write_text(lesson.read_text(encoding="utf-8").replace("order: 14", "order: last"))
    result = make_runner(built).invoke(args=["content", "check"])
    assert "content/lessons/5-其它.md: front matter: field 'order' missing or not a int" in (
        result.output
    )


def test_checks_can_be_extended(built, monkeypatch):
    def quiz_check(content_dir, app):
        assert app.config["QUIZ_DIR"].name == "quizzes"
        return [Problem("quizzes/4.2.yaml", "items[0]", "no answer")]

    monkeypatch.setattr(check, "CHECKS", [*check.CHECKS, quiz_check])
    result = make_runner(built).invoke(args=["content", "check"])
    assert result.exit_code == 1
    assert "quizzes/4.2.yaml: items[0]: no answer" in result.output
