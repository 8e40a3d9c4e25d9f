"""Render a planned lesson's body as Markdown that reads like a lesson.

Every clause keeps its number and gets an anchor ``s-<number>`` (heading
attr-list ``{#s-…}`` or an inline ``<a id="s-…"></a>``); no text of the norm is
dropped, only arranged into headings, paragraphs, lists and callouts.

The parser gives each section a title in one of two ways: taken out of the
text (a short first sentence, or an override that prefixes the text), or
derived as a label from the opening words while the body keeps all the text.
A taken title is norm text and is shown as such; a derived one is only a label.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from training.content import text as t
from training.norm.model import normalize_text

if TYPE_CHECKING:
    from training.content.lessons import Lesson
    from training.norm.model import Section

PARAGRAPH_CHARS = 120  # a long text is split into paragraphs at sentence ends past this
SHORT_TAIL_CHARS = 40  # a shorter last paragraph is merged into the one before
ITEM_CHARS = 160  # a leaf clause up to this long, without a list inside, is a list item
HEADING_LEAD_CHARS = 16  # a first sentence this short reads as the clause's title
ITEM_LEAD_CHARS = 30
LEAF_POINT_CHARS = 40  # key points of a lesson without sub-sections are its sentences, cut
INTRO_TITLE_CHARS = 10  # the intro names sub-sections when all titles are this short
MD_SPECIAL = "\\`*_{}[]>|"


def escape(text: str) -> str:
    """Escape characters Markdown would read as markup."""
    text = text.replace("<", "&lt;")
    return "".join("\\" + char if char in MD_SPECIAL else char for char in text)


def anchor(number: str) -> str:
    """Return the inline anchor for a clause."""
    return f'<a id="s-{number}"></a>'


def heading(level: int, number: str, title: str) -> str:
    """Return an ATX heading with the clause number and its anchor."""
    label = f"{number} {escape(title)}" if title else number
    return f"{'#' * min(level, 6)} {label} {{#s-{number}}}"


def title_is_text(section: Section) -> bool:
    """Return True if the title was taken out of the clause's text (not a derived label)."""
    stem = normalize_text(section.title.removesuffix("…"))
    return bool(stem) and not normalize_text(section.body).startswith(stem)


def clause_text(section: Section) -> str:
    """Return the clause's own text as the norm has it, its taken title included."""
    if not title_is_text(section):
        return t.clean(section.body)
    return t.clean(f"{_as_sentence(section.title)}{section.body}")


def _as_sentence(text: str) -> str:
    return text if text[-1:] in t.SENTENCE_ENDS else text + "。"


def render_lesson_body(lesson: Lesson) -> str:
    """Return the lesson's Markdown body (no front matter), ending in one newline."""
    section = lesson.section
    blocks = [heading(1, section.number, lesson.title)]
    for ancestor in lesson.intro_sections:
        label = f"{ancestor.number} {escape(ancestor.title)}".strip()
        blocks.append(f"{anchor(ancestor.number)}**{label}**")
        blocks.extend(_text_with_callout(ancestor.body, clause_text(ancestor)))
    body = _text_with_callout(section.body, clause_text(section)) if section.body else []
    if not body or body[0].startswith("- "):
        # No opening sentence of its own: say where the lesson sits instead.
        blocks.append(_generated_intro(lesson))
    blocks.extend(body)
    blocks.extend(_children_blocks(section.children, 2))
    blocks.append("## 要点")
    blocks.append(_key_points(section))
    return "\n\n".join(block for block in blocks if block) + "\n"


def _generated_intro(lesson: Lesson) -> str:
    section, chapter = lesson.section, lesson.chapter
    where = (
        f"第 {chapter.number} 章「{escape(chapter.title)}」中的" if section is not chapter else ""
    )
    children = section.children
    if children and all(
        title_is_text(child) and len(child.title) <= INTRO_TITLE_CHARS for child in children
    ):
        scope = ",包括" + "、".join(escape(child.title) for child in children)
    elif children:
        scope = f",共 {len(children)} 条"
    else:
        scope = ""
    return f"本课学习{where}「{escape(lesson.title)}」{scope}。"


