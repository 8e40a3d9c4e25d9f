"""本课要点: hand-written per lesson in content/summaries.yaml, checked against the norm."""

from __future__ import annotations

import re

import pytest

from training.content.build import build
from training.content.check import check_summaries
from training.content.lessons import plan_lessons
from training.content.summaries import (
    HASH_CHARS,
    SummaryError,
    load_summaries,
    needs_summary,
)
from training.lessons.markdown import load_lesson_file, render_lesson_html

from .conftest import CONTENT
from .test_content_cli import make_runner

PHONE_OLD, PHONE_NEW = "一般不得超过三声", "一般不得超过两声"


@pytest.fixture(scope="module")
def summaries():
    return load_summaries(CONTENT / "summaries.yaml")


def test_every_lesson_has_three_to_six_points_citing_all_its_clauses(seed_doc, summaries):
    lessons = plan_lessons(seed_doc)
    assert set(summaries) == {lesson.number for lesson in lessons}
    for lesson in lessons:
        points = summaries[lesson.number]
        assert 3 <= len(points) <= 6, lesson.number
        cited = {n for point in points for n in point.clauses}
        owned = {s.number for s in lesson.covered if needs_summary(s)}
        assert owned <= cited, lesson.number
        assert cited <= {s.number for s in lesson.covered}, lesson.number


def test_the_committed_summaries_pass_the_check(content_dir):
    assert check_summaries(content_dir) == []


def test_1_1_says_service_covers_internal_staff_and_the_company(summaries):
    texts = [point.text for point in summaries["1.1"]]
    assert any("内部员工" in text and "公司的服务" in text for text in texts)
    assert any("外部客户、供应商" in text for text in texts)


def test_quoted_wording_in_the_points_is_the_norms(seed_doc, summaries):
    # A phrase a point quotes as the wording to use is in one of the clauses it cites
    # (punctuation folded: the points use full-width punctuation, the norm half-width).
    def fold(text):
        return re.sub(r"[\s,，。:：;；()（）]", "", text)

    clauses = {s.number: fold(s.title + s.body) for s in seed_doc.walk()}
    for lesson, points in summaries.items():
        for point in points:
            for quoted in re.findall(r"“([^”]+)”", point.text):
                assert any(fold(quoted) in clauses[n] for n in point.clauses), (lesson, quoted)


def test_a_changed_clause_fails_the_check_naming_it(content_dir):
    source = content_dir / "source" / "service-norm.txt"
    source.write_text(source.read_text("utf-8").replace(PHONE_OLD, PHONE_NEW), "utf-8")
    problems = check_summaries(content_dir)
    assert len(problems) == 1
    problem = str(problems[0])
    assert problem.startswith("content/summaries.yaml: 4.2: clause 4.2.1.2 changed since")
    assert "reviewed 8cce16c38a64" in problem
    now = re.search(r"then set its hash to ([0-9a-f]{12})", problem).group(1)
    assert now != "8cce16c38a64"

    # The editor reviews the point and writes the new hash: the check passes again.
    path = content_dir / "summaries.yaml"
    path.write_text(
        path.read_text("utf-8")
        .replace("一般不得超过三声；", "一般不得超过两声；")
        .replace('"4.2.1.2": 8cce16c38a64', f'"4.2.1.2": {now}'),
        "utf-8",
    )
    assert check_summaries(content_dir) == []


def test_content_check_command_fails_on_an_unreviewed_clause(content_dir):
    build(content_dir, quiz_dir=content_dir.parent / "quizzes")
    source = content_dir / "source" / "service-norm.txt"
    source.write_text(source.read_text("utf-8").replace(PHONE_OLD, PHONE_NEW), "utf-8")
    build(content_dir, quiz_dir=content_dir.parent / "quizzes")  # lessons are up to date
    result = make_runner(content_dir).invoke(args=["content", "check"])
    assert result.exit_code == 1
    assert "content/summaries.yaml: 4.2: clause 4.2.1.2 changed since its 要点" in result.output


def test_a_lesson_built_meanwhile_shows_no_outdated_point(content_dir):
    source = content_dir / "source" / "service-norm.txt"
    source.write_text(source.read_text("utf-8").replace(PHONE_OLD, PHONE_NEW), "utf-8")
    build(content_dir)
    _, body = load_lesson_file(next((content_dir / "lessons").glob("4.2-*.md")))
    html = render_lesson_html(body)
    box = re.search(r'<section [^>]*class="key-points">.*?</section>', html, re.S).group()
    assert "三声" not in box
    assert "第 4.2.1.2 条已修订，这条要点正待编辑复核，请以下方条文为准" in box
    assert '<a href="#s-4.2.1.2">4.2.1.2</a>' in box
    assert box.count("<li>") == 6  # the other points are still shown
    assert "两声" in html.split("</section>", 1)[1]  # the clause itself reads as revised


@pytest.mark.parametrize(
    ("edit", "place", "message"),
    [
        (lambda t: t.replace('"5":\n', '"9.9":\n'), "5", "no 本课要点"),
        (lambda t: t.replace('"5":\n', '"9.9":\n'), "9.9", "not a lesson of the current norm"),
        (
            lambda t: t.replace('{"4.2.4": 49aa0d9dc3df}', '{"4.2.3": 7dc18b06f9d9}'),
            "4.2",
            "clause 4.2.4 is summarised by no point (its hash is 49aa0d9dc3df)",
        ),
        (
            lambda t: t.replace('{"5": eb9d6caeec1f}', '{"4.2.4": 49aa0d9dc3df}', 1),
            "5",
            "point 1 cites clause 4.2.4, which is not in this lesson",
        ),
        (lambda t: t.replace("7d755755a4f0", "7d75", 1), "1.1: point 1", "first 12 hex digits"),
        (
            lambda t: t.replace("- text: 本规范由人事行政部负责解释。", "- txt: x"),
            "5: point 1",
            "'text'",
        ),
        (lambda t: t + "\n  : [", "line", "not valid YAML"),
    ],
)
def test_check_names_what_is_wrong_and_where(content_dir, edit, place, message):
    path = content_dir / "summaries.yaml"
    path.write_text(edit(path.read_text("utf-8")), "utf-8")
    problems = [str(p) for p in check_summaries(content_dir)]
    assert any(
        p.startswith(f"content/summaries.yaml: {place}") and message in p for p in problems
    ), problems


def test_missing_summaries_fail_the_check(content_dir):
    (content_dir / "summaries.yaml").unlink()
    assert [str(p) for p in check_summaries(content_dir)] == [
        "content/summaries.yaml: file: missing; write the 本课要点 of every lesson"
    ]


def test_too_many_points_are_refused(tmp_path):
    path = tmp_path / "summaries.yaml"
    point = '- text: 要点\n  cites: {"1.1": ' + "0" * HASH_CHARS + "}\n"
    path.write_text('"1.1":\n' + point * 7, "utf-8")
    with pytest.raises(SummaryError, match="7 points; keep at most 6"):
        load_summaries(path)
