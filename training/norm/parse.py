"""Parse a norm document (text, Markdown or .docx) into a NormDocument tree."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path

from flask_babel import gettext as _

from training.norm import readers
from training.norm.model import NormDocument, NormParseError, Section, text_hash
from training.norm.numbering import Sequencer, detect, looks_like_quantity, search

# A heading text up to this long is a title; longer text gets a derived title.
TITLE_MAX = 24
# Derived titles are cut at the first clause break, or at this many characters.
DERIVED_MAX = 16
# A document title longer than this is treated as preamble instead.
DOC_TITLE_MAX = 50

_TERMINATORS = "。！？；!?;"
_TITLE_TRAILING = "。:："
_CLAUSE_BREAKS = ",，:：、;；“「『‘(（\n"
_OPEN_QUOTES = "“「『‘"
_CLOSE_QUOTES = "”」』’"
_BODY_LEADING = "。:：、，, \n\t"


@dataclass
class _Flat:
    """A section as found, before titles are derived and the tree is built."""

    number: str
    label: str
    level: int
    head: str
    body: list[str] = field(default_factory=list)


def _first_sentence(text: str) -> tuple[str, str]:
    """Split at the first sentence end outside quotes: (sentence, rest)."""
    depth = 0
    for i, ch in enumerate(text):
        if ch in _OPEN_QUOTES:
            depth += 1
        elif ch in _CLOSE_QUOTES:
            depth = max(0, depth - 1)
        elif ch in _TERMINATORS and depth == 0:
            return text[:i], text[i + 1 :]
    return text, ""


def derive_title(text: str) -> str:
    """Return a short title from the opening words of text."""
    text = text.strip()
    cut = next((i for i, ch in enumerate(text) if ch in _CLAUSE_BREAKS + _TERMINATORS), len(text))
    title = text[:cut].strip() or text
    if len(title) > DERIVED_MAX:
        title = title[:DERIVED_MAX] + "…"
    return title


def split_title(text: str) -> tuple[str, str]:
    """Split a section's own text into (title, body) when no override is given."""
    text = text.strip()
    if not text:
        return "", ""
    sentence, rest = _first_sentence(text)
    title = sentence.strip().rstrip(_TITLE_TRAILING).strip()
    if title and len(title) <= TITLE_MAX and "\n" not in title:
        return title, rest.strip()
    # The opening sentence is too long to be a title: keep all of it as body.
    return derive_title(text), text


def _strip_prefix(text: str, prefix: str) -> str | None:
    """Return text without prefix (whitespace-insensitive), or None if absent."""
    i = 0
    for ch in prefix:
        if ch.isspace():
            continue
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text) or text[i] != ch:
            return None
        i += 1
    return text[i:]


def _title_body(flat: _Flat, override: str | None) -> tuple[str, str]:
    full = "\n".join(part for part in (flat.head, *flat.body) if part).strip()
    if override is not None:
        rest = _strip_prefix(full, override)
        body = full if rest is None else rest.lstrip(_BODY_LEADING)
        return override, body.strip()
    if flat.head and flat.body:
        # A short heading line followed by body lines is the title as laid out.
        head = flat.head.rstrip(_TITLE_TRAILING).strip()
        if head and len(head) <= TITLE_MAX and not any(t in head for t in _TERMINATORS):
            return head, "\n".join(flat.body).strip()
    return split_title(full)


def _tree(flats: list[_Flat], overrides: Mapping[str, str]) -> tuple[Section, ...]:
    pos = 0

    def take(level: int) -> list[Section]:
        nonlocal pos
        out = []
        while pos < len(flats) and flats[pos].level == level:
            flat = flats[pos]
            pos += 1
            children = take(level + 1)
            title, body = _title_body(flat, overrides.get(flat.number))
            out.append(
                Section(
                    number=flat.number,
                    label=flat.label,
                    title=title,
                    body=body,
                    level=level,
                    children=tuple(children),
                    hash=text_hash(title + body),
                )
            )
        return out

    return tuple(take(1))


def _scan_inline(text: str) -> tuple[list[str], list[_Flat]]:
    """Find headings anywhere in running text (no line layout to rely on)."""
    seq = Sequencer(lock_separators=True)
    hits = []
    pos = 0
    while found := search(text, pos, seq.candidates()):
        marker, start, end = found
        number, level = seq.push(marker)
        hits.append((start, end, number, level))
        pos = end
    flats = []
    for i, (start, end, number, level) in enumerate(hits):
        stop = hits[i + 1][0] if i + 1 < len(hits) else len(text)
        flats.append(_Flat(number, text[start:end].strip(), level, text[end:stop].strip()))
    pre = text[: hits[0][0]] if hits else text
    return [line.strip() for line in pre.split("\n") if line.strip()], flats