def _text_blocks(body: str) -> list[str]:
    """Return paragraphs and lists for a clause's own text."""
    parts: list[list[str] | t.Enumeration] = []  # a paragraph is a list of sentences
    for sentence in t.sentences(body):
        found = t.enumeration(sentence)
        if found:
            parts.append(found)
        elif parts and isinstance(parts[-1], list) and _fits(parts[-1], sentence):
            parts[-1].append(sentence)
        else:
            parts.append([sentence])
    tail, before = (parts[-1], parts[-2]) if len(parts) > 1 else (None, None)
    if (
        isinstance(tail, list)
        and isinstance(before, list)
        and len("".join(tail)) < SHORT_TAIL_CHARS
    ):
        parts.pop()
        before.extend(tail)

    blocks = []
    for part in parts:
        if isinstance(part, list):
            blocks.append(_paragraph("".join(part)))
            continue
        if part.lead:
            blocks.append(_paragraph(part.lead))
        blocks.append("\n".join(f"- {escape(item)}" for item in part.items))
    return blocks


def _fits(paragraph: list[str], sentence: str) -> bool:
    return len("".join(paragraph)) + len(sentence) <= PARAGRAPH_CHARS


def _paragraph(text: str) -> str:
    text = escape(text)
    # A paragraph must not start like a list or heading.
    return "\\" + text if text[:1] in "-+#" else text


def _callout(text: str) -> list[str]:
    """Return a 标准用语 callout with the wording the text prescribes, if any."""
    phrases = t.prescribed_phrases(text)
    if not phrases:
        return []
    lines = ["> **标准用语**", ">"] + [f"> - {escape(phrase)}" for phrase in phrases]
    return ["\n".join(lines)]


def _text_with_callout(body: str, full_text: str) -> list[str]:
    """Return the body's blocks with the callout right after the last block quoting a phrase."""
    blocks = _text_blocks(body)
    callout = _callout(full_text)
    if callout:
        phrases = [escape(phrase) for phrase in t.prescribed_phrases(full_text)]
        at = max(
            (i + 1 for i, block in enumerate(blocks) if any(p in block for p in phrases)),
            default=0,
        )
        blocks[at:at] = callout
    return blocks


def _fits_item(section: Section) -> bool:
    """A leaf clause short enough and without a list inside is shown as a list item."""
    text = clause_text(section)
    return (
        not section.children
        and len(text) <= ITEM_CHARS
        and not any(t.enumeration(sentence) for sentence in t.sentences(text))
    )


def _children_blocks(children: tuple[Section, ...], level: int) -> list[str]:
    """Return a list of short leaf clauses, or one heading per clause.

    Siblings are all items or all headings: an item after a heading would read
    as part of that heading's section.
    """
    if not children:
        return []
    if all(_fits_item(child) for child in children):
        items = [_list_item(child) for child in children]
        # One nested callout makes the list loose; keep every item alike then.
        loose = any("\n" in item for item in items)
        return [("\n\n" if loose else "\n").join(items)]
    blocks: list[str] = []
    for child in children:
        if title_is_text(child):
            title, body = child.title, child.body
        else:
            lead, body = t.lead_sentence(child.body, HEADING_LEAD_CHARS)
            title = t.strip_end(lead) or child.title
        blocks.append(heading(level, child.number, title))
        blocks.extend(_text_with_callout(body, clause_text(child)))
        blocks.extend(_children_blocks(child.children, level + 1))
    return blocks


def _list_item(section: Section) -> str:
    if title_is_text(section) and section.body:
        lead, rest = _as_sentence(section.title), section.body
    elif title_is_text(section):
        lead, rest = "", _as_sentence(section.title)
    else:
        lead, rest = t.lead_sentence(section.body, ITEM_LEAD_CHARS)
    label = f"{section.number} {lead}".strip()
    # No space after a CJK full stop: "**2.2.1 …不满。**例如…".
    gap = "" if lead and lead[-1] in t.SENTENCE_ENDS else " "
    rest = f"{gap}{escape(t.clean(rest))}" if rest else ""
    item = f"- {anchor(section.number)}**{escape(label)}**{rest}"
    callout = _callout(clause_text(section))
    if callout:
        # The callout is a block nested in the list item.
        nested = "\n".join("    " + line for line in callout[0].splitlines())
        item = f"{item}\n\n{nested}"
    return item


def key_point(section: Section) -> str:
    """Return the one-line summary of a sub-section: its title or first short sentence."""
    return section.title if title_is_text(section) else t.short_point(section.body)


def _key_points(section: Section) -> str:
    if section.children:
        lines = [
            f"- [{child.number} {escape(key_point(child))}](#s-{child.number})"
            for child in section.children
        ]
    else:
        points: list[str] = []
        for sentence in t.sentences(section.body):
            found = t.enumeration(sentence)
            points.extend(found.items if found else [sentence])
        lines = [f"- {escape(t.short_point(point, LEAF_POINT_CHARS))}" for point in points]
    return "\n".join(lines)
