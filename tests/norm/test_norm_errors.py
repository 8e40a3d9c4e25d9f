"""Bad input raises NormParseError naming the line, paragraph or byte."""

from __future__ import annotations

import io

import docx
import pytest

from training.norm.model import NormParseError
from training.norm.parse import parse_bytes, parse_file, parse_text


@pytest.mark.parametrize(
    ("data", "where", "message"),
    [
        pytest.param(b"", "f.txt 第 0 字节", "为空", id="empty"),
        pytest.param(b" \r\n\t\n\xe3\x80\x80\n", "f.txt 第 1 行", "空白", id="whitespace"),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "f.txt 第 8 字节", "二进制", id="nul"),
        pytest.param(b"abc\x80\xff\xfe\x80", "f.txt 第 3 字节", "GB18030", id="undecodable"),
        pytest.param("正文\x01\x02".encode(), "f.txt 第 1 行", "控制字符", id="control-chars"),
        pytest.param(
            "公司服务规范\n这里没有编号。\n也没有章节。".encode(),
            "f.txt 第 1 行",
            "编号",
            id="no-numbering",
        ),
        pytest.param(
            "三声、24小时、2026年".encode(), "f.txt 第 1 行", "编号", id="only-false-numbers"
        ),
        pytest.param(b"PK\x03\x04garbage", "f.txt 第 0 字节", "ZIP", id="corrupt-zip"),
    ],
)
def test_bad_bytes(data: bytes, where: str, message: str) -> None:
    with pytest.raises(NormParseError) as info:
        parse_bytes(data, filename="f.txt")
    assert info.value.where == where
    assert message in str(info.value)
    assert str(info.value).startswith(where)


def test_zip_that_is_not_docx() -> None:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "1、总则")
    with pytest.raises(NormParseError, match="word/document.xml"):
        parse_bytes(buffer.getvalue(), filename="x.docx")


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        pytest.param("", 1, "为空", id="empty"),
        pytest.param("  \n\u3000\n", 1, "空白", id="whitespace"),
        pytest.param("规范\n1、总则\n正文\x00", 3, "控制字符", id="nul-in-text"),
        pytest.param("规范\n1、总则\n1.1 甲\n1.3 乙\n", 4, "缺少 1.2", id="gap"),
        pytest.param("规范\n1、总则\n1.1 甲\n1.1 乙\n2、附则", 4, "重复", id="duplicate"),
        pytest.param(
            "规范\n1、总则\n1.2 乙\n1.1 甲\n", 3, "1.2 出现在 1.1 之前", id="out-of-order"
        ),
        pytest.param("规范\n1、总则\n3、附则\n其它", 3, "缺少 2、", id="top-level-gap"),
        pytest.param("规范\n1、总则\n2、其它\n1、总则", 4, "重复", id="top-level-duplicate"),
        pytest.param("规范\n2、总则\n正文\n3、附则", 2, "缺少 1、", id="does-not-start-at-one"),
        pytest.param("规范\n一、总则\n（二）目的\n正文", 3, "缺少 (一)", id="paren-gap"),
        pytest.param(
            "守则\n第一章 总则\n第一条 甲\n第二条 乙\n第二章 附则\n第三条 丙\n第三条 丁",
            7,
            "重复",
            id="article-dup",
        ),
        pytest.param(
            "守则\n第一章 总则\n第一条 甲\n第三条 乙\n正文", 4, "缺少 第二条", id="article-gap"
        ),
        pytest.param("规范\n1、总则\n1.1.1 甲\n正文", 3, "1.1.1 不接续前文", id="skipped-level"),
    ],
)
def test_bad_text(text: str, line: int, message: str) -> None:
    with pytest.raises(NormParseError) as info:
        parse_text(text, where="norm.txt")
    assert info.value.where == f"norm.txt 第 {line} 行"
    assert message in str(info.value)


def test_markdown_heading_out_of_sequence_names_line() -> None:
    text = "# 规范\n\n## 1、总则\n\n正文\n\n### 1.1 甲\n\n### 1.3 乙\n"
    with pytest.raises(NormParseError, match="缺少 1.2") as info:
        parse_text(text, where="norm.md")
    assert info.value.where == "norm.md 第 9 行"


def _docx(paragraphs: list[tuple[int | None, str]]) -> bytes:
    document = docx.Document()
    for level, text in paragraphs:
        if level:
            document.add_heading(text, level)
        else:
            document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("paragraphs", "paragraph", "message"),
    [
        pytest.param(
            [(1, "1、总则"), (None, "正文"), (2, "1.1 甲"), (2, "1.3 乙")], 4, "缺少 1.2", id="gap"
        ),
        pytest.param([(1, "1、总则"), (2, "1.1 甲"), (2, "1.1 乙")], 3, "重复", id="duplicate"),
        pytest.param(
            [(1, "1、总则"), (2, "1.2 乙"), (2, "1.1 甲")], 2, "出现在 1.1 之前", id="out-of-order"
        ),
        pytest.param([(None, "只有正文，没有编号。")], 1, "编号", id="no-numbering"),
        pytest.param([(None, "")], 1, "没有任何文字", id="empty-docx"),
    ],
)
def test_bad_docx(paragraphs: list[tuple[int | None, str]], paragraph: int, message: str) -> None:
    with pytest.raises(NormParseError) as info:
        parse_bytes(_docx(paragraphs), filename="norm.docx")
    assert info.value.where == f"norm.docx 第 {paragraph} 段"
    assert message in str(info.value)


def test_docx_normal_paragraph_out_of_sequence_is_body() -> None:
    data = _docx([(1, "1、总则"), (None, "3、这是正文里的编号。"), (1, "2、附则")])
    doc = parse_bytes(data)
    assert doc.find("1").body == "3、这是正文里的编号。"


def test_one_line_text_never_errors_on_stray_numbers() -> None:
    doc = parse_text("规范1、总则1.1甲1.3乙1.1丙2、附则")
    assert [s.number for s in doc.walk()] == ["1", "1.1", "2"]
    assert doc.find("1.1").title == "甲1.3乙1.1丙"


def test_parse_file_names_the_file(tmp_path) -> None:
    path = tmp_path / "norm.txt"
    path.write_bytes(b"")
    with pytest.raises(NormParseError) as info:
        parse_file(path)
    assert info.value.where == f"{path} 第 0 字节"


def test_an_english_reader_gets_the_error_and_its_place_in_english(app) -> None:
    from training.i18n import forget_request_locale

    with app.test_request_context(headers={"Accept-Language": "en"}):
        forget_request_locale()
        with pytest.raises(NormParseError) as info:
            parse_bytes(b"", filename="f.txt")
    assert info.value.where == "f.txt byte 0"
    assert str(info.value) == "f.txt byte 0: Empty file"
