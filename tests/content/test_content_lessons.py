import hashlib
import re

import pytest

from training.content.lessons import generate_lessons, plan_lessons, render_lesson
from training.content.render import render_lesson_body
from training.content.summaries import load_summaries
from training.lessons.markdown import load_lesson_file, render_lesson_html
from training.norm.model import NormDocument

from .conftest import CONTENT

SEED_LESSONS = ["1.1", "1.2", "2.1", "2.2", "2.3", "2.4", "2.5"]
SEED_LESSONS += ["3.1", "3.2", "3.3", "3.4", "4.1", "4.2", "5"]


@pytest.fixture(scope="module")
def seed_html(seed_doc):
    """Return {lesson number: (lesson, rendered HTML)} for the seed, with its 要点."""
    summaries = load_summaries(CONTENT / "summaries.yaml")
    return {
        lesson.number: (
            lesson,
            render_lesson_html(render_lesson_body(lesson, summaries.get(lesson.number))),
        )
        for lesson in plan_lessons(seed_doc)
    }


KEY_POINTS_RE = re.compile(
    r'<section aria-labelledby="key-points" class="key-points">.*?</section>', re.S
)


def callouts(html):
    """Return the text of every 标准用语 blockquote."""
    quotes = re.findall(r"<blockquote>(.*?)</blockquote>", html, re.S)
    return [quote for quote in quotes if "标准用语" in quote]


def test_seed_plan_has_fourteen_lessons_in_five_chapters(seed_doc):
    lessons = plan_lessons(seed_doc)
    assert [lesson.number for lesson in lessons] == SEED_LESSONS
    assert [lesson.order for lesson in lessons] == list(range(1, 15))
    chapters = {(lesson.chapter.number, lesson.chapter.title) for lesson in lessons}
    assert len(chapters) == 5
    assert ("5", "其它") in chapters
    assert lessons[-1].chapter is lessons[-1].section


def test_every_section_of_the_norm_is_in_exactly_one_lesson(seed_doc):
    covered = [s.number for lesson in plan_lessons(seed_doc) for s in lesson.covered]
    assert covered == [s.number for s in seed_doc.walk() if s.body or s.level > 1]
    assert len(covered) == len(set(covered))


def test_lesson_level_one_gives_a_lesson_per_chapter(seed_doc):
    assert [lesson.number for lesson in plan_lessons(seed_doc, 1)] == ["1", "2", "3", "4", "5"]


def test_chapter_text_above_the_lesson_level_goes_to_its_first_lesson(small_doc, section):
    chapter = section("4", "服务方式", "本章讲服务方式。", small_doc.sections[0].children)
    doc = NormDocument("规范", (chapter,), "0" * 64)
    first, second = plan_lessons(doc)
    assert [s.number for s in first.covered][:2] == ["4", "4.1"]
    assert "本章讲服务方式。" in render_lesson_body(first)
    assert second.intro_sections == ()


def test_lesson_file_names_keep_chinese_and_drop_unsafe_characters(seed_doc, section):
    names = list(generate_lessons(seed_doc, source="source/service-norm.txt"))
    assert "4.2-外部服务的方式.md" in names
    assert "5-其它.md" in names
    unsafe = section("1.1", 'a/b:c*d?"e<f>|g  h', "正文。")
    doc = NormDocument("规范", (section("1", "章", children=[unsafe]),), "0" * 64)
    assert list(generate_lessons(doc, source="x")) == ["1.1-a-b-c-d-e-f-g-h.md"]


def test_front_matter_fields(seed_doc, tmp_path):
    lesson = plan_lessons(seed_doc)[12]
    path = tmp_path / "lesson.md"
    text = render_lesson(lesson, source="source/service-norm.txt", source_sha256="ab" * 32)
    path.write_text(text, encoding="utf-8")
    meta, body = load_lesson_file(path)
    assert list(meta) == [
        "id", "number", "title", "chapter", "order", "source", "source_sha256", "sections", "hash",
    ]  # fmt: skip
    assert meta["id"] == "lesson-4.2"
    assert meta["number"] == "4.2"
    assert meta["title"] == "外部服务的方式"
    assert meta["chapter"] == {"number": "4", "title": "服务方式"}
    assert meta["order"] == 13
    assert meta["source"] == "source/service-norm.txt"
    assert meta["source_sha256"] == "ab" * 32
    numbers = [s["number"] for s in meta["sections"]]
    assert numbers[:3] == ["4.2", "4.2.1", "4.2.1.1"]
    assert numbers[-1] == "4.2.4"
    assert meta["sections"][1] == {
        "number": "4.2.1",
        "title": "电话联系",
        "hash": seed_doc.find("4.2.1").hash,
    }
    joined = "\n".join(s["hash"] for s in meta["sections"])
    assert meta["hash"] == hashlib.sha256(joined.encode()).hexdigest()
    assert body.startswith("# 4.2 外部服务的方式 {#s-4.2}")


