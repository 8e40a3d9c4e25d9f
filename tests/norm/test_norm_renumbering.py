"""Hashes follow the text, not the number: renumbering keeps them."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from training.norm.parse import parse_text

SEED = Path(__file__).parents[2] / "content" / "source" / "service-norm.txt"
OVERRIDES = {"1.1": "服务的概念", "1.2": "公司服务总则", "2.1": "服务的重大意义", "5": "其它"}


def _shift_chapter_two(text: str) -> str:
    """Insert a new 2.1 and move the old 2.x (and 2.x.y) one down."""
    shifted = re.sub(r"(?<![\d.])2\.(\d+)", lambda m: f"2.{int(m.group(1)) + 1}", text)
    return shifted.replace("2、服务的重要性", "2、服务的重要性2.1新增条款。服务要及时。", 1)


def test_inserting_a_section_keeps_other_hashes() -> None:
    source = SEED.read_text(encoding="utf-8")
    before = parse_text(source, title_overrides=OVERRIDES)
    shifted_overrides = {**OVERRIDES, "2.1": "新增条款", "2.2": "服务的重大意义"}
    after = parse_text(_shift_chapter_two(source), title_overrides=shifted_overrides)

    def renumbered(number: str) -> str:
        parts = number.split(".")
        if parts[0] == "2" and len(parts) > 1:
            parts[1] = str(int(parts[1]) + 1)
        return ".".join(parts)

    assert after.find("2.1").title == "新增条款"
    assert len(list(after.walk())) == len(list(before.walk())) + 1
    for section in before.walk():
        moved = after.find(renumbered(section.number))
        assert (moved.title, moved.body) == (section.title, section.body), section.number
        if section.number != "2":  # chapter 2 itself gained a child, not text
            assert moved.hash == section.hash, section.number
    assert after.find("2").hash == before.find("2").hash


def test_number_is_not_part_of_the_hash() -> None:
    a = parse_text("规范\n1、总则\n1.1 注重仪表。衣着得体。")
    b = parse_text("规范\n1、其它\n2、总则\n2.1 注重仪表。\n衣着得体。")
    c = parse_text("规范\n一、总则\n（一）注重仪表。衣着得体。")
    assert a.find("1.1").hash == b.find("2.1").hash == c.find("1.1").hash


@settings(max_examples=30)
@given(
    st.lists(st.sampled_from(["衣着得体,", "举止文雅。", "热情周到;"]), min_size=1, max_size=6),
    st.lists(st.sampled_from(["", " ", "\n", "\u3000", "\r\n"]), min_size=6, max_size=6),
)
def test_hash_ignores_line_breaks_and_spacing_in_body(words: list[str], gaps: list[str]) -> None:
    spaced = "".join(word + gap for word, gap in zip(words, gaps, strict=False))
    plain = parse_text(f"规范\n1、总则\n1.1 注重仪表\n{''.join(words)}\n2、附则").find("1.1")
    laid_out = parse_text(f"规范\n1、总则\n1.1 注重仪表\n{spaced}\n2、附则").find("1.1")
    assert laid_out.title == plain.title == "注重仪表"
    assert laid_out.hash == plain.hash
