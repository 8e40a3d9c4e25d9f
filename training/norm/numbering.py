"""Section numbering styles and the rule deciding which number may come next.

A number only counts as a heading where it continues the sequence: the first
child of the current section, the next sibling, or the next sibling of an
ancestor. ``Sequencer`` tracks the open sections and answers that question.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import Enum

from flask_babel import gettext as _

_CN_DIGITS = "零一二三四五六七八九"
CN_CHARS = "零〇一二三四五六七八九十百两"


def to_chinese(n: int) -> str:
    """Return the Chinese numeral for 1 <= n <= 999 (十一, 二十三, 一百零五)."""
    if not 0 < n < 1000:
        raise ValueError(f"cannot write {n} as a Chinese ordinal")
    hundreds, rest = divmod(n, 100)
    tens, units = divmod(rest, 10)
    out = ""
    if hundreds:
        out += _CN_DIGITS[hundreds] + "百"
    if tens:
        # "十一" not "一十一" on its own; after hundreds the 一 is written.
        out += ("" if tens == 1 and not hundreds else _CN_DIGITS[tens]) + "十"
    elif hundreds and units:
        out += "零"
    if units:
        out += _CN_DIGITS[units]
    return out


def from_chinese(text: str) -> int | None:
    """Return the value of a Chinese numeral, or None if it is not one."""
    total = current = 0
    for ch in text.replace("〇", "零").replace("两", "二"):
        if ch in _CN_DIGITS:
            current = _CN_DIGITS.index(ch)
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch == "百":
            total += (current or 1) * 100
            current = 0
        else:
            return None
    total += current
    return total or None


class Style(Enum):
    """A numbering style, named by how its first marker is written."""

    CHAPTER = "第一章"
    SECTION = "第一节"
    ARTICLE = "第一条"
    CN = "一、"
    PAREN_CN = "(一)"
    ARABIC = "1、"
    DOTTED = "1.1"
    PAREN_AR = "(1)"
    CIRCLED = "①"


# A new (child) style must rank below the current section's style; this keeps
# e.g. "第一章" inside a "(1)" item from being read as a heading.
_RANK = {
    Style.CHAPTER: 0,
    Style.SECTION: 1,
    Style.ARTICLE: 2,
    Style.CN: 3,
    Style.PAREN_CN: 4,
    Style.ARABIC: 5,
    Style.DOTTED: 5,
    Style.PAREN_AR: 6,
    Style.CIRCLED: 7,
}
# DOTTED is never started fresh: "1.1" only extends an arabic "1、" or "1.1".
_NEW_STYLES = tuple(s for s in Style if s is not Style.DOTTED)
_KIND_CHAR = {Style.CHAPTER: "章", Style.SECTION: "节", Style.ARTICLE: "条"}


@dataclass(frozen=True)
class Marker:
    """A section marker: its style and ordinal path.

    ``path`` is the full dotted path for DOTTED ("4.2.1" -> (4, 2, 1)) and a
    one-element tuple otherwise. ``sep`` is the separator written after an
    arabic number ("、" or "."); None in a candidate means "any".
    """

    style: Style
    path: tuple[int, ...]
    sep: str | None = None

    @property
    def ordinal(self) -> int:
        """The number of this marker among its siblings."""
        return self.path[-1]

    def display(self) -> str:
        """Return the marker written out, for messages."""
        n = self.ordinal
        match self.style:
            case Style.DOTTED:
                return ".".join(map(str, self.path))
            case Style.ARABIC:
                return f"{n}{self.sep or '、'}"
            case Style.CN:
                return f"{to_chinese(n)}、"
            case Style.PAREN_CN:
                return f"({to_chinese(n)})"
            case Style.PAREN_AR:
                return f"({n})"
            case Style.CIRCLED:
                return chr(0x245F + n) if n <= 20 else f"({n})"
            case _:
                return f"第{to_chinese(n)}{_KIND_CHAR[self.style]}"

    def matches(self, other: Marker) -> bool:
        """True if both name the same number (a None separator matches any)."""
        return (
            self.style is other.style
            and self.path == other.path
            and (self.sep is None or other.sep is None or self.sep == other.sep)
        )


_ARABIC_SEPS = "、.．"
_DETECT = re.compile(
    rf"""
    第(?P<kn>[{CN_CHARS}]+|\d+)(?P<kind>[章节条])
    | (?P<dotted>\d+(?:[.．]\d+)+)(?!\d)(?:[、.．](?!\d))?
    | (?P<arabic>\d+)(?P<asep>[{_ARABIC_SEPS}])(?!\d)
    | (?P<cn>[{CN_CHARS}]+)[、.．](?!\d)
    | [(（](?P<pcn>[{CN_CHARS}]+)[)）]
    | [(（](?P<par>\d+)[)）]
    | (?P<circ>[\u2460-\u2473])
    """,
    re.VERBOSE,
)


def detect(text: str) -> tuple[Marker, int] | None:
    """Return the marker at the very start of text and where it ends, if any."""
    m = _DETECT.match(text)
    if not m:
        return None
    g = m.groupdict()
    if g["kind"]:
        style = {"章": Style.CHAPTER, "节": Style.SECTION, "条": Style.ARTICLE}[g["kind"]]
        n = int(g["kn"]) if g["kn"].isdigit() else from_chinese(g["kn"])
        marker = Marker(style, (n,)) if n else None
    elif g["dotted"]:
        marker = Marker(Style.DOTTED, tuple(int(p) for p in re.split("[.．]", g["dotted"])))
    elif g["arabic"]:
        marker = Marker(Style.ARABIC, (int(g["arabic"]),), g["asep"])
    elif g["cn"] or g["pcn"]:
        n = from_chinese(g["cn"] or g["pcn"])
        marker = Marker(Style.CN if g["cn"] else Style.PAREN_CN, (n,)) if n else None
    elif g["par"]:
        marker = Marker(Style.PAREN_AR, (int(g["par"]),))
    else:
        marker = Marker(Style.CIRCLED, (ord(g["circ"]) - 0x245F,))
    if marker is None or 0 in marker.path:
        return None
    return marker, m.end()


_QUANTITY = re.compile(
    r"\d+[.．]\d+\s*(?:倍|%|％|‰|元|万|亿|次|天|小时|个|分钟|秒|米|吨|公斤|千克|克|年|月|日|岁)"
)


def looks_like_quantity(text: str) -> bool:
    """True if text starts with a decimal quantity such as "1.5倍" or "2.5小时"."""
    return _QUANTITY.match(text) is not None


# One fixed pattern per style finds a marker of that style with any number; a candidate
# matches where its style's pattern does and the number written is the candidate's own.
# Each pattern mirrors the guards a single candidate needs (not inside a longer number, not
# after a numeral or 第), and its number group can only take the whole run of digits or
# numerals there, so comparing that run with the candidate's number as written decides
# exactly where the candidate alone would match, and the match ends at the same place.
_STYLE_PATTERNS = {
    # Guards: not part of a longer number or a decimal like "1.1.5".
    Style.DOTTED: r"(?<![\d.．])(?P<dotted>\d+(?:[.．]\d+)+)(?!\d)(?![.．]\d)(?:[、.．](?!\d))?",
    Style.ARABIC: rf"(?<![\d.．])(?P<arabic>\d+)(?P<asep>[{_ARABIC_SEPS}])(?!\d)",
    Style.CN: rf"(?<![{CN_CHARS}第])(?P<cn>[{CN_CHARS}]+)[、.．](?!\d)",
    Style.PAREN_CN: rf"[(（](?P<pcn>[{CN_CHARS}]+)[)）]",
    Style.PAREN_AR: r"[(（](?P<par>\d+)[)）]",
    Style.CIRCLED: r"(?P<circ>[\u2460-\u2473])",
    # CHAPTER, SECTION and ARTICLE share one pattern; the kind character tells them apart.
    Style.CHAPTER: rf"第(?P<kn>[{CN_CHARS}]+|\d+)(?P<kind>[章节条])",
}
_POINTS = re.compile("[.．]")
_STYLE_REGEX = {style: re.compile(p) for style, p in _STYLE_PATTERNS.items()}
for _style in (Style.SECTION, Style.ARTICLE):
    _STYLE_REGEX[_style] = _STYLE_REGEX[Style.CHAPTER]
# Every place where a marker of any style starts (zero width, so overlapping starts are all
# visited): the only places search() has to look at.
_ANY_START = re.compile("(?=" + "|".join(_STYLE_PATTERNS.values()) + ")")


def _written(c: Marker) -> tuple[str, ...] | None:
    """What must be written at a place for candidate c to match there, by style.

    DOTTED: the numbers of the path; ARABIC: the number and, when fixed, its separator;
    chapter-like styles: the kind character and both ways of writing the number; the other
    styles: the number as written. None for a candidate that can never match.
    """
    n = c.ordinal
    match c.style:
        case Style.DOTTED:
            return tuple(map(str, c.path))
        case Style.ARABIC:
            return (str(n), c.sep) if c.sep else (str(n),)
        case Style.CN | Style.PAREN_CN:
            return (to_chinese(n),)
        case Style.PAREN_AR:
            return (str(n),)
        case Style.CIRCLED:
            return (chr(0x245F + n),) if n <= 20 else None
        case _:
            return (_KIND_CHAR[c.style], to_chinese(n), str(n))


def _matches_at(c: Marker, written: tuple[str, ...], m: re.Match[str]) -> bool:
    """True if candidate c (written as ``written``) matches where m, its style's match, is."""
    match c.style:
        case Style.DOTTED:
            return tuple(_POINTS.split(m["dotted"])) == written
        case Style.ARABIC:
            return m["arabic"] == written[0] and (len(written) == 1 or m["asep"] == written[1])
        case Style.CN:
            return m["cn"] == written[0]
        case Style.PAREN_CN:
            return m["pcn"] == written[0]
        case Style.PAREN_AR:
            return m["par"] == written[0]
        case Style.CIRCLED:
            return m["circ"] == written[0]
        case _:
            return m["kind"] == written[0] and m["kn"] in written[1:]


