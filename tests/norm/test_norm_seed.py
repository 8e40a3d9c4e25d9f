"""The norm as HR issued it (one long line) parses to the agreed outline."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from training.norm.model import NormDocument
from training.norm.parse import outline, parse_file

SEED = Path(__file__).parents[2] / "content" / "source" / "service-norm.txt"

# What content/outline.yaml supplies: titles the text itself does not set apart.
OVERRIDES = {
    "1.1": "服务的概念",
    "1.2": "公司服务总则",
    "2.1": "服务的重大意义",
    "4.2.2": "上门服务",
    "4.2.3": "接待来访",
    "4.2.4": "展会服务",
    "5": "其它",
}


def _range(prefix: str, last: int) -> list[str]:
    return [f"{prefix}.{i}" for i in range(1, last + 1)]


EXPECTED_NUMBERS = [
    "1", "1.1", "1.2",
    "2", "2.1", "2.2", *_range("2.2", 8), "2.3", *_range("2.3", 7),
    "2.4", *_range("2.4", 2), "2.5", *_range("2.5", 2),
    "3", "3.1", *_range("3.1", 3), "3.2", *_range("3.2", 5),
    "3.3", "3.3.1", "3.3.2", *_range("3.3.2", 6), *_range("3.3", 6)[2:],
    "3.4", *_range("3.4", 7),
    "4", "4.1", *_range("4.1", 3), "4.2", "4.2.1", *_range("4.2.1", 8),
    "4.2.2", "4.2.3", "4.2.4",
    "5",
]  # fmt: skip


@pytest.fixture(scope="module")
def doc() -> NormDocument:
    return parse_file(SEED, title_overrides=OVERRIDES)


def test_document_title_and_top_level(doc: NormDocument) -> None:
    assert doc.title == "公司服务规范"
    assert [(s.number, s.label, s.title) for s in doc.sections] == [
        ("1", "1、", "服务的概念及公司服务总则"),
        ("2", "2、", "服务的重要性"),
        ("3", "3、", "服务的要求"),
        ("4", "4、", "服务方式"),
        ("5", "5、", "其它"),
    ]


def test_all_numbers_in_order(doc: NormDocument) -> None:
    numbers = [s.number for s in doc.walk()]
    assert numbers == EXPECTED_NUMBERS
    assert all(s.level == s.number.count(".") + 1 for s in doc.walk())
    assert all(s.label == s.number for s in doc.walk() if s.level > 1)


@pytest.mark.parametrize(
    ("number", "title"),
    [
        ("1.1", "服务的概念"),
        ("2.2", "不良内部服务的影响"),
        ("2.2.1", "不良的内部服务会造成内部人员的不满"),
        ("3.2", "服务态度要求"),
        ("3.3", "良好的服务标准"),
        ("3.3.1", "注重仪表"),
        ("4.2.1", "电话联系"),
        ("4.2.2", "上门服务"),
        ("4.2.4", "展会服务"),
        ("5", "其它"),
    ],
)
def test_titles(doc: NormDocument, number: str, title: str) -> None:
    assert doc.find(number).title == title


def test_first_sentence_title_leaves_rest_as_body(doc: NormDocument) -> None:
    section = doc.find("3.3.1")
    assert section.body == "衣着、仪容得体,既体现了个人素质高,又展示了公司良好形象。"


def test_long_parent_text_gets_short_title_and_keeps_sentence(doc: NormDocument) -> None:
    section = doc.find("3.1")
    assert section.title == "服务绝不只是表面展现出的热情"
    assert (
        section.body == "服务绝不只是表面展现出的热情,更是内在良好的服务心态、衷心存在的服务意识。"
    )
    assert len(section.children) == 3


def test_override_prefix_is_removed_from_body(doc: NormDocument) -> None:
    assert doc.find("4.2.2").body.startswith("公司销售业务、技术支持服务中")
    assert doc.find("1.1").body.startswith("通俗解释:“服务”就是")
    assert (
        doc.find("5").body
        == "本规范由人事行政部负责解释、并适时修订。本规范自****年**月**日起实施。"
    )


def test_numbers_inside_sentences_stay_in_bodies(doc: NormDocument) -> None:
    assert "一般不得超过三声" in doc.find("4.2.1.2").body
    assert "****年**月**日" in doc.find("5").body


def test_hash_is_of_title_and_body_only(doc: NormDocument) -> None:
    from training.norm.model import text_hash

    for section in doc.walk():
        assert section.hash == text_hash(section.title + section.body)
    assert len({s.hash for s in doc.walk()}) == len(EXPECTED_NUMBERS)


def _own_text(section) -> str:
    """The section's text as written: derived titles repeat the body's start."""
    stem = section.title.rstrip("…")
    return section.body if section.body.startswith(stem) else section.title + section.body


def test_no_characters_lost() -> None:
    source = SEED.read_text(encoding="utf-8")
    for overrides in (OVERRIDES, None):
        doc = parse_file(SEED, title_overrides=overrides)
        rebuilt = doc.title + "".join(s.label + _own_text(s) for s in doc.walk())

        # Titles drop the 。 or : that ended them; nothing else may go missing.
        def squeeze(text: str) -> str:
            return re.sub(r"[\s。:：]", "", text)

        assert squeeze(rebuilt) == squeeze(source)


def test_outline_lists_every_section(doc: NormDocument) -> None:
    rows = outline(doc)
    assert [r["number"] for r in rows] == EXPECTED_NUMBERS
    assert rows[0] == {
        "number": "1",
        "title": "服务的概念及公司服务总则",
        "level": 1,
        "hash": doc.sections[0].hash,
    }
    assert set(rows[5]) == {"number", "title", "level", "hash"}


def test_source_digest(doc: NormDocument) -> None:
    import hashlib

    assert doc.source_sha256 == hashlib.sha256(SEED.read_bytes()).hexdigest()
