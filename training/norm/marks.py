"""Mark what changed inside a clause: character-level runs, merged to be readable."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Literal

from markupsafe import Markup

# Equal runs shorter than this between two edits are folded into them (no confetti).
MIN_EQUAL_RUN = 3


@dataclass(frozen=True)
class Segment:
    """A run of text that is equal in both versions, or only in the old or the new one."""

    op: Literal["equal", "insert", "delete"]
    text: str


def _tokens(text: str) -> tuple[list[str], list[str]]:
    """Return (comparison keys, shown text) per character; whitespace rides along.

    Keys are NFKC-folded like ``normalize_text`` so spacing and full-width
    variants are not edits, while the shown text keeps the original characters.
    """
    keys: list[str] = []
    shown: list[str] = []
    lead = ""
    for ch in text:
        key = "".join(unicodedata.normalize("NFKC", ch).split())
        if not key:
            if shown:
                shown[-1] += ch
            else:
                lead += ch
            continue
        keys.append(key)
        shown.append(lead + ch)
        lead = ""
    return keys, shown


def mark_changes(old_text: str, new_text: str, *, min_equal: int = MIN_EQUAL_RUN) -> list[Segment]:
    """Return the new text as equal/delete/insert runs against the old text.

    Matching is per character; an equal run shorter than ``min_equal`` between
    two edits joins them, and each edit shows its deletion before its insertion.
    """
    old_keys, old_shown = _tokens(old_text)
    new_keys, new_shown = _tokens(new_text)
    matcher = SequenceMatcher(None, old_keys, new_keys, autojunk=False)
    # Blocks: [is_edit, old text, new text, length of an equal run].
    blocks: list[list] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        old, new = "".join(old_shown[i1:i2]), "".join(new_shown[j1:j2])
        blocks.append([tag != "equal", old, new, i2 - i1])
    for i in range(1, len(blocks) - 1):
        if not blocks[i][0] and blocks[i][3] < min_equal and blocks[i - 1][0] and blocks[i + 1][0]:
            blocks[i][0] = True
    merged: list[list] = []
    for block in blocks:
        if merged and block[0] and merged[-1][0]:
            merged[-1][1] += block[1]
            merged[-1][2] += block[2]
        else:
            merged.append(block)
    segments: list[Segment] = []
    for is_edit, old, new, _ in merged:
        if not is_edit:
            segments.append(Segment("equal", new))
            continue
        if old:
            segments.append(Segment("delete", old))
        if new:
            segments.append(Segment("insert", new))
    return segments


def render_html(segments: list[Segment]) -> Markup:
    """Return the segments as escaped HTML with ``<del>`` and ``<ins>`` around edits."""
    parts = []
    for segment in segments:
        if segment.op == "insert":
            parts.append(Markup("<ins>{}</ins>").format(segment.text))
        elif segment.op == "delete":
            parts.append(Markup("<del>{}</del>").format(segment.text))
        else:
            parts.append(Markup.escape(segment.text))
    return Markup("").join(parts)


def render_plain(segments: list[Segment], *, context: int | None = None) -> str:
    """Return the segments as text with ``[-deleted-]`` and ``{+inserted+}`` marks.

    With ``context``, long unchanged runs keep that many characters next to
    each edit and show "…" for the rest.
    """
    out = []
    last = len(segments) - 1
    for i, segment in enumerate(segments):
        text = segment.text
        if segment.op == "insert":
            out.append(f"{{+{text}+}}")
        elif segment.op == "delete":
            out.append(f"[-{text}-]")
        elif context is not None and last > 0:
            head = text[:context] if i > 0 else ""
            tail = text[-context:] if i < last and context else ""
            if len(head) + len(tail) < len(text):
                text = f"{head}…{tail}"
            out.append(text)
        else:
            out.append(text)
    return "".join(out)
