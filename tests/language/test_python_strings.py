"""Every Chinese string in the package's Python is a message (through gettext) or is known
content: a new UI string written as a bare literal would show Chinese on an English page."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "training"
CJK = re.compile(r"[\u4e00-\u9fff]")
# Calls whose first arguments are messages (gettext's names and ours; see babel.cfg).
MARKERS = {"_", "gettext", "ngettext", "lazy_gettext", "_l", "N_", "pgettext"}
# Modules whose Chinese literals are not UI text, and why. Anything else must be a message.
CONTENT = {
    "content/generated.py": "questions generated from the norm's own sentences",
    "content/render.py": "lesson Markdown: headings and boxes of the Chinese lesson",
    "content/text.py": "matching the norm's Chinese text",
    "content/summaries.py": "messages to content editors, with the Chinese term they edit",
    "content/check.py": "messages to content editors, with the Chinese term they edit",
    "content/cli.py": "content command output",
    "norm/numbering.py": "Chinese numbering: 一、 (二) 第三章 …",
    "norm/readers.py": "Chinese numbering and punctuation in the norm's text",
    "course/versions.py": "the norm's own date wording, filled in the lesson text",
    "lessons/markdown.py": "a character class of CJK punctuation",
    "quizzes/cues.py": "wording cues in the Chinese questions",
    "quizzes/schema.py": "the Chinese true/false option texts and a giveaway pattern",
    "quizzes/blind.py": "the blind check's Chinese answer sheet (QUIZ-GUIDE)",
    "banks/scorm.py": "the SCORM package's Chinese course page",
    "revisions/planning.py": "revision notes saved into the Chinese lesson text",
    "xapi/statements.py": "activity names of the Chinese course (zh-CN language maps)",
    "language/selection.py": "the language's own name, 中文",
    "config.py": "the default company and product names; operator errors naming 工号",
    "api/openapi.py": "the API description's title and the word 工号",
    "auth/directory.py": "an operator error naming the 工号 attribute",
    "auth/signin.py": "a log reason naming 工号",
    "employees/cli.py": "command help and prompts naming 工号",
    "reports/cli.py": "command help naming the Chinese column names",
    "practice/cli.py": "command help naming 工号",
    "revisions/cli.py": "command help with a Chinese example",
}

# Modules with both UI messages and a file format's own Chinese words: a literal is allowed in
# a module-level table (column headers, role words, …) or when it is one of the words listed;
# anywhere else it must be a message.
FORMAT_WORDS = {
    "banks/formats.py": {
        "说明",
        "编号",
        "题型",
        "情境",
        "题干",
        "选项",
        "正确答案",
        "各选项解析",
        "引用条款",
        "标签",
        "复核版本",
        "题库",
        "正确",
        "错误",
    },  # the xlsx sheet's and the columns' names, the true/false words HR types
    "employees/importer.py": set(),
}


def _table_lines(path: Path) -> set[int]:
    """Lines of the module's top-level assignments (its constant tables)."""
    lines: set[int] = set()
    for node in ast.parse(path.read_text("utf-8")).body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return lines


def _bare_chinese(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text("utf-8"))
    marked: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name in MARKERS:
                for arg in node.args[:2]:
                    marked.update(id(sub) for sub in ast.walk(arg))
        body = getattr(node, "body", None)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            first = body[0] if body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                marked.add(id(first.value))  # a docstring
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and CJK.search(node.value)
        and id(node) not in marked
    ]


def test_chinese_text_in_python_is_a_message_or_known_content():
    bare = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = path.relative_to(PACKAGE).as_posix()
        if name in CONTENT or name.startswith("migrations/"):
            continue
        found = _bare_chinese(path)
        if name in FORMAT_WORDS:
            tables = _table_lines(path)
            found = [
                (line, text)
                for line, text in found
                if line not in tables and text not in FORMAT_WORDS[name]
            ]
        bare += [f"training/{name}:{line}: {text[:40]!r}" for line, text in found]
    assert bare == [], "Chinese text outside gettext (wrap it in _() or N_()):\n" + "\n".join(bare)


def _built_messages(path: Path) -> list[int]:
    """Lines where a message is built before gettext sees it (an f-string, "+" or "%"): such a
    message id is never in the catalog, so it is never translated."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name in MARKERS and isinstance(node.args[0], (ast.JoinedStr, ast.BinOp)):
                lines.append(node.lineno)
    return lines


def test_no_message_is_built_before_it_is_translated():
    built = [
        f"training/{path.relative_to(PACKAGE).as_posix()}:{line}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for line in _built_messages(path)
    ]
    assert built == [], "use one message with named placeholders instead:\n" + "\n".join(built)


def test_the_content_list_names_only_modules_that_need_it():
    stale = [name for name in CONTENT | FORMAT_WORDS.keys() if not _bare_chinese(PACKAGE / name)]
    assert stale == []


def test_the_scan_sees_a_bare_string_and_passes_a_message(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text('"""模块。"""\nA = _("已保存")\nB = "未翻译"\nC = N_("稍后翻译")\n', "utf-8")
    assert _bare_chinese(sample) == [(3, "未翻译")]
    sample.write_text('A = _(f"导出{x}")\nB = _("第 %(n)s 行", n=1)\nC = _("甲" + y)\n', "utf-8")
    assert _built_messages(sample) == [1, 3]
