"""Read the structure inside a clause's text: sentences, enumerations, prescribed phrases.

Everything here is pure and works on the norm's plain text (no Markdown).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

OPENERS = "(([【《“‘「"
CLOSERS = ")〕]】》”’」"
SENTENCE_ENDS = "。!?!?"
COLONS = ":："
SEMICOLONS = ";;"
CLAUSE_MARKS = ",,;;、—"
LIST_LEADS = ("包括但不限于", "包括")
# Words right before a quote that mark it as wording to use, not a saying or a term.
PHRASE_CUE_RE = re.compile(r"(?:说|道声?|用语?|如)$")
PHRASE_NOT_CUE_RE = re.compile(r"(?:可以说|所谓|称为|叫做)$")
# Between two quotes of one cue: "“您好”、“您请坐”" or "“对不起”或“不好意思”".
PHRASE_JOINER_RE = re.compile(r"[、,,和或及\s]*$")
QUOTE_RE = re.compile(r"“[^“”]*”")


def clean(text: str) -> str:
    """Collapse runs of whitespace (the norm's line breaks carry no meaning)."""
    return " ".join(text.split())


# Chinese characters and the full-width punctuation around them: a line broken next to one of
# these was wrapped for the editor, and Chinese puts no space where it joins.
_CJK = "\u2e80-\u9fff\u3000-\u303f\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
_WRAP_RE = re.compile(r"[ \t]*\n[ \t]*")
_CJK_WRAP_RE = re.compile(rf"(?<=[{_CJK}])\n|\n(?=[{_CJK}])")


def unwrap(text: str) -> str:
    """Join the lines of a bank's wrapped text as a reader expects: without a space next to a
    Chinese character (a browser would show the line break as one), with one between Latin
    words. Paragraphs (an empty line) stay apart."""
    paragraphs = re.split(r"\n[ \t]*\n", text.strip())
    joined = []
    for paragraph in paragraphs:
        lines = _WRAP_RE.sub("\n", paragraph)
        joined.append(_CJK_WRAP_RE.sub("", lines).replace("\n", " "))
    return "\n\n".join(joined)


def top_level_positions(text: str, chars: str) -> list[int]:
    """Return indexes of ``chars`` that are outside brackets and quotes."""
    depth = 0
    found = []
    for index, char in enumerate(text):
        if char in OPENERS:
            depth += 1
        elif char in CLOSERS:
            depth = max(depth - 1, 0)
        elif depth == 0 and char in chars:
            found.append(index)
    return found


def split_top_level(text: str, chars: str) -> list[str]:
    """Split at top-level separators, dropping them."""
    pieces, start = [], 0
    for index in top_level_positions(text, chars):
        pieces.append(text[start:index])
        start = index + 1
    pieces.append(text[start:])
    return pieces


def sentences(text: str) -> list[str]:
    """Split text into sentences, each keeping its end mark and any closer after it."""
    text = clean(text)
    result, start = [], 0
    ends = set(top_level_positions(text, SENTENCE_ENDS))
    index = 0
    while index < len(text):
        if index in ends:
            end = index + 1
            while end < len(text) and (text[end] in SENTENCE_ENDS or text[end] in CLOSERS):
                end += 1
            result.append(text[start:end].strip())
            start = index = end
            continue
        index += 1
    if text[start:].strip():
        result.append(text[start:].strip())
    return [sentence for sentence in result if sentence]


def strip_end(sentence: str) -> str:
    """Drop the sentence's end mark(s)."""
    return sentence.rstrip(SENTENCE_ENDS + SEMICOLONS + "," + ",").rstrip()


@dataclass(frozen=True)
class Enumeration:
    """A sentence that lists items: optional lead-in (ending in a colon) and the items."""

    lead: str
    items: tuple[str, ...]


def enumeration(sentence: str) -> Enumeration | None:
    """Return the sentence as a list if it enumerates items, else None.

    Two shapes count: three or more parts separated by ;/; (a colon before the
    first one ends the lead-in), and three or more short parts separated by 、
    after a lead-in ending in a colon or 包括(但不限于).
    """
    body = strip_end(sentence)
    if len(top_level_positions(body, SEMICOLONS)) >= 2:
        lead, rest = _colon_lead(body)
        items = [item.strip() for item in split_top_level(rest, SEMICOLONS)]
        if all(items):
            return Enumeration(lead, tuple(items))
    lead, rest = _colon_lead(body)
    if not lead:
        lead, rest = _keyword_lead(body)
    if lead and not top_level_positions(rest, ",,;;"):
        items = [item.strip() for item in split_top_level(rest, "、")]
        if len(items) >= 3 and all(items) and max(map(len, items)) <= 40:
            return Enumeration(lead, tuple(items))
    return None


def _colon_lead(body: str) -> tuple[str, str]:
    colons = top_level_positions(body, COLONS)
    if colons:
        return body[: colons[0] + 1].strip(), body[colons[0] + 1 :].strip()
    return "", body


def _keyword_lead(body: str) -> tuple[str, str]:
    for keyword in LIST_LEADS:
        at = body.find(keyword)
        if at > 0 and at in _top_level_range(body):
            end = at + len(keyword)
            return body[:end] + ":", body[end:].strip()
    return "", body


def _top_level_range(text: str) -> set[int]:
    depth, inside = 0, set()
    for index, char in enumerate(text):
        if char in OPENERS:
            depth += 1
        elif char in CLOSERS:
            depth = max(depth - 1, 0)
        elif depth == 0:
            inside.add(index)
    return inside


def prescribed_phrases(text: str) -> list[str]:
    """Return the quoted wording a clause prescribes, with its “” and in order.

    A quote counts when the words before it cue speech (应说, 开头语一般用, 道声,
    如 …), or when it follows such a quote joined only by 、/或. Quotes that name a
    term or a saying (“服务”就是…, 可以说“…”) do not count.
    """
    text = clean(text)
    phrases: list[str] = []
    previous_end, previous_counted = 0, False
    for match in QUOTE_RE.finditer(text):
        before = text[previous_end : match.start()]
        if previous_counted and PHRASE_JOINER_RE.fullmatch(before):
            counted = True
        else:
            lead = before.rstrip()
            counted = bool(PHRASE_CUE_RE.search(lead)) and not PHRASE_NOT_CUE_RE.search(lead)
        if counted and match.group() not in phrases:
            phrases.append(match.group())
        previous_end, previous_counted = match.end(), counted
    return phrases


def lead_sentence(text: str, limit: int) -> tuple[str, str]:
    """Split off a short first sentence that works as a title ("真诚沟通。")."""
    parts = sentences(text)
    if len(parts) > 1 and len(strip_end(parts[0])) <= limit:
        return parts[0], clean(text)[len(parts[0]) :].strip()
    return "", clean(text)


def short_point(text: str, limit: int = 30) -> str:
    """Return the start of the first sentence as a one-line point of about ``limit`` characters.

    Whole clauses are kept while they fit; a short lead-in before a colon
    ("通俗解释:") is dropped; a first clause longer than the limit is cut with "…".
    """
    parts = sentences(text)
    if not parts:
        return ""
    first = strip_end(parts[0])
    lead, rest = _colon_lead(first)
    if lead and rest and len(lead) <= 8:
        first = rest
    if len(first) <= limit:
        return first
    clauses = _clauses(first)
    point = clauses[0]
    for clause in clauses[1:]:
        if len(point) + len(clause) > limit:
            break
        point += clause
    point = point.rstrip(CLAUSE_MARKS)
    return point if len(point) <= limit else point[: limit - 1] + "…"


def _clauses(sentence: str) -> list[str]:
    """Split at top-level clause marks, each clause keeping its mark."""
    breaks = [i + 1 for i in top_level_positions(sentence, ",,;;")]
    breaks += [
        m.start() for m in re.finditer("——", sentence) if m.start() in _top_level_range(sentence)
    ]
    cuts = sorted({0, *breaks, len(sentence)})
    return [sentence[a:b] for a, b in zip(cuts, cuts[1:], strict=False) if sentence[a:b]]
