"""Finding the next heading in running text: the same answers as one regex per candidate set,
without compiling a pattern per heading."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from training.norm.numbering import CN_CHARS, Marker, Sequencer, Style, search, to_chinese
from training.norm.parse import parse_text

SOURCE = Path(__file__).resolve().parents[2] / "content" / "source" / "service-norm.txt"

# --- the implementation this replaced, kept as the oracle -------------------------------------
# One alternation of every candidate, compiled for each set of candidates (so for each heading).

_SEPS = "、.．"
_KIND_CHAR = {Style.CHAPTER: "章", Style.SECTION: "节", Style.ARTICLE: "条"}


def _old_pattern(c: Marker) -> str:
    n = c.ordinal
    match c.style:
        case Style.DOTTED:
            core = "[.．]".join(map(str, c.path))
            return rf"(?<![\d.．]){core}(?!\d)(?![.．]\d)(?:[、.．](?!\d))?"
        case Style.ARABIC:
            sep = re.escape(c.sep) if c.sep else f"[{_SEPS}]"
            return rf"(?<![\d.．]){n}{sep}(?!\d)"
        case Style.CN:
            return rf"(?<![{CN_CHARS}第]){to_chinese(n)}[、.．](?!\d)"
        case Style.PAREN_CN:
            return rf"[(（]{to_chinese(n)}[)）]"
        case Style.PAREN_AR:
            return rf"[(（]{n}[)）]"
        case Style.CIRCLED:
            return re.escape(chr(0x245F + n)) if n <= 20 else "(?!)"
        case _:
            return rf"第(?:{to_chinese(n)}|{n}){_KIND_CHAR[c.style]}"


def old_search(text: str, pos: int, cands: list[Marker]) -> tuple[Marker, int, int] | None:
    pattern = re.compile("|".join(f"(?P<c{i}>{_old_pattern(c)})" for i, c in enumerate(cands)))
    m = pattern.search(text, pos)
    if not m:
        return None
    if m.lastgroup is None:
        raise ValueError("search needs at least one candidate")
    cand = cands[int(m.lastgroup[1:])]
    if cand.style is Style.ARABIC:
        cand = replace(cand, sep=m.group(0)[-1])
    return cand, m.start(), m.end()


def old_scan(text: str) -> list[tuple[Marker, int, int]]:
    seq = Sequencer(lock_separators=True)
    hits = []
    pos = 0
    while found := old_search(text, pos, seq.candidates()):
        seq.push(found[0])
        hits.append(found)
        pos = found[2]
    return hits


def new_scan(text: str) -> list[tuple[Marker, int, int]]:
    seq = Sequencer(lock_separators=True)
    hits = []
    pos = 0
    while found := search(text, pos, seq.candidates()):
        seq.push(found[0])
        hits.append(found)
        pos = found[2]
    return hits


# --- examples ---------------------------------------------------------------------------------

A1 = Marker(Style.ARABIC, (1,))
A2 = Marker(Style.ARABIC, (2,))
A12 = Marker(Style.ARABIC, (12,))
D11 = Marker(Style.DOTTED, (1, 1))
D12 = Marker(Style.DOTTED, (1, 2))
D111 = Marker(Style.DOTTED, (1, 1, 1))
CN1 = Marker(Style.CN, (1,))
CN10 = Marker(Style.CN, (10,))
PCN1 = Marker(Style.PAREN_CN, (1,))
PAR1 = Marker(Style.PAREN_AR, (1,))
CIRC1 = Marker(Style.CIRCLED, (1,))
CIRC21 = Marker(Style.CIRCLED, (21,))
CH1 = Marker(Style.CHAPTER, (1,))
CH10 = Marker(Style.CHAPTER, (10,))
SEC1 = Marker(Style.SECTION, (1,))
ART11 = Marker(Style.ARTICLE, (11,))

TRICKY = [
    # Inside a longer number or after a decimal point: not a heading.
    pytest.param("共12、13项;2、", [A2], id="arabic-not-inside-12"),
    pytest.param("第1.2、2、", [A2], id="arabic-not-after-a-point"),
    pytest.param("12、1、", [A1, A12], id="earliest-place-wins-over-list-order"),
    pytest.param("1.1.5倍;1.1服务", [D11], id="dotted-not-a-prefix-of-a-longer-one"),
    pytest.param("1.15米;1.1服务", [D11], id="dotted-not-a-prefix-of-a-longer-number"),
    pytest.param("21.1;1.1服务", [D11], id="dotted-not-a-suffix"),
    pytest.param("1．1、服务", [D11], id="dotted-full-width-point-and-separator"),
    pytest.param("1.1.服务", [D11], id="dotted-trailing-point-taken"),
    pytest.param("1.1.2服务", [D11, D111], id="dotted-deeper-after-shallower-in-list"),
    pytest.param("1、", [Marker(Style.ARABIC, (1,), ".")], id="arabic-locked-separator"),
    pytest.param("1.x 1.", [Marker(Style.ARABIC, (1,), ".")], id="arabic-locked-point"),
    pytest.param("1.5", [A1], id="arabic-then-digit-is-a-decimal"),
    pytest.param("１、1、", [A1], id="full-width-digits-are-not-ascii"),
    pytest.param("1٣、1、", [A1], id="other-script-digit-extends-the-number"),
    pytest.param("十一、一、", [CN1], id="cn-not-inside-a-numeral"),
    pytest.param("第一、一、", [CN1], id="cn-not-after-di"),
    pytest.param("十、十一、", [CN10], id="cn-ten-not-eleven"),
    pytest.param("一、5 一.x", [CN1], id="cn-separator-then-digit"),
    pytest.param("（一）(一)", [PCN1], id="paren-cn-full-and-half-width"),
    pytest.param("(十一)(一)", [PCN1], id="paren-cn-whole-numeral"),
    pytest.param("(11)（1）", [PAR1], id="paren-arabic-whole-number"),
    pytest.param("(1）", [PAR1], id="paren-mixed-widths"),
    pytest.param("②①", [CIRC1], id="circled"),
    pytest.param("⑳(21)", [CIRC21], id="circled-beyond-twenty-never-matches"),
    pytest.param("第十一章第十章", [CH10], id="chapter-whole-numeral"),
    pytest.param("第10章", [CH10], id="chapter-in-digits"),
    pytest.param("第110章第10章", [CH10], id="chapter-whole-number"),
    pytest.param("第一条第一章", [CH1], id="chapter-kind-character"),
    pytest.param("第一章第一节", [SEC1, CH1], id="chapter-before-section-by-place"),
    pytest.param("第十一条", [ART11], id="article-numeral"),
    pytest.param("1、第一章", [CH1, A1], id="list-order-only-at-the-same-place"),
    pytest.param("第一章1、", [A1, CH1, CN1, PCN1, PAR1, D11], id="every-style"),
    pytest.param("没有编号", [A1, CH1], id="none"),
    pytest.param("", [A1], id="empty-text"),
]


@pytest.mark.parametrize(("text", "cands"), TRICKY)
@pytest.mark.parametrize("pos", [0, 1, 2])
def test_tricky_cases_as_before(text: str, cands: list[Marker], pos: int) -> None:
    assert search(text, pos, cands) == old_search(text, pos, cands)


def test_lookbehind_sees_text_before_the_start() -> None:
    # Starting the search inside "12、" must not make "2、" a heading.
    assert search("12、2、", 1, [A2]) == (replace(A2, sep="、"), 3, 5)


def test_arabic_reports_the_separator_found() -> None:
    assert search("x1．", 0, [A1]) == (replace(A1, sep="．"), 1, 3)


def test_no_candidates_is_an_error() -> None:
    with pytest.raises(ValueError, match="at least one candidate"):
        search("1、", 0, [])


def test_a_numeral_past_999_fails_as_before() -> None:
    with pytest.raises(ValueError, match="Chinese ordinal"):
        old_search("一、", 0, [A1, Marker(Style.CN, (1000,))])
    with pytest.raises(ValueError, match="Chinese ordinal"):
        search("一、", 0, [A1, Marker(Style.CN, (1000,))])


# --- properties -------------------------------------------------------------------------------

# Characters that make or break markers, a few digits of other widths and scripts, and filler.
_ALPHABET = "0112223.．、,(（)）第章节条一二十百零两〇①②⑳１٣服务 \n"
_texts = st.text(alphabet=_ALPHABET, max_size=40)
_small = st.integers(min_value=1, max_value=23)
_markers = st.one_of(
    st.builds(
        lambda n, sep: Marker(Style.ARABIC, (n,), sep), _small, st.sampled_from([None, *_SEPS])
    ),
    st.builds(lambda path: Marker(Style.DOTTED, tuple(path)), st.lists(_small, min_size=2)),
    st.builds(
        lambda style, n: Marker(style, (n,)),
        st.sampled_from([s for s in Style if s not in (Style.ARABIC, Style.DOTTED)]),
        _small,
    ),
)


@settings(max_examples=600)
@given(_texts, st.integers(min_value=0, max_value=5), st.lists(_markers, min_size=1, max_size=8))
def test_same_answer_as_one_regex_per_candidate_set(
    text: str, pos: int, cands: list[Marker]
) -> None:
    assert search(text, pos, cands) == old_search(text, pos, cands)


_heading_texts = st.lists(
    st.one_of(
        st.sampled_from(["1、", "2、", "3.", "1.1", "1.2", "2.1", "1.1.1", "一、", "二、", "(一)"]),
        st.sampled_from(["（二）", "(1)", "(2)", "①", "②", "第一章", "第二章", "第一条", "第二条"]),
        _texts,
    ),
    max_size=30,
).map("".join)


@settings(max_examples=300)
@given(_heading_texts)
def test_inline_scan_finds_the_same_headings(text: str) -> None:
    assert new_scan(text) == old_scan(text)


def test_the_company_norm_scans_as_before() -> None:
    text = SOURCE.read_text(encoding="utf-8")
    assert new_scan(text) == old_scan(text)


def test_parsing_compiles_no_pattern_per_heading(monkeypatch: pytest.MonkeyPatch) -> None:
    """The patterns a parse asks `re` for do not depend on how many headings there are."""
    text = SOURCE.read_text(encoding="utf-8")
    bigger = text + "".join(
        f"{n}、第{n}部分。{n}.1 要求。{n}.1.1 细则。{n}.2 说明。" for n in range(6, 60)
    )
    real_compile = re._compile  # type: ignore[attr-defined]
    asked: list[object] = []

    def counting(pattern, flags):
        asked.append(pattern)
        return real_compile(pattern, flags)

    monkeypatch.setattr(re, "_compile", counting)
    small = parse_text(text)
    patterns_small = set(asked)
    asked.clear()
    large = parse_text(bigger)
    assert len(list(large.walk())) == len(list(small.walk())) + 54 * 4
    assert set(asked) <= patterns_small
    assert len(patterns_small) <= 10