def _scan_lines(lines: list[readers.Line], *, marked: bool) -> tuple[list[str], list[_Flat]]:
    """Find headings at line starts; a heading-looking line out of sequence is an error.

    With ``marked`` (Markdown ``#``, .docx Heading styles) only marked lines are
    held to that: an unmarked line opens a section only if its number fits,
    since documents often style chapters as headings but number sub-items in
    plain paragraphs, while lists in the body restart at 1.
    """
    seq = Sequencer()
    found = [detect(line.text) for line in lines]
    pre: list[str] = []
    flats: list[_Flat] = []
    for i, line in enumerate(lines):
        hit = found[i]
        strict = line.marked or not marked
        if hit is not None and not seq.fits(hit[0]):
            # "1.5倍…" opening a line is a quantity, not a misnumbered heading.
            if strict and not (flats and looks_like_quantity(line.text)):
                later = [
                    f[0]
                    for f, ln in zip(found[i + 1 :], lines[i + 1 :], strict=True)
                    if f and (ln.marked or not marked)
                ]
                raise NormParseError(seq.explain(hit[0], later), line.place)
            hit = None
        if hit is None:
            (flats[-1].body if flats else pre).append(line.text)
            continue
        marker, end = hit
        number, level = seq.push(marker)
        flats.append(_Flat(number, line.text[:end].strip(), level, line.text[end:].strip()))
    return pre, flats


def _document(
    lines: list[readers.Line],
    *,
    source_sha256: str,
    title_overrides: Mapping[str, str] | None,
) -> NormDocument:
    """Parse prepared lines; the layout decides how headings are recognized."""
    if any(line.marked and detect(line.text) for line in lines):
        pre, flats = _scan_lines(lines, marked=True)
    else:
        joined = "\n".join(line.text for line in lines)
        flats = []
        if len(lines) >= 3:
            pre, flats = _scan_lines(lines, marked=False)
        # One or two lines, or lines that never start with a number: the
        # numbering is inline, as in the norm HR issued.
        if not flats:
            pre, flats = _scan_inline(joined)
    if not flats:
        raise NormParseError(
            _("找不到可识别的章节编号，如 1、 1.1 一、 （一） 第一章 第一条"), lines[0].place
        )
    title, preamble = "", pre
    if pre and len(pre[0]) <= DOC_TITLE_MAX:
        title, preamble = pre[0], pre[1:]
    return NormDocument(
        title=title,
        sections=_tree(flats, title_overrides or {}),
        source_sha256=source_sha256,
        preamble="\n".join(preamble),
    )


def parse_text(
    text: str,
    *,
    source_sha256: str | None = None,
    title_overrides: Mapping[str, str] | None = None,
    where: str = "<text>",
) -> NormDocument:
    """Parse plain or Markdown text into a NormDocument."""
    if source_sha256 is None:
        source_sha256 = hashlib.sha256(text.encode("utf-8")).hexdigest()
    text = readers.normalize_whitespace(text)
    readers.check_text(text, where)
    raw = text.split("\n")
    markdown = readers.looks_like_markdown(raw)
    lines = []
    for n, line in enumerate(raw, 1):
        content, marked = readers.markdown_line(line) if markdown else (line, False)
        if content.strip():
            lines.append(readers.Line(content.strip(), where, n, marked))
    if not lines:
        raise NormParseError(_("没有正文内容"), readers.line_place(where, 1))
    return _document(lines, source_sha256=source_sha256, title_overrides=title_overrides)


def parse_bytes(
    data: bytes,
    *,
    filename: str = "<input>",
    title_overrides: Mapping[str, str] | None = None,
) -> NormDocument:
    """Parse .docx, UTF-8/GB18030 text or Markdown bytes, detected by content."""
    digest = hashlib.sha256(data).hexdigest()
    if not data:
        raise NormParseError(_("文件为空"), readers.byte_place(filename, 0))
    if readers.is_zip(data):
        lines = readers.docx_lines(data, filename)
        return _document(lines, source_sha256=digest, title_overrides=title_overrides)
    text = readers.decode(data, filename)
    return parse_text(text, source_sha256=digest, title_overrides=title_overrides, where=filename)


def parse_file(
    path: str | PathLike[str], *, title_overrides: Mapping[str, str] | None = None
) -> NormDocument:
    """Read and parse a norm file of any supported format."""
    path = Path(path)
    return parse_bytes(path.read_bytes(), filename=str(path), title_overrides=title_overrides)


def outline(doc: NormDocument) -> list[dict]:
    """Return number, title, level and hash of every section in document order."""
    return [
        {"number": s.number, "title": s.title, "level": s.level, "hash": s.hash} for s in doc.walk()
    ]
