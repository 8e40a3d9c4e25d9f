"""The same norm laid out as lines, Markdown or .docx parses to the same outline."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import docx
import pytest
from docx.enum.style import WD_STYLE_TYPE

from training.norm.model import NormDocument
from training.norm.parse import parse_bytes, parse_file, parse_text

SEED = Path(__file__).parents[2] / "content" / "source" / "service-norm.txt"
OVERRIDES = {
    "1.1": "服务的概念",
    "1.2": "公司服务总则",
    "2.1": "服务的重大意义",
    "4.2.2": "上门服务",
    "4.2.3": "接待来访",
    "4.2.4": "展会服务",
    "5": "其它",
}
TERMINATORS = "。！？；!?;"


@pytest.fixture(scope="module")
def seed() -> NormDocument:
    return parse_file(SEED, title_overrides=OVERRIDES)


@pytest.fixture(scope="module")
def pieces(seed: NormDocument) -> list[tuple[int, str, str]]:
    """(level, heading line, body) per section, split the way a writer would."""
    source = SEED.read_text(encoding="utf-8")
    sections = list(seed.walk())
    starts, pos = [], 0
    for section in sections:
        pos = source.index(section.label, pos)
        starts.append(pos)
        pos += len(section.label)
    out = []
    for i, section in enumerate(sections):
        stop = starts[i + 1] if i + 1 < len(sections) else len(source)
        own = source[starts[i] + len(section.label) : stop]
        head, body = own, ""
        if section.number in OVERRIDES:
            head, body = section.title, own[len(section.title) :]
        elif own.startswith(section.title) and own[len(section.title) : len(section.title) + 1] in (
            tuple(TERMINATORS)
        ):
            head, body = own[: len(section.title) + 1], own[len(section.title) + 1 :]
        out.append((section.level, section.label + head, body))
    return out


def _signature(doc: NormDocument) -> list[tuple[str, str, str, int]]:
    return [(s.number, s.title, s.hash, s.level) for s in doc.walk()]


def test_line_breaks_before_each_heading(seed: NormDocument) -> None:
    lines = [seed.title] + [s.label for s in seed.walk()]
    source = SEED.read_text(encoding="utf-8")
    text, pos = [], 0
    for label in lines[1:]:
        at = source.index(label, pos + 1)
        text.append(source[pos:at])
        pos = at
    text.append(source[pos:])
    doc = parse_text("\r\n".join(text), title_overrides=OVERRIDES)
    assert doc.title == "公司服务规范"
    assert _signature(doc) == _signature(seed)


def test_markdown(seed: NormDocument, pieces: list[tuple[int, str, str]]) -> None:
    def escape(text: str) -> str:
        return text.replace("*", r"\*")

    out = [f"# {seed.title}", ""]
    for level, head, body in pieces:
        out += ["#" * min(level + 1, 6) + " " + escape(head), ""]
        if body:
            out += [escape(body), ""]
    doc = parse_bytes("\n".join(out).encode("utf-8"), filename="norm.md", title_overrides=OVERRIDES)
    assert doc.title == "公司服务规范"
    assert _signature(doc) == _signature(seed)


def _docx(paragraphs: list[tuple[str | None, str]], *, heading_name: str = "Heading {}") -> bytes:
    """Build a .docx from (style, text); style "H<n>" means a heading of level n."""
    document = docx.Document()
    if "{}" in heading_name and not heading_name.startswith("Heading"):
        for n in range(1, 10):
            document.styles.add_style(heading_name.format(n), WD_STYLE_TYPE.PARAGRAPH)
    for style, text in paragraphs:
        if style and style.startswith("H"):
            document.add_paragraph(text, style=heading_name.format(int(style[1:])))
        else:
            document.add_paragraph(text, style=style)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_docx_with_heading_styles(seed: NormDocument, pieces: list[tuple[int, str, str]]) -> None:
    paragraphs: list[tuple[str | None, str]] = [("Title", seed.title)]
    for level, head, body in pieces:
        paragraphs.append((f"H{level}", head))
        if body:
            paragraphs.append((None, body))
    data = _docx(paragraphs)
    doc = parse_bytes(data, filename="norm.bin", title_overrides=OVERRIDES)
    assert doc.title == "公司服务规范"
    assert _signature(doc) == _signature(seed)
    assert doc.source_sha256 == hashlib.sha256(data).hexdigest()


def test_docx_chinese_heading_style_names() -> None:
    data = _docx(
        [
            ("H1", "1、总则"),
            (None, "1、这一段是正文，不是标题。"),
            ("H2", "1.1 目的"),
            (None, "规范服务。"),
            ("H1", "2、附则"),
        ],
        heading_name="标题 {}",
    )
    doc = parse_bytes(data)
    assert [s.number for s in doc.walk()] == ["1", "1.1", "2"]
    assert doc.find("1").body == "1、这一段是正文，不是标题。"


def test_docx_without_heading_styles_reads_paragraphs_as_lines() -> None:
    data = _docx([(None, "制度"), (None, "1、总则"), (None, "1.1 目的"), (None, "2、附则")])
    assert [s.number for s in parse_bytes(data).walk()] == ["1", "1.1", "2"]


def test_docx_one_paragraph_is_read_inline() -> None:
    data = _docx([(None, SEED.read_text(encoding="utf-8"))])
    doc = parse_bytes(data, title_overrides=OVERRIDES)
    assert [s.number for s in doc.walk()][-4:] == ["4.2.2", "4.2.3", "4.2.4", "5"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "utf-16"])
def test_encodings(seed: NormDocument, encoding: str) -> None:
    data = SEED.read_text(encoding="utf-8").encode(encoding)
    doc = parse_bytes(data, filename="norm.txt", title_overrides=OVERRIDES)
    assert _signature(doc) == _signature(seed)
    assert doc.source_sha256 == hashlib.sha256(data).hexdigest()


def test_full_width_spaces_and_indentation_do_not_change_hashes(seed: NormDocument) -> None:
    text = "\u3000\u3000" + SEED.read_text(encoding="utf-8").replace("。", "。\u3000")
    doc = parse_text(text, title_overrides=OVERRIDES)
    assert _signature(doc) == _signature(seed)


def test_markdown_markup_is_stripped() -> None:
    text = "\n".join(
        [
            "# 规范",
            "## 1、总则",
            "- **重点**说明见[附件](a.md)。",
            "* 第二点",
            "## 2、附则",
            "1. 这是列表，不是标题",
        ]
    )
    doc = parse_text(text)
    assert doc.title == "规范"
    assert [s.number for s in doc.walk()] == ["1", "2"]
    assert doc.find("1").body == "重点说明见附件。\n第二点"
    assert doc.find("2").body == "1. 这是列表，不是标题"


def test_short_heading_line_is_the_title() -> None:
    doc = parse_text("规范\n1、上门服务\n去客户前要先联系好,做好相应的准备。\n2、附则")
    assert doc.find("1").title == "上门服务"
    assert doc.find("1").body == "去客户前要先联系好,做好相应的准备。"


def test_line_without_number_continues_body() -> None:
    doc = parse_text("规范\n1、总则\n2026年起施行。\n24小时值班。\n1.5倍计酬\n2、附则")
    assert [s.number for s in doc.walk()] == ["1", "2"]
    assert doc.find("1").body == "2026年起施行。\n24小时值班。\n1.5倍计酬"


def test_marked_chapters_with_plain_numbered_items() -> None:
    text = "# 规范\n## 1、总则\n1.1 目的\n正文。\n1.2 范围\n1. 列表项\n## 2、附则\n2.1 施行"
    doc = parse_text(text)
    assert [s.number for s in doc.walk()] == ["1", "1.1", "1.2", "2", "2.1"]
    assert doc.find("1.2").body == "1. 列表项"
