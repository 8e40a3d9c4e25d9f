"""Render lesson Markdown to HTML for the web app.

Lessons are our own generated content: the only raw HTML in them is the
clause anchors (``<a id="s-4.2.1.2"></a>``), so the output is not sanitised
and must not be used for user input.
"""

from __future__ import annotations

import re
from pathlib import Path

import frontmatter
import markdown
from markdown.extensions import Extension
from markdown.extensions.toc import slugify_unicode
from markdown.preprocessors import Preprocessor

# Characters between which a line break is not a space: Han ideographs, kana,
# CJK and full-width punctuation. Hangul is left out because Korean uses spaces.
CJK = (
    "\u2e80-\u2fdf"  # radicals
    "\u3000-\u303f"  # CJK symbols and punctuation
    "\u3040-\u30ff"  # hiragana, katakana
    "\u3400-\u4dbf"  # extension A
    "\u4e00-\u9fff"  # unified ideographs
    "\uf900-\ufaff"  # compatibility ideographs
    "\uff00-\uffef"  # full-width forms
    "\u201c\u201d\u2018\u2019\u2026"  # “ ” ‘ ’ … as used in Chinese text
)
# ASCII punctuation right after a CJK character still ends a CJK line ("态度,").
ENDS_CJK_RE = re.compile(f"[{CJK}][,.;:!?)]*$")
STARTS_CJK_RE = re.compile(f"^\\s*[{CJK}]")
FENCE_RE = re.compile(r"^\s*(```|~~~)")
HEADING_RE = re.compile(r"^\s{0,3}#")


class JoinCJKLinesPreprocessor(Preprocessor):
    """Remove a line break between two CJK characters inside a paragraph.

    Markdown turns a soft line break into whitespace, which shows as a stray
    space in Chinese text ("服务 规范"). Lines are joined only when the first
    ends and the next begins with a CJK character, so Latin words keep their
    space and list items, headings and blank lines are untouched.
    """

    def run(self, lines: list[str]) -> list[str]:
        result: list[str] = []
        in_fence = False
        for line in lines:
            if FENCE_RE.match(line):
                in_fence = not in_fence
            elif (
                not in_fence
                and result
                and ENDS_CJK_RE.search(result[-1])
                and not HEADING_RE.match(result[-1])
                and STARTS_CJK_RE.match(line)
            ):
                result[-1] += line.lstrip()
                continue
            result.append(line)
        return result


class JoinCJKLinesExtension(Extension):
    """Register :class:`JoinCJKLinesPreprocessor` before block parsing."""

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        # After whitespace normalisation (30), before raw HTML blocks are stashed (20).
        md.preprocessors.register(JoinCJKLinesPreprocessor(md), "join_cjk_lines", 25)


def _markdown() -> markdown.Markdown:
    return markdown.Markdown(
        extensions=["extra", "toc", JoinCJKLinesExtension()],
        extension_configs={"toc": {"slugify": slugify_unicode, "permalink": False}},
        output_format="html",
    )


def render_lesson_html(markdown_text: str) -> str:
    """Render a lesson body (no front matter) to HTML, keeping the ``s-…`` anchors."""
    return _markdown().convert(markdown_text)


def load_lesson_file(path: Path) -> tuple[dict, str]:
    """Read a lesson file and return its front matter and Markdown body."""
    post = frontmatter.loads(Path(path).read_text(encoding="utf-8"))
    return dict(post.metadata), post.content