def search(text: str, pos: int, cands: Sequence[Marker]) -> tuple[Marker, int, int] | None:
    """Find the earliest candidate in text[pos:]; return (marker, start, end).

    Where several candidates match at the earliest place, the first of them in ``cands``
    wins. No pattern is compiled here: the places where any marker starts are found with
    one fixed pattern, and at each the candidates are checked in order against their
    style's fixed pattern.
    """
    if not cands:
        raise ValueError("search needs at least one candidate")
    wanted = [(c, w) for c in cands if (w := _written(c)) is not None]
    if not wanted:
        return None
    for start in _ANY_START.finditer(text, pos):
        at = start.start()
        seen: dict[Style, re.Match[str] | None] = {}
        for cand, written in wanted:
            if cand.style not in seen:
                seen[cand.style] = _STYLE_REGEX[cand.style].match(text, at)
            m = seen[cand.style]
            if m is not None and _matches_at(cand, written, m):
                if cand.style is Style.ARABIC:
                    cand = replace(cand, sep=m["asep"])
                return cand, at, m.end()
    return None


def _arabic_path(m: Marker) -> tuple[int, ...] | None:
    return m.path if m.style in (Style.ARABIC, Style.DOTTED) else None


def _same_level(a: Marker, b: Marker) -> bool:
    if a.style is not b.style:
        return False
    return a.style is not Style.DOTTED or (
        len(a.path) == len(b.path) and a.path[:-1] == b.path[:-1]
    )


