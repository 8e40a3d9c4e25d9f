"""Render a planned lesson's body as Markdown that reads like a lesson.

Every clause keeps its number and gets an anchor ``s-<number>`` (heading
attr-list ``{#s-…}`` or an inline ``<a id="s-…"></a>``); no text of the norm is
dropped, only arranged into headings, paragraphs, lists and callouts.

The parser gives each section a title in one of two ways: taken out of the
text (a short first sentence, or an override that prefixes the text), or
derived as a label from the opening words while the body keeps all the text.
A taken title is norm text and is shown as such; a derived one is only a label.

A lesson opens with its 本课要点 box: the hand-written points of ``content/summaries.yaml``
(``training.content.summaries``), each linking to the clauses it summarises. With ``marks``
(a revision's changed clauses and their old text) the same lesson is rendered with each of
those clauses marked: a 本次修订 badge and its text with ``<del>``/``<ins>`` runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from training.content import text as t
from training.norm.marks import mark_changes
from training.norm.model import normalize_text

if TYPE_CHECKING:
    from training.content.lessons import Lesson
    from training.content.summaries import KeyPoint
    from training.norm.model import Section

# Clauses to show marked against their previous version: new number -> the old clause
# (None for a clause the revision added).
Marks = Mapping[str, "Section | None"]
KEY_POINTS_ID = "key-points"
REMOVED_ID = "revision-removed"
REVISION_BADGE = '<span class="revision-badge">本次修订</span>'

PARAGRAPH_CHARS = 120  # a long text is split into paragraphs at sentence ends past this
SHORT_TAIL_CHARS = 40  # a shorter last paragraph is merged into the one before
ITEM_CHARS = 160  # a leaf clause up to this long, without a list inside, is a list item
HEADING_LEAD_CHARS = 16  # a first sentence this short reads as the clause's title
ITEM_LEAD_CHARS = 30
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


def render_lesson_body(
    lesson: Lesson,
    points: tuple[KeyPoint, ...] | None = None,
    marks: Marks | None = None,
    removed: Sequence[Section] = (),
) -> str:
    """Return the lesson's Markdown body (no front matter), ending in one newline.

    ``points`` are the lesson's hand-written 要点, shown in a box before the clause text;
    ``marks`` the clauses to show with their changes against the previous version, and
    ``removed`` the old clauses the revision deleted from the lesson, listed at its end.
    """
    marks = marks or {}
    section = lesson.section
    blocks = [heading(1, section.number, lesson.title)]
    if points:
        blocks.append(_key_points_box(lesson, points))
    for ancestor in lesson.intro_sections:
        label = f"{ancestor.number} {escape(ancestor.title)}".strip()
        blocks.append(f"{anchor(ancestor.number)}**{label}**")
        blocks.extend(_clause_blocks(ancestor, ancestor.body, marks))
    body = _clause_blocks(section, section.body, marks) if section.body else []
    if not body or body[0].startswith("- "):
        # No opening sentence of its own: say where the lesson sits instead.
        blocks.append(_generated_intro(lesson))
    blocks.extend(body)
    blocks.extend(_children_blocks(section.children, 2, marks))
    if removed:
        blocks.append(_removed_block(removed))
    return "\n\n".join(block for block in blocks if block) + "\n"


def _removed_block(removed: Sequence[Section]) -> str:
    """Return the list of clauses the revision deleted, their old text struck through."""
    items = [
        f"- **{section.number}** {REVISION_BADGE} {_marks(clause_text(section), '')}"
        for section in removed
    ]
    return "\n".join(
        [
            f'<section class="revision-removed" aria-labelledby="{REMOVED_ID}" markdown="1">',
            "",
            f"## 本次删除的条款 {{#{REMOVED_ID}}}",
            "",
            "以下条款已从规范中删除，不再适用（编号为旧版本的编号）：",
            "",
            *items,
            "",
            "</section>",
        ]
    )


def _key_points_box(lesson: Lesson, points: tuple[KeyPoint, ...]) -> str:
    """Return the 本课要点 box: one item per point, linking to the clauses it summarises.

    A point citing a clause whose text changed since the point was reviewed is not shown;
    a note sends the reader to the clause instead.
    """
    hashes = {s.number: s.hash for s in lesson.covered}
    single = len(lesson.covered) == 1
    items = []
    for point in points:
        links = "、".join(f"[{n}](#s-{n})" for n in point.clauses)
        stale = point.stale_clauses(hashes)
        if stale:
            named = "、".join(stale)
            items.append(
                f"- 第 {named} 条已修订，这条要点正待编辑复核，请以下方条文为准（{links}）。"
            )
        elif single:
            items.append(f"- {escape(point.text)}")
        else:
            items.append(f"- {escape(point.text)}（{links}）")
    return "\n".join(
        [
            f'<section class="key-points" aria-labelledby="{KEY_POINTS_ID}" markdown="1">',
            "",
            f"## 本课要点 {{#{KEY_POINTS_ID}}}",
            "",
            *items,
            "",
            "</section>",
        ]
    )


def _marked_text(section: Section, old: Section | None, *, whole: bool = True) -> str:
    """Return the clause's text with its changes as <del>/<ins>, after a 本次修订 badge.

    ``whole``: the clause's full text, as a list item shows it; otherwise its body, as
    shown under a heading that carries the title (a changed title is marked first). Each
    mark also says in words what it is (新增/删除) to screen readers.
    """
    parts = [REVISION_BADGE, " "]
    if whole:
        parts.append(_marks(clause_text(old) if old else "", clause_text(section)))
        return "".join(parts)
    old_title = old.title if old else ""
    if title_is_text(section) and normalize_text(old_title) != normalize_text(section.title):
        parts.append(f"标题：{_marks(old_title, section.title)}。")
    parts.append(_marks(t.clean(old.body) if old else "", t.clean(section.body)))
    return "".join(parts)


def _marks(old_text: str, new_text: str) -> str:
    parts = []
    for segment in mark_changes(old_text, new_text):
        text = escape(segment.text)
        if segment.op == "insert":
            parts.append(f'<ins><span class="visually-hidden">新增：</span>{text}</ins>')
        elif segment.op == "delete":
            parts.append(f'<del><span class="visually-hidden">删除：</span>{text}</del>')
        else:
            parts.append(text)
    return "".join(parts)


def _clause_blocks(section: Section, body: str, marks: Marks) -> list[str]:
    """Return a clause's text blocks: marked against its old text when it is in ``marks``."""
    if section.number not in marks:
        return _text_with_callout(body, clause_text(section))
    marked = _marked_text(section, marks[section.number], whole=False)
    return [marked, *_callout(clause_text(section))]


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


def _children_blocks(
    children: tuple[Section, ...], level: int, marks: Marks | None = None
) -> list[str]:
    """Return a list of short leaf clauses, or one heading per clause.

    Siblings are all items or all headings: an item after a heading would read
    as part of that heading's section.
    """
    if not children:
        return []
    marks = marks or {}
    if all(_fits_item(child) for child in children):
        items = [_list_item(child, marks) for child in children]
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
        blocks.extend(_clause_blocks(child, body, marks))
        blocks.extend(_children_blocks(child.children, level + 1, marks))
    return blocks


def _list_item(section: Section, marks: Marks | None = None) -> str:
    if marks and section.number in marks:
        item = (
            f"- {anchor(section.number)}**{section.number}** "
            f"{_marked_text(section, marks[section.number])}"
        )
        return _with_nested_callout(item, section)
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
    return _with_nested_callout(item, section)


def _with_nested_callout(item: str, section: Section) -> str:
    callout = _callout(clause_text(section))
    if callout:
        # The callout is a block nested in the list item.
        nested = "\n".join("    " + line for line in callout[0].splitlines())
        item = f"{item}\n\n{nested}"
    return item
