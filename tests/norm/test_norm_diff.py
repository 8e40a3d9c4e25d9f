"""Revision diff between two versions of the norm: sections, inline marks, lessons, report."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from training.content.impact import lesson_impact
from training.content.outline import load_outline
from training.norm.diff import (
    Segment,
    changed_clauses,
    diff_norms,
    format_text,
    mark_changes,
    removed_clauses,
    render_html,
    renumbered_clauses,
    similarity,
)
from training.norm.parse import parse_text

OUTLINE = load_outline(Path(__file__).parents[2] / "content" / "outline.yaml")
SEED = OUTLINE.source_path().read_text(encoding="utf-8")
SEED_LESSONS = ["1.1", "1.2", "2.1", "2.2", "2.3", "2.4", "2.5"]
SEED_LESSONS += ["3.1", "3.2", "3.3", "3.4", "4.1", "4.2", "5"]

CLAUSE_347 = "3.4.7工作不努力、背后讲别人坏话,影响了公司效益和内部团结。"


def parse(text, titles=None):
    return parse_text(text, title_overrides=OUTLINE.titles if titles is None else titles)


def revise(old, new, count=1):
    """Return the seed with old replaced by new, failing if old is not there."""
    assert SEED.count(old) == count, old
    return SEED.replace(old, new)


@pytest.fixture(scope="module")
def seed_doc():
    return parse(SEED)


def kinds(diff):
    """Return {kind: [(old number, new number), ...]} for every kind but unchanged."""
    out = {}
    for c in diff.changes:
        if c.kind != "unchanged":
            out.setdefault(c.kind, []).append((c.old_number, c.new_number))
    return out


def lesson_kinds(impact):
    return {c.new_number or c.old_number: c.kind for c in (*impact.lessons, *impact.removed)}


def test_seed_against_itself_is_all_unchanged(seed_doc):
    diff = diff_norms(seed_doc, parse(SEED))
    total = len(list(seed_doc.walk()))
    assert diff.summary() == {
        "unchanged": total,
        "renumbered": 0,
        "changed": 0,
        "added": 0,
        "removed": 0,
    }
    assert all(c.old_number == c.new_number and c.similarity == 1.0 for c in diff.changes)
    assert not diff.has_changes
    assert changed_clauses(diff) == set() == removed_clauses(diff)
    assert format_text(diff) == ""
    impact = lesson_impact(seed_doc, parse(SEED))
    assert [c.new_number for c in impact.lessons] == SEED_LESSONS
    assert {c.kind for c in impact.lessons} == {"unchanged"}
    assert impact.removed == ()


def test_one_reworded_clause_is_the_only_change_and_marks_the_word(seed_doc):
    new = parse(revise("一般不得超过三声", "一般不得超过两声"))
    diff = diff_norms(seed_doc, new)

    assert kinds(diff) == {"changed": [("4.2.1.2", "4.2.1.2")]}
    (change,) = diff.of_kind("changed")
    assert 0.9 < change.similarity < 1.0
    assert not change.renumbered
    ops = [(s.op, s.text) for s in change.segments() if s.op != "equal"]
    assert ops == [("delete", "三"), ("insert", "两")]
    assert changed_clauses(diff) == {"4.2.1.2"}
    assert removed_clauses(diff) == set()

    impact = lesson_impact(seed_doc, new)
    assert [c.new_number for c in impact.content_changed()] == ["4.2"]
    lesson = impact.find("4.2")
    assert lesson.kind == "changed"
    assert lesson.changed_numbers == ("4.2.1.2",)
    assert lesson.old_hash != lesson.new_hash
    assert {n: k for n, k in lesson_kinds(impact).items() if n != "4.2"} == dict.fromkeys(
        [n for n in SEED_LESSONS if n != "4.2"], "unchanged"
    )


def test_report_line_marks_the_edit_with_context():
    new = parse(revise("一般不得超过三声", "一般不得超过两声"))
    report = format_text(diff_norms(parse(SEED), new))
    assert report.count("\n") == 1
    line = report.rstrip("\n")
    assert line.startswith("changed 4.2.1.2 → 4.2.1.2 公事电话响后应及时接听: …")
    assert "一般不得超过[-三-]{+两+}声" in line
    assert line.endswith("…")


def test_inserted_clause_is_added_and_nothing_else_moves(seed_doc):
    new_clause = "2.2.9不良的内部服务会削弱员工的归属感。员工感受不到公司的关心,工作积极性下降。"
    new = parse(revise("2.3良好的内部服务的影响", new_clause + "2.3良好的内部服务的影响"))
    diff = diff_norms(seed_doc, new)

    assert kinds(diff) == {"added": [(None, "2.2.9")]}
    (added,) = diff.of_kind("added")
    assert added.new_title == "不良的内部服务会削弱员工的归属感"
    assert [s.op for s in added.segments()] == ["insert"]
    # Added sections sit where they are in the new version.
    numbers = [c.new_number for c in diff.changes]
    assert numbers.index("2.2.9") == numbers.index("2.2.8") + 1
    assert changed_clauses(diff) == set()

    impact = lesson_impact(seed_doc, new)
    assert [(c.new_number, c.changed_numbers) for c in impact.content_changed()] == [
        ("2.2", ("2.2.9",))
    ]
    assert format_text(diff).startswith("added 2.2.9 不良的内部服务会削弱员工的归属感: 员工感受")


def test_removed_clause_is_reported_in_place_and_flags_quiz_citations(seed_doc):
    new = parse(revise(CLAUSE_347, ""))
    diff = diff_norms(seed_doc, new)

    assert kinds(diff) == {"removed": [("3.4.7", None)]}
    assert removed_clauses(diff) == {"3.4.7"}
    assert changed_clauses(diff) == {"3.4.7"}
    olds = [c.old_number for c in diff.changes]
    assert olds.index("3.4.7") == olds.index("3.4.6") + 1
    assert (
        format_text(diff)
        == "removed 3.4.7 工作不努力: 工作不努力、背后讲别人坏话,影响了公司效益和内部团结。\n"
    )

    impact = lesson_impact(seed_doc, new)
    lesson = impact.find("3.4")
    assert lesson.kind == "changed"
    assert lesson.changed_numbers == ()
    assert lesson.removed_numbers == ("3.4.7",)
    assert [c.new_number for c in impact.content_changed()] == ["3.4"]


def shift_chapter_two(text):
    """Insert a new 2.1 and move the old 2.x (and 2.x.y) one down."""
    shifted = re.sub(r"(?<![\d.])2\.(\d+)", lambda m: f"2.{int(m.group(1)) + 1}", text)
    return shifted.replace("2、服务的重要性", "2、服务的重要性2.1服务的时效。服务要及时。", 1)


def test_renumbering_alone_changes_no_lesson_content(seed_doc):
    titles = {**OUTLINE.titles, "2.1": "服务的时效", "2.2": "服务的重大意义"}
    new = parse(shift_chapter_two(SEED), titles)
    diff = diff_norms(seed_doc, new)

    found = kinds(diff)
    assert found.pop("added") == [(None, "2.1")]
    renumbered = found.pop("renumbered")
    assert found == {}
    old_two = [s.number for s in seed_doc.walk() if s.number.startswith("2.")]
    assert [old for old, _ in renumbered] == old_two
    for old, new_number in renumbered:
        parts = old.split(".")
        assert new_number == ".".join([parts[0], str(int(parts[1]) + 1), *parts[2:]])
    assert changed_clauses(diff) == set()
    assert renumbered_clauses(diff)["2.2.8"] == "2.3.8"
    assert "renumbered 2.2.8 → 2.3.8 不良的内部服务最终会影响公司市场竞争力\n" in format_text(diff)

    impact = lesson_impact(seed_doc, new)
    assert [(c.kind, c.new_number) for c in impact.content_changed()] == [("added", "2.1")]
    assert impact.find("2.1").changed_numbers == ("2.1",)
    for old in ["2.1", "2.2", "2.3", "2.4", "2.5"]:
        lesson = next(c for c in impact.lessons if c.old_number == old)
        assert lesson.kind == "renumbered"
        assert lesson.new_number == f"2.{int(old[-1]) + 1}"
        assert lesson.old_hash == lesson.new_hash
        assert lesson.clauses == ()
    assert impact.removed == ()
    assert impact.summary()["changed"] == 0


def test_moved_and_reworded_clause_is_changed_and_renumbered(seed_doc):
    moved = "3.3.7工作不努力、在背后讲别人的坏话,会影响公司效益和内部团结。"
    text = revise(CLAUSE_347, "").replace("3.4不可取的服务", moved + "3.4不可取的服务")
    diff = diff_norms(seed_doc, parse(text))

    assert kinds(diff) == {"changed": [("3.4.7", "3.3.7")]}
    (change,) = diff.of_kind("changed")
    assert change.renumbered
    assert 0.6 < change.similarity < 1.0
    assert renumbered_clauses(diff) == {"3.4.7": "3.3.7"}
    assert changed_clauses(diff) == {"3.4.7"}
    assert removed_clauses(diff) == set()
    assert "[-影响了-]{+会影响+}" in format_text(diff)

    impact = lesson_impact(seed_doc, parse(text))
    assert impact.find("3.3").changed_numbers == ("3.3.7",)
    assert impact.find("3.4").removed_numbers == ("3.4.7",)
    assert [c.new_number for c in impact.content_changed()] == ["3.3", "3.4"]


def test_clause_inserted_before_a_reworded_one_does_not_take_its_place(seed_doc):
    shifted = re.sub(r"3\.4\.([3-7])", lambda m: f"3.4.{int(m.group(1)) + 1}", SEED)
    old_343 = "3.4.4专业知识不足,不懂装懂。影响顾客问题的及时解答和处理,也影响公司声誉。"
    assert old_343 in shifted
    text = shifted.replace(
        old_343,
        "3.4.3专业知识不足,不主动学习。影响顾客问题的解答,也影响公司声誉。"
        "3.4.4专业知识不足,不懂装懂。影响顾客问题的及时解答和处理,也会影响公司的声誉。",
    )
    diff = diff_norms(seed_doc, parse(text))
    assert kinds(diff) == {
        "added": [(None, "3.4.3")],
        "changed": [("3.4.3", "3.4.4")],
        "renumbered": [
            ("3.4.4", "3.4.5"),
            ("3.4.5", "3.4.6"),
            ("3.4.6", "3.4.7"),
            ("3.4.7", "3.4.8"),
        ],
    }


def test_moved_clause_with_the_same_text_is_only_renumbered(seed_doc):
    text = revise(CLAUSE_347, "").replace(
        "3.4不可取的服务", CLAUSE_347.replace("3.4.7", "3.3.7") + "3.4不可取的服务"
    )
    diff = diff_norms(seed_doc, parse(text))
    assert kinds(diff) == {"renumbered": [("3.4.7", "3.3.7")]}
    assert changed_clauses(diff) == set()
    # Both lessons' content changed: the clause left one and joined the other.
    impact = lesson_impact(seed_doc, parse(text))
    assert impact.find("3.3").changed_numbers == ("3.3.7",)
    assert impact.find("3.4").removed_numbers == ("3.4.7",)


def test_unrelated_text_under_the_same_number_is_removed_and_added(seed_doc):
    text = revise(CLAUSE_347, "3.4.7擅自向外泄露客户资料及报价。")
    diff = diff_norms(seed_doc, parse(text))
    assert kinds(diff) == {"removed": [("3.4.7", None)], "added": [(None, "3.4.7")]}
    assert changed_clauses(diff) == {"3.4.7"}


def test_reworded_chapter_heading_keeps_its_lesson(seed_doc):
    text = revise("2.2不良内部服务的影响", "2.2不良的内部服务的影响")
    new = parse(text)
    diff = diff_norms(seed_doc, new)
    assert kinds(diff) == {"changed": [("2.2", "2.2")]}
    (change,) = diff.of_kind("changed")
    assert change.title_changed
    assert format_text(diff) == "changed 2.2 → 2.2 不良{+的+}内部服务的影响\n"
    assert lesson_kinds(lesson_impact(seed_doc, new))["2.2"] == "changed"


def test_lesson_follows_most_of_its_sections_when_its_heading_is_replaced(seed_doc):
    text = revise("2.4不良外部服务的影响", "2.4对客户服务差的后果")
    impact = lesson_impact(seed_doc, parse(text))
    lesson = impact.find("2.4")
    assert (lesson.kind, lesson.old_number) == ("changed", "2.4")
    assert impact.removed == ()


def test_removed_lesson_is_listed_with_its_clauses(seed_doc):
    start = SEED.index("2.5良好的外部服务的影响")
    text = SEED[:start] + SEED[SEED.index("3、服务的要求") :]
    impact = lesson_impact(seed_doc, parse(text))
    (gone,) = impact.removed
    assert (gone.kind, gone.old_number, gone.new_number) == ("removed", "2.5", None)
    assert gone.removed_numbers == ("2.5", "2.5.1", "2.5.2")
    assert impact.summary()["removed"] == 1


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("今天天气很好", "今天天气很好", [("equal", "今天天气很好")]),
        ("", "", []),
        ("", "新增", [("insert", "新增")]),
        ("删除", "", [("delete", "删除")]),
        (
            "不得超过三声",
            "不得超过两声",
            [("equal", "不得超过"), ("delete", "三"), ("insert", "两"), ("equal", "声")],
        ),
        # Two-character equal runs between edits are folded into one edit.
        (
            "今天天气很好",
            "明天天色很好",
            [("delete", "今天天气"), ("insert", "明天天色"), ("equal", "很好")],
        ),
        # Three characters are a readable anchor and stay.
        (
            "甲乙丙丁戊",
            "子乙丙丁亥",
            [
                ("delete", "甲"),
                ("insert", "子"),
                ("equal", "乙丙丁"),
                ("delete", "戊"),
                ("insert", "亥"),
            ],
        ),
        # Full-width punctuation and line breaks are not edits; the new text is shown.
        ("服务，热情", "服务,\n热情", [("equal", "服务,\n热情")]),
    ],
)
def test_mark_changes_runs(old, new, expected):
    assert [(s.op, s.text) for s in mark_changes(old, new)] == expected


def test_mark_changes_keeps_both_texts():
    old = "接听电话时应先说您好,然后报公司名称。"
    new = "接听电话时先说“您好”,再报公司全称及本人姓名。"
    segments = mark_changes(old, new)
    assert "".join(s.text for s in segments if s.op != "insert") == old
    assert "".join(s.text for s in segments if s.op != "delete") == new


def test_html_escapes_text_and_marks_edits():
    segments = mark_changes("说明<b>", "说明<script>alert(1)</script>")
    html = render_html(segments)
    assert html == "说明&lt;<del>b&gt;</del><ins>script&gt;alert(1)&lt;/script&gt;</ins>"
    assert str(render_html([Segment("equal", "a&b"), Segment("insert", '"x"')])) == (
        "a&amp;b<ins>&#34;x&#34;</ins>"
    )


def test_script_in_a_revised_clause_comes_out_escaped(seed_doc):
    # No "(1)" in the script: the parser would take it for a clause number.
    text = revise("一般不得超过三声", "一般不得超过<script>alert('x')</script>声")
    (change,) = diff_norms(seed_doc, parse(text)).of_kind("changed")
    html = render_html(change.segments())
    assert "<script>" not in html
    assert "<ins>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;</ins>" in html
    assert "<del>三</del>" in html


def test_similarity_ignores_spacing_and_full_width_forms():
    assert similarity("服务，热情 周到", "服务,热情\n周到") == 1.0
    assert similarity("服务", "") == 0.0