class Sequencer:
    """The open sections (a stack of markers) and what may legally come next."""

    def __init__(self, *, lock_separators: bool = False):
        # Inline text has no layout to confirm a heading, so there the arabic
        # separator of a level ("1、") must stay the same for its siblings.
        self.lock_separators = lock_separators
        self.stack: list[Marker] = []
        self.seen: set[str] = set()
        self.last_article = 0

    def _first_child_of(self, style: Style) -> Marker:
        if style is Style.ARTICLE:
            # Articles run on across chapters in Chinese regulations.
            return Marker(style, (self.last_article + 1,))
        return Marker(style, (1,))

    def candidates(self) -> list[Marker]:
        """Every marker that would continue the sequence here."""
        out: list[Marker] = []
        top = self.stack[-1] if self.stack else None
        if top is not None and (path := _arabic_path(top)) is not None:
            out.append(Marker(Style.DOTTED, (*path, 1)))
        used = {f.style for f in self.stack}
        floor = _RANK[top.style] if top else -1
        for style in _NEW_STYLES:
            if style not in used and _RANK[style] > floor:
                out.append(self._first_child_of(style))
        for f in reversed(self.stack):
            if f.style is Style.ARTICLE:
                out.append(Marker(f.style, (self.last_article + 1,)))
            else:
                sep = f.sep if self.lock_separators else None
                out.append(Marker(f.style, (*f.path[:-1], f.ordinal + 1), sep))
        return list(dict.fromkeys(out))

    def fits(self, marker: Marker) -> bool:
        """True if marker continues the sequence."""
        return any(c.matches(marker) for c in self.candidates())

    def _number_for(self, marker: Marker) -> tuple[int, str]:
        """Stack depth marker would sit at, and its canonical number."""
        depth = len(self.stack)
        for i in range(len(self.stack) - 1, -1, -1):
            if _same_level(self.stack[i], marker):
                depth = i
                break
        parts = [str(f.ordinal) for f in self.stack[:depth]] + [str(marker.ordinal)]
        return depth, ".".join(parts)

    def push(self, marker: Marker) -> tuple[str, int]:
        """Open a section for a marker that fits; return (number, level)."""
        depth, number = self._number_for(marker)
        del self.stack[depth:]
        self.stack.append(marker)
        if marker.style is Style.ARTICLE:
            self.last_article = marker.ordinal
        self.seen.add(number)
        return number, len(self.stack)

    def explain(self, marker: Marker, later: Sequence[Marker]) -> str:
        """Say why a heading-looking marker does not continue the sequence."""
        label = marker.display()
        number = self._number_for(marker)[1]
        sibling = next((f for f in reversed(self.stack) if _same_level(f, marker)), None)
        if sibling is not None:
            if number in self.seen or marker.ordinal == sibling.ordinal:
                return _("编号重复：%(label)s 已经出现过", label=label)
            if marker.ordinal < sibling.ordinal:
                return _(
                    "编号顺序错误：%(label)s 出现在 %(previous)s 之后",
                    label=label,
                    previous=sibling.display(),
                )
            expected = Marker(marker.style, (*marker.path[:-1], sibling.ordinal + 1), sibling.sep)
            if marker.style is Style.ARTICLE:
                expected = Marker(marker.style, (self.last_article + 1,))
        else:
            top = self.stack[-1] if self.stack else None
            if marker.style is Style.DOTTED:
                parent_ok = top is not None and _arabic_path(top) == marker.path[:-1]
            else:
                used = {f.style for f in self.stack}
                parent_ok = marker.style not in used and (
                    top is None or _RANK[marker.style] > _RANK[top.style]
                )
            if not parent_ok:
                options = " / ".join(c.display() for c in self.candidates())
                return _(
                    "编号 %(label)s 不接续前文，此处应为 %(options)s 之一",
                    label=label,
                    options=options,
                )
            expected = (
                Marker(Style.DOTTED, (*marker.path[:-1], 1))
                if marker.style is Style.DOTTED
                else self._first_child_of(marker.style)
            )
        if any(expected.matches(m) for m in later):
            return _(
                "编号顺序错误：%(label)s 出现在 %(expected)s 之前",
                label=label,
                expected=expected.display(),
            )
        return _(
            "编号不连续：缺少 %(expected)s，却出现了 %(label)s",
            expected=expected.display(),
            label=label,
        )