def test_lesson_hash_ignores_renumbering(small_doc, section):
    renumbered = NormDocument(
        "规范",
        (section("7", "其它", small_doc.sections[1].body),),
        "1" * 64,
    )
    assert plan_lessons(renumbered)[0].hash == plan_lessons(small_doc)[-1].hash


def test_lesson_hash_changes_with_the_text(small_doc, section):
    edited = NormDocument("规范", (section("5", "其它", "本规范自发布之日起实施。"),), "0" * 64)
    assert plan_lessons(edited)[0].hash != plan_lessons(small_doc)[-1].hash


def test_every_clause_has_its_anchor(seed_html):
    for lesson, html in seed_html.values():
        for covered in lesson.covered:
            assert html.count(f'id="s-{covered.number}"') == 1, covered.number
    assert '<a id="s-4.2.1.2"></a>' in seed_html["4.2"][1]
    assert '<a id="s-3.3.2.6"></a>' in seed_html["3.3"][1]
    assert '<h2 id="s-3.3.2">' in seed_html["3.3"][1]


def test_clause_numbers_stay_visible(seed_html):
    for lesson, html in seed_html.values():
        text = re.sub(r"<[^>]+>", "", html)
        for covered in lesson.covered:
            assert re.search(rf"(?<![\d.]){re.escape(covered.number)}(?![\d.])", text)


def test_no_text_of_the_norm_is_lost(seed_html, plain_text):
    for lesson, html in seed_html.values():
        # Callouts and key points repeat the text; the lesson proper must hold all of it.
        proper = KEY_POINTS_RE.sub("", html)
        proper = re.sub(
            r"<blockquote>\s*<p><strong>标准用语.*?</blockquote>", "", proper, flags=re.S
        )
        text = plain_text(proper)
        for covered in lesson.covered:
            assert plain_text(covered.body) in text, covered.number
            assert plain_text(covered.title.removesuffix("…")) in text, covered.number


@pytest.mark.parametrize(
    ("number", "phrase"),
    [
        ("3.3", "“您好,这里是深圳市正运动技术有限公司,请问有什么能帮到您”"),
        ("3.3", "“您好,这里是深圳市正运动技术有限公司,请问您是****公司**(姓+职务)吗”"),
        ("3.3", "“见到您很高兴,欢迎您来访”"),
        ("3.3", "“不好意思”"),
        ("3.3", "“欢迎您再来”"),
        ("4.2", "“您好,这里是深圳市正运动技术有限公司”"),
        ("4.2", "“对不起,您拨错电话号码了,请您查证后再拨”"),
        ("4.2", "“再见”"),
        ("4.2", "“**(意向客户姓+职位)再见,我们保持密切联系”"),
    ],
)
def test_prescribed_phrases_are_in_standard_wording_callouts(seed_html, number, phrase):
    assert any(phrase in quote for quote in callouts(seed_html[number][1]))


def test_sayings_and_terms_are_not_standard_wording(seed_html):
    assert not callouts(seed_html["2.1"][1])
    assert not callouts(seed_html["1.1"][1])


def test_enumerations_become_lists(seed_html):
    html = seed_html["4.1"][1]
    assert "<p>沟通的方式包括但不限于:</p>" in html
    assert "<li>面谈</li>" in html
    assert "<li>其他(如总经理信箱等)</li>" in html
    assert "<li>提高顾客满意度,确保顾客利益</li>" in seed_html["1.2"][1]


def test_runs_of_leaf_clauses_become_lists(seed_html):
    html = seed_html["2.2"][1]
    assert html.count('<li><a id="s-2.2.') == 8


def test_each_lesson_has_title_then_key_points_box_then_its_text(seed_html):
    for lesson, html in seed_html.values():
        assert html.startswith(f'<h1 id="s-{lesson.number}">{lesson.number} {lesson.title}</h1>')
        # The box comes right after the title, before any of the clause text.
        assert re.match(
            r'<h1[^>]*>.*?</h1>\n<section aria-labelledby="key-points" class="key-points">\n'
            r'<h2 id="key-points">本课要点</h2>\n<ul>\n<li>',
            html,
        ), lesson.number
        rest = KEY_POINTS_RE.sub("", html)
        assert re.match(r"<h1[^>]*>.*?</h1>\n\n?<p>", rest), lesson.number
        assert "要点" not in rest  # the old cut-off copy at the bottom is gone
    box = KEY_POINTS_RE.search(seed_html["4.2"][1]).group()
    assert '<a href="#s-4.2.1.2">4.2.1.2</a>' in box  # each point links to its clauses
    assert 3 <= box.count("<li>") <= 6


def test_generation_is_deterministic(seed_doc):
    first = generate_lessons(seed_doc, source="source/service-norm.txt")
    second = generate_lessons(seed_doc, source="source/service-norm.txt")
    assert first == second
