"""Numbering styles of Chinese documents, inline and one heading per line."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from training.norm.model import NormDocument
from training.norm.numbering import from_chinese, to_chinese
from training.norm.parse import parse_text


def _numbers(doc: NormDocument) -> list[tuple[str, str, str]]:
    return [(s.number, s.label, s.title) for s in doc.walk()]


OFFICIAL_LINES = """管理制度
一、总则
（一）目的
为了规范管理。
（二）范围
1. 适用于全体员工。
2. 包括实习生
(1)正式员工
(2)实习员工
二、附则
本制度自发布之日起施行。
"""
OFFICIAL_EXPECTED = [
    ("1", "一、", "总则"),
    ("1.1", "（一）", "目的"),
    ("1.2", "（二）", "范围"),
    ("1.2.1", "1.", "适用于全体员工"),
    ("1.2.2", "2.", "包括实习生"),
    ("1.2.2.1", "(1)", "正式员工"),
    ("1.2.2.2", "(2)", "实习员工"),
    ("2", "二、", "附则"),
]


def test_official_style_lines() -> None:
    doc = parse_text(OFFICIAL_LINES)
    assert doc.title == "管理制度"
    assert _numbers(doc) == OFFICIAL_EXPECTED
    assert [s.level for s in doc.walk()] == [1, 2, 2, 3, 3, 4, 4, 1]
    assert doc.find("1.1").body == "为了规范管理。"


def test_official_style_inline() -> None:
    doc = parse_text(OFFICIAL_LINES.replace("\n", "").replace("1. ", "1.").replace("2. ", "2."))
    # Without line breaks a title ends only where punctuation says so.
    assert [n for n, _, _ in _numbers(doc)] == [n for n, _, _ in OFFICIAL_EXPECTED]
    assert doc.find("1.2.2.1").title == "正式员工"


REGULATION = """员工守则
第一章 总则
第一条 为规范员工行为，制定本守则。
第二条 本守则适用于全体员工。
第二章 考勤
第一节 上下班
第三条 员工应按时上下班。
第四条 迟到三次视为旷工一天。
第二节 请假
第五条 请假须提前申请。
第三章 附则
第六条 本守则自发布之日起施行。
"""


@pytest.mark.parametrize("inline", [False, True])
def test_chapters_and_continuously_numbered_articles(inline: bool) -> None:
    text = REGULATION.replace("\n", "") if inline else REGULATION
    doc = parse_text(text)
    assert doc.title == "员工守则"
    assert [(s.number, s.label.replace(" ", "")) for s in doc.walk()] == [
        ("1", "第一章"),
        ("1.1", "第一条"),
        ("1.2", "第二条"),
        ("2", "第二章"),
        ("2.1", "第一节"),
        ("2.1.3", "第三条"),
        ("2.1.4", "第四条"),
        ("2.2", "第二节"),
        ("2.2.5", "第五条"),
        ("3", "第三章"),
        ("3.6", "第六条"),
    ]
    assert [s.number for s in doc.find("2").children] == ["2.1", "2.2"]
    assert doc.find("2.1.4").title == "迟到三次视为旷工一天"


def test_articles_beyond_ten() -> None:
    articles = "".join(f"第{to_chinese(n)}条 第{n}项规定。\n" for n in range(1, 24))
    doc = parse_text(f"细则\n第一章 总则\n{articles}第二章 附则\n第二十四条 施行。")
    labels = [s.label for s in doc.walk()]
    assert "第十一条" in labels
    assert "第二十三条" in labels
    assert doc.find("2.24").title == "施行"


SEED_STYLE = """规范
1、总则
1.1 目的
1.1.1 统一服务。
1.1.2 提升形象。
1.2 范围
2、附则
2.1 施行
"""


@pytest.mark.parametrize("inline", [False, True])
def test_seed_style(inline: bool) -> None:
    doc = parse_text(SEED_STYLE.replace("\n", "") if inline else SEED_STYLE)
    assert [s.number for s in doc.walk()] == ["1", "1.1", "1.1.1", "1.1.2", "1.2", "2", "2.1"]
    assert doc.find("1.1.2").title == "提升形象"


def test_numbers_inside_sentences_are_not_headings() -> None:
    text = (
        "规范1、总则本规定自2026年起施行,加班按1.5倍计酬,提供24小时服务,"
        "铃响三声内接听,见第3、4项,详见1.2.3条。2、附则自****年**月**日起实施。"
    )
    doc = parse_text(text)
    assert [s.number for s in doc.walk()] == ["1", "2"]
    body = doc.find("1").body
    for fragment in ("2026年", "1.5倍", "24小时", "三声", "第3、4项", "1.2.3条"):
        assert fragment in body
    last = doc.find("2")
    assert "****年**月**日" in last.title + last.body


@pytest.mark.parametrize(
    ("n", "written"),
    [
        (1, "一"),
        (10, "十"),
        (11, "十一"),
        (20, "二十"),
        (23, "二十三"),
        (99, "九十九"),
        (105, "一百零五"),
    ],
)
def test_chinese_numerals(n: int, written: str) -> None:
    assert to_chinese(n) == written
    assert from_chinese(written) == n


@given(st.integers(min_value=1, max_value=999))
def test_chinese_numerals_round_trip(n: int) -> None:
    assert from_chinese(to_chinese(n)) == n


def test_long_leaf_gets_derived_title_and_full_body() -> None:
    text = "规范\n1、总则\n1.1良好的内部服务能保证给外部客户良好的服务,增强外部客户对公司的满意度。\n1.2 简短。"
    section = parse_text(text).find("1.1")
    assert section.title == "良好的内部服务能保证给外部客户良…"
    assert section.body.startswith("良好的内部服务能保证")
