"""Turn raw input (bytes, text, Markdown, .docx) into lines the parser reads."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass

from flask_babel import gettext as _

from training.norm.model import NormParseError

_HEADING_STYLE = re.compile(r"^\s*(?:heading|标题)\s*\d", re.IGNORECASE)
# Control characters that never occur in real text; \t \n \r \f \v do.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


def line_place(file: str, line: int) -> str:
    """The place of a line of a text file, as named in errors."""
    return _("%(file)s 第 %(line)s 行", file=file, line=line)


def paragraph_place(file: str, n: int) -> str:
    """The place of a paragraph of a .docx, as named in errors."""
    return _("%(file)s 第 %(n)s 段", file=file, n=n)


def byte_place(file: str, n: int) -> str:
    """The place of a byte (counted from 0) of a file, as named in errors."""
    return _("%(file)s 第 %(n)s 字节", file=file, n=n)


@dataclass(frozen=True)
class Line:
    """One line (text) or paragraph (.docx) of a file, numbered from 1.

    ``marked`` is True when the layout itself marks the line as a heading
    (a Markdown ``#`` line, a .docx Heading paragraph). ``place`` names it in
    errors, in the reader's language, and is only written out when needed.
    """

    text: str
    file: str
    number: int
    marked: bool = False
    paragraph: bool = False

    @property
    def place(self) -> str:
        """Where the line is, to name in an error."""
        if self.paragraph:
            return paragraph_place(self.file, self.number)
        return line_place(self.file, self.number)


def normalize_whitespace(text: str) -> str:
    """Unify line endings and odd spaces; the text is otherwise kept as written."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "")
    return text.replace("\u3000", " ").replace("\xa0", " ")


def check_text(text: str, where: str) -> None:
    """Raise NormParseError for empty, blank or binary-looking text."""
    if not text:
        raise NormParseError(_("文件为空"), line_place(where, 1))
    if not text.strip():
        raise NormParseError(_("文件只有空白字符"), line_place(where, 1))
    bad = _CONTROL.search(text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        char = f"U+{ord(bad.group()):04X}"
        raise NormParseError(
            _("含有控制字符 %(char)s，像是二进制文件", char=char), line_place(where, line)
        )


def decode(data: bytes, filename: str) -> str:
    """Decode UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030 bytes."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise NormParseError(_("UTF-16 内容无法解码"), byte_place(filename, exc.start)) from exc
    nul = data.find(b"\x00")
    if nul >= 0:
        raise NormParseError(_("含有 NUL 字节，像是二进制文件"), byte_place(filename, nul))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as utf8_error:
        try:
            return data.decode("gb18030")
        except UnicodeDecodeError:
            raise NormParseError(
                _("既不是 UTF-8 也不是 GB18030 文本"), byte_place(filename, utf8_error.start)
            ) from utf8_error


MAX_DOCX_UNCOMPRESSED = 50 * 1024 * 1024
# A norm is a few hundred paragraphs. python-docx builds a tree of every one, so a small file
# of millions of empty paragraphs (they compress to nothing) would take gigabytes: count them
# in the raw XML first, streaming, and refuse beyond this.
MAX_DOCX_PARAGRAPHS = 20_000
_PARAGRAPH_TAGS = (b"<w:p>", b"<w:p ", b"<w:p/>")


def _paragraph_count(archive: zipfile.ZipFile, limit: int) -> int:
    """Count paragraph tags in word/document.xml, reading 1 MB at a time; stop past ``limit``."""
    count = 0
    tail = b""
    with archive.open("word/document.xml") as xml:
        while chunk := xml.read(1 << 20):
            window = tail + chunk
            # Tags wholly inside the carried tail were counted with the previous window; a
            # tag cut by the boundary is counted once, here (tags are at most 6 bytes).
            count += sum(window.count(t) for t in _PARAGRAPH_TAGS)
            count -= sum(tail.count(t) for t in _PARAGRAPH_TAGS)
            tail = window[-5:]
            if count > limit:
                break
    return count


def is_zip(data: bytes) -> bool:
    """True for a ZIP container (which a .docx is)."""
    return data.startswith(b"PK\x03\x04")


def docx_lines(data: bytes, filename: str) -> list[Line]:
    """Return the non-empty paragraphs of a .docx; Heading styles mark headings."""
    try:
        infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except zipfile.BadZipFile as exc:
        raise NormParseError(
            _("ZIP 文件已损坏：%(error)s", error=exc), byte_place(filename, 0)
        ) from exc
    names = [info.filename for info in infos]
    if sum(info.file_size for info in infos) > MAX_DOCX_UNCOMPRESSED:
        # A norm is a few pages; a package that inflates this far is not one.
        raise NormParseError(
            _(".docx 解压后超过 %(size)s MB", size=MAX_DOCX_UNCOMPRESSED // (1024 * 1024)),
            byte_place(filename, 0),
        )
    if "word/document.xml" not in names:
        raise NormParseError(
            _("ZIP 文件但不是 .docx：缺少 word/document.xml"), byte_place(filename, 0)
        )
    if (
        _paragraph_count(zipfile.ZipFile(io.BytesIO(data)), MAX_DOCX_PARAGRAPHS)
        > MAX_DOCX_PARAGRAPHS
    ):
        raise NormParseError(
            _(
                "文件包含超过 %(limit)s 段，不像一份服务规范，请检查或拆分后上传",
                limit=MAX_DOCX_PARAGRAPHS,
            ),
            byte_place(filename, 0),
        )
    import docx  # python-docx is only needed for this format

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises many types for a broken package
        raise NormParseError(
            _("无法读取 .docx：%(error)s", error=exc), byte_place(filename, 0)
        ) from exc
    lines = []
    for i, paragraph in enumerate(document.paragraphs, 1):
        text = normalize_whitespace(paragraph.text).strip()
        if not text:
            continue
        style = paragraph.style.name if paragraph.style is not None else ""
        marked = bool(_HEADING_STYLE.match(style or ""))
        lines.append(Line(text, filename, i, marked, paragraph=True))
    if not lines:
        raise NormParseError(_("文档没有任何文字"), paragraph_place(filename, 1))
    return lines


_MD_HEADING = re.compile(r"^ {0,3}#{1,6}(?:\s+(.*?))?(?:\s+#+)?\s*$")
_MD_PREFIX = re.compile(r"^\s*(?:(?:[-*+]|>)\s+|>)+")
_MD_RULE = re.compile(r"^\s*(?:[-*_]\s*){3,}$")
_MD_FENCE = re.compile(r"^\s*(?:```|~~~)")
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_CODE = re.compile(r"`([^`]*)`")
# Emphasis only around non-blank content and never on escaped stars, so that
# "\*\*\*\*年" written as escaped text survives as "****年".
_MD_EMPHASIS = re.compile(r"(?<![\\*_])(\*\*|__|\*|_)(?=[^\s*_])(.+?)(?<=[^\s\\*_])\1(?![*_])")
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!>~|])")


def looks_like_markdown(lines: list[str]) -> bool:
    """True if any line is an ATX (``#``) heading."""
    return any(_MD_HEADING.match(line) for line in lines)


def markdown_line(line: str) -> tuple[str, bool]:
    """Strip Markdown syntax from one line; return (text, is_heading)."""
    if _MD_RULE.match(line) or _MD_FENCE.match(line):
        return "", False
    heading = _MD_HEADING.match(line)
    text = (heading.group(1) or "") if heading else _MD_PREFIX.sub("", line)
    text = _MD_LINK.sub(r"\1", text)
    text = _MD_CODE.sub(r"\1", text)
    previous = None
    while previous != text:
        previous, text = text, _MD_EMPHASIS.sub(r"\2", text)
    return _MD_ESCAPE.sub(r"\1", text), heading is not None
