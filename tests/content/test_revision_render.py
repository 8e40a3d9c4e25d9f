"""A lesson rendered with a revision's changed clauses marked (pure: no app, no database)."""

from __future__ import annotations

import dataclasses

from training.content.lessons import plan_lessons
from training.content.render import REVISION_BADGE, render_lesson_body
from training.lessons.markdown import render_lesson_html
from training.norm.model import text_hash


def _clause(html, number):
    """Return the HTML from a clause's anchor to the next clause's."""
    return html.split(f'<a id="s-{number}"></a>', 1)[1].split('<a id="s-', 1)[0]


def _lesson(doc, number):
    return next(lesson for lesson in plan_lessons(doc) if lesson.number == number)


def _reworded(section, body):
    return dataclasses.replace(section, body=body, hash=text_hash(section.title + body))


def test_a_changed_list_item_is_marked_inside_itself_only(small_doc):
    lesson = _lesson(small_doc, "4.2")
    new = small_doc.find("4.2.1.2")
    old = _reworded(new, new.body.replace("及时接听", "立即接听"))
    html = render_lesson_html(render_lesson_body(lesson, None, {"4.2.1.2": old}))
    assert html.count(REVISION_BADGE) == 1
    item = _clause(html, "4.2.1.2")
    assert REVISION_BADGE in item
    assert '<del><span class="visually-hidden">删除：</span>立即</del>' in item
    assert '<ins><span class="visually-hidden">新增：</span>及时</ins>' in item
    assert "“您好,这里是深圳市正运动技术有限公司”" in item  # the callout is still there
    assert html.count("<ins>") == 1
    # Without marks the same lesson has none.
    plain = render_lesson_html(render_lesson_body(lesson))
    assert "revision-badge" not in plain
    assert "<ins>" not in plain


def test_a_clause_under_its_own_heading_is_marked_without_repeating_the_title(small_doc):
    lesson = _lesson(small_doc, "4.2")
    new = small_doc.find("4.2.2")
    old = _reworded(new, new.body.replace("演示PPT", "PPT"))
    html = render_lesson_html(render_lesson_body(lesson, None, {"4.2.2": old}))
    after = html.split('<h2 id="s-4.2.2">4.2.2 上门服务</h2>', 1)[1]
    assert after.lstrip().startswith(f"<p>{REVISION_BADGE} 公司销售业务")
    assert '<ins><span class="visually-hidden">新增：</span>演示</ins>' in after


def test_an_added_clause_is_all_insertion(small_doc):
    lesson = _lesson(small_doc, "4.2")
    html = render_lesson_html(render_lesson_body(lesson, None, {"4.2.1.7": None}))
    item = _clause(html, "4.2.1.7")
    assert '<ins><span class="visually-hidden">新增：</span>挂断电话时应说“再见”。</ins>' in item
    assert "<del>" not in html
