"""Question banks as files: the repository's YAML, the XLSX template, GIFT and Moodle XML.

Writers turn validated questions into a file; readers turn a file into *raw items*: the
same mappings a YAML bank holds, each with the place it came from (a row, a line), so one
validator (``training.quizzes.schema``) checks every format with the rules of
``flask content check``. Readers never raise on bad content: what they cannot read becomes a
problem at its place, and nothing is written from a file with problems. Pure: no request,
no database; messages go through gettext (outside a request, the Chinese message id). Column
headers, kinds, tags and sheet names are the file format and stay as they are.

GIFT and Moodle XML follow Moodle's own importers: ``::name::`` and ``// [id:…] [tag:…]``
comment lines in GIFT; ``multichoice`` (``single`` true or false), ``truefalse`` and
``ordering`` (core since Moodle 4.4) in XML. Moodle has no home for the clauses an item
cites, so they travel as tags ``cite:4.2.1.2``. An ``order`` item is a GIFT matching
question whose steps match their positions 1, 2, 3, ….
"""

from __future__ import annotations

import datetime
import hashlib
import html
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import yaml
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from training.i18n import N_, join_words
from training.quizzes import schema
from training.quizzes.items import Question
from training.sheets import FORMULA_STARTS

FORMATS = ("yaml", "xlsx", "gift", "moodle")
EXTENSIONS = {"yaml": "yaml", "xlsx": "xlsx", "gift": "gift.txt", "moodle": "moodle.xml"}
MIMETYPES = {
    "yaml": "application/x-yaml; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "gift": "text/plain; charset=utf-8",
    "moodle": "application/xml; charset=utf-8",
}
MAX_BYTES = 5 * 1024 * 1024
MAX_QUESTIONS = 500  # per file; a lesson's bank holds tens
MAX_XLSX_UNCOMPRESSED = 50 * 1024 * 1024
CITE_TAG = "cite:"
REVIEWED_TAG = "reviewed:"
CATEGORY_ROOT = "服务规范"


@dataclass
class RawItem:
    """One question as read from a file, before validation; ``place`` says where it is."""

    place: str
    data: dict[str, Any]
    named: bool = False  # the file gave no id: ``read`` names it from its lesson and content


@dataclass
class ReadResult:
    """What a reader found: the lesson the file names (if any), its items and its problems."""

    lesson: str | None = None
    pass_mark: Fraction | None = None
    items: list[RawItem] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (place, message)

    def problem(self, place: str, message: str) -> None:
        self.problems.append((place, message))


def guess_format(filename: str) -> str | None:
    """Return the format a file name suggests, or None."""
    name = filename.lower()
    if name.endswith((".yaml", ".yml")):
        return "yaml"
    if name.endswith(".xlsx"):
        return "xlsx"
    if name.endswith((".gift", ".gift.txt", ".txt")):
        return "gift"
    if name.endswith(".xml"):
        return "moodle"
    return None


def read(fmt: str, data: bytes, lesson: str, taken: Mapping[str, str] | None = None) -> ReadResult:
    """Read a bank file of a format; ``lesson`` picks the XLSX sheet and names new ids.

    ``taken`` maps ids already in use (in the database) to the ``identity`` of the question
    holding each: a question named here never takes the id of a different question.
    """
    if len(data) > MAX_BYTES:
        result = ReadResult()
        result.problem("", _("文件超过 %(mb)d MB，不是一课的题库。", mb=MAX_BYTES // (1024 * 1024)))
        return result
    readers = {"yaml": read_yaml, "xlsx": read_xlsx, "gift": read_gift, "moodle": read_moodle}
    result = readers[fmt](data, lesson)
    if len(result.items) > MAX_QUESTIONS:
        result.problem(
            "",
            _(
                "文件含 %(count)s 题，超过每课 %(max)s 题的上限",
                count=len(result.items),
                max=MAX_QUESTIONS,
            ),
        )
        result.items = result.items[:MAX_QUESTIONS]
    _name_new_questions(result.items, lesson, taken or {})
    return result


def identity(scenario: str, prompt: str, texts: Sequence[str]) -> str:
    """A digest of what makes a question that one: its text and its options or steps."""
    payload = "\x1f".join([scenario.strip(), prompt.strip(), *(t.strip() for t in texts)])
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def question_identity(question: Question) -> str:
    texts = question.steps if question.kind == "order" else ()
    if question.kind in ("single", "multiple"):
        texts = tuple(option.text for option in question.options)
    return identity(question.scenario, question.prompt, texts)


def _raw_identity(raw: dict[str, Any]) -> str:
    def text(value: Any) -> str:
        return value if isinstance(value, str) else ""

    parts = raw.get("options") if isinstance(raw.get("options"), list) else raw.get("steps")
    texts = [
        text(part.get("text")) if isinstance(part, dict) else text(part)
        for part in (parts if isinstance(parts, list) else [])
    ]
    return identity(text(raw.get("scenario")), text(raw.get("prompt")), texts)


def new_id_prefix(lesson: str) -> str:
    """How the ids ``new_id`` gives a lesson's questions start (l42-x)."""
    return f"l{lesson.replace('.', '')}-x"


def new_id(lesson: str, raw: dict[str, Any]) -> str:
    """Name a question that came without an id, from its lesson and content (stable)."""
    return new_id_prefix(lesson) + _raw_identity(raw)[:8]


def _name_new_questions(items: list[RawItem], lesson: str, taken: Mapping[str, str]) -> None:
    """Give each question without an id one that no other question of the file has, and
    that no different question already has (``taken``); a suffix -2, -3 … tells apart
    questions with the same content and the rare clash of digests."""
    used = {item.data.get("id") for item in items if not item.named}
    for item in items:
        if not item.named:
            continue
        mine = _raw_identity(item.data)
        base = candidate = new_id(lesson, item.data)
        legacy = _legacy_id(lesson, item.data)
        if taken.get(legacy) == mine and legacy not in used:
            candidate = legacy  # named before options counted: the same question keeps its id
        number = 1
        while candidate in used or taken.get(candidate, mine) != mine:
            number += 1
            candidate = f"{base}-{number}"
        used.add(candidate)
        item.data["id"] = candidate


def _legacy_id(lesson: str, raw: dict[str, Any]) -> str:
    """The id questions without one were given before their options counted (text only)."""
    scenario = raw.get("scenario") if isinstance(raw.get("scenario"), str) else ""
    prompt = raw.get("prompt") if isinstance(raw.get("prompt"), str) else ""
    seed = hashlib.sha256(f"{scenario}\n{prompt}".encode()).hexdigest()[:8]
    return new_id_prefix(lesson) + seed


def write(fmt: str, banks: Sequence[tuple[str, str, Sequence[Question], Fraction | None]]) -> bytes:
    """Write banks as one file: each bank is (lesson number, lesson title, questions, mark)."""
    writers = {"yaml": write_yaml, "xlsx": write_xlsx, "gift": write_gift, "moodle": write_moodle}
    return writers[fmt](banks)


def _text_of(question: Question) -> tuple[str, str]:
    return question.scenario, question.prompt


def raw_of(question: Question) -> dict[str, Any]:
    """Return the repository (YAML) form of a question: what a bank file holds."""
    raw: dict[str, Any] = {"id": question.id, "kind": question.kind, "cites": list(question.cites)}
    if question.tags:
        raw["tags"] = list(question.tags)
    if question.scenario:
        raw["scenario"] = question.scenario
    raw["prompt"] = question.prompt
    if question.kind in ("single", "multiple"):
        raw["options"] = [
            {"text": o.text, "correct": True, "feedback": o.feedback}
            if o.correct
            else {"text": o.text, "feedback": o.feedback}
            for o in question.options
        ]
    elif question.kind == "truefalse":
        raw["answer"] = bool(question.answer)
    else:
        raw["steps"] = list(question.steps)
    if question.kind in ("truefalse", "order") or question.feedback:
        raw["feedback"] = question.feedback
    if question.reviewed_for:
        raw["reviewed_for"] = question.reviewed_for
    return raw


def digest(questions: Iterable[Question]) -> str:
    """Return a digest of a bank's questions in their order (what a publication replaces)."""
    text = yaml.safe_dump([raw_of(q) for q in questions], allow_unicode=True, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- YAML ---------------------------------------------------------------------------------


class _BankDumper(yaml.SafeDumper):
    """Write long or multi-line text as YAML block scalars, the way the banks are written."""


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_BankDumper.add_representer(str, _str_representer)


def write_yaml(banks) -> bytes:
    """One YAML document per bank (several lessons: a multi-document stream)."""
    documents = []
    for lesson, _title, questions, mark in banks:
        doc: dict[str, Any] = {"lesson": lesson}
        if mark is not None:
            doc["pass_mark"] = float(mark)
        doc["questions"] = [raw_of(q) for q in questions]
        documents.append(doc)
    text = yaml.dump_all(
        documents, Dumper=_BankDumper, allow_unicode=True, sort_keys=False, width=100
    )
    return text.encode("utf-8")


def _decode(data: bytes, result: ReadResult) -> str | None:
    """Return a text file's content, or None after noting that it is not UTF-8."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        result.problem("", _("文件不是 UTF-8 编码的文本"))
        return None


def read_yaml(data: bytes, lesson: str) -> ReadResult:
    result = ReadResult()
    text = _decode(data, result)
    if text is None:
        return result
    try:
        docs = list(yaml.load_all(text, Loader=schema.BankLoader))  # noqa: S506 - a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        result.problem(
            _("第 %(n)s 行", n=mark.line + 1) if mark else "",
            _("YAML 语法错误：%(problem)s", problem=exc.problem),
        )
        return result
    except yaml.YAMLError as exc:
        result.problem("", _("YAML 错误：%(error)s", error=str(exc)))
        return result
    docs = [doc for doc in docs if doc is not None]
    if len(docs) > 1:
        # A whole-course export: read the document of this lesson.
        mine = [d for d in docs if isinstance(d, dict) and str(d.get("lesson")) == lesson]
        if not mine:
            result.problem(
                "",
                _(
                    "文件含 %(count)s 课的题库，但没有第 %(lesson)s 课",
                    count=len(docs),
                    lesson=lesson,
                ),
            )
            return result
        docs = mine[:1]
    doc = docs[0] if docs else None
    if not isinstance(doc, dict):
        result.problem("", _("文件应是含 lesson 和 questions 的 YAML 映射"))
        return result
    for key in doc:
        if key not in ("lesson", "questions", "pass_mark"):
            result.problem("", _("未知的顶层字段 %(key)s", key=repr(key)))
    if doc.get("lesson") is not None:
        result.lesson = str(doc["lesson"])
    mark = doc.get("pass_mark")
    if mark is not None:
        if isinstance(mark, bool) or not isinstance(mark, int | float) or not 0 < mark <= 1:
            result.problem(
                "", _("pass_mark 应是 (0, 1] 之间的数，而不是 %(value)s", value=repr(mark))
            )
        else:
            result.pass_mark = Fraction(str(mark))
    questions = doc.get("questions")
    if not isinstance(questions, list) or not questions:
        result.problem("", _("questions 应是非空列表"))
        return result
    for index, raw in enumerate(questions):
        line = getattr(raw, "line", 0)
        place = _("第 %(n)s 行", n=line) if line else _("第 %(n)s 题", n=index + 1)
        result.items.append(RawItem(place, raw if isinstance(raw, dict) else {"_bad": raw}))
    return result


# --- XLSX template ------------------------------------------------------------------------

LETTERS = "ABCDEF"  # the template's option columns 选项A…F
# A question with more options or steps gets columns 选项G, 选项H, … (its sheet only).
ALL_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
KIND_LABELS = {"single": "单选", "multiple": "多选", "truefalse": "判断", "order": "排序"}
KIND_NAMES = {
    **{label: kind for kind, label in KIND_LABELS.items()},
    **{label + "题": kind for kind, label in KIND_LABELS.items()},
    **{kind: kind for kind in KIND_LABELS},
}
TAG_LABELS = {"external": "外部", "internal": "内部", "concept": "概念", "response": "应对"}
TAG_NAMES = {**{label: tag for tag, label in TAG_LABELS.items()}, **{t: t for t in TAG_LABELS}}
TRUE_WORDS = {"正确", "对", "是", "√", "T", "TRUE", "true", "True"}
FALSE_WORDS = {"错误", "错", "否", "×", "F", "FALSE", "false", "False"}


def _headers(letters: str) -> tuple[str, ...]:
    return (
        "编号",
        "题型",
        "情境",
        "题干",
        *(f"选项{letter}" for letter in letters),
        "正确答案",
        "各选项解析",
        "引用条款",
        "标签",
        "复核版本",
    )


HEADERS = _headers(LETTERS)
ALL_HEADERS = frozenset(_headers(ALL_LETTERS))
COLUMN_WIDTHS = {
    "编号": 24,
    "题型": 8,
    "情境": 40,
    "题干": 40,
    "正确答案": 10,
    "各选项解析": 60,
    "引用条款": 16,
    "标签": 12,
    "复核版本": 14,
}
OPTION_WIDTH = 30
REQUIRED_HEADERS = ("题型", "题干", "正确答案", "引用条款")
INSTRUCTIONS = (
    (_l("列"), _l("怎么填")),
    (
        "编号",
        _l(
            "题目的固定编号（小写字母、数字和连字符，如 l42-phone-greeting）。"
            "修改已有题目时保留原编号；新题可留空，导入时按题干生成。"
        ),
    ),
    ("题型", _l("单选、多选、判断或排序。")),
    ("情境", _l("题目所处的情境（谁、刚发生了什么）；可留空。")),
    ("题干", _l("要回答的问题。")),
    (
        "选项A…选项F",
        _l(
            "单选至少 2 项、多选至少 3 项，通常不超过 6 项；判断题不填；排序题按任意顺序填写各步骤。"
            "选项更多时，在选项F之后加列 选项G、选项H…（最多到选项Z）。"
        ),
    ),
    (
        "正确答案",
        _l(
            "单选填一个字母（B）；多选填所有正确字母（ACD）；判断填 正确 或 错误；"
            "排序填各步骤的正确顺序（CABD）。"
        ),
    ),
    (
        "各选项解析",
        _l("单选、多选每个选项一行：A：解析……（说明规范的要求和条款号）；判断、排序题填整题解析。"),
    ),
    (
        "引用条款",
        _l("题目依据的规范条款号，多个用逗号分隔（4.2.1.2, 4.2.1.3）；须是现行规范中的条款。"),
    ),
    (
        "标签",
        _l("外部、内部、概念、应对（应对：选项是当时说的话或做的事），多个用顿号分隔；可留空。"),
    ),
    ("复核版本", _l("规范修订后复核过该题的版本摘要前 12 位；通常留空，在网页上复核即可。")),
    (
        _l("工作表"),
        _l(
            "每课一个工作表，以课号命名（如 4.2）；"
            "导入时读取与所选课号同名的工作表，没有则读第一个。"
        ),
    ),
)


# Commas, enumeration commas and semicolons, half- or full-width, and spaces separate a list.
_SEPARATORS = re.compile(r"[\s,\uff0c\u3001;\uff1b]+")


def _split_list(value: str) -> list[str]:
    return [part for part in _SEPARATORS.split(value) if part]


def write_xlsx(banks) -> bytes:
    import openpyxl
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    workbook = openpyxl.Workbook()
    notes = workbook.create_sheet("说明", 0)
    workbook.remove(workbook.worksheets[1])  # the empty default sheet
    notes.title = "说明"
    for row in INSTRUCTIONS:
        notes.append([str(cell) for cell in row])  # in the reader's language; names stay
    notes.column_dimensions["A"].width = 14
    notes.column_dimensions["B"].width = 100
    for cell in notes[1]:
        cell.font = Font(bold=True)
    if not banks:
        banks = [("", "", [], None)]
    for lesson, _title, questions, _mark in banks:
        sheet = workbook.create_sheet(lesson or "题库")
        count = max([len(LETTERS), *(_choice_count(q) for q in questions)])
        if count > len(ALL_LETTERS):
            raise ValueError(f"a question has {count} options or steps; XLSX holds at most 26")
        letters = ALL_LETTERS[:count]
        headers = _headers(letters)
        sheet.append(list(headers))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for number, question in enumerate(questions, start=2):
            for column, value in enumerate(_xlsx_row(question, letters), start=1):
                _text_cell(sheet.cell(row=number, column=column), value)
        for column, header in enumerate(headers, start=1):
            dimension = sheet.column_dimensions[get_column_letter(column)]
            dimension.width = COLUMN_WIDTHS.get(header, OPTION_WIDTH)
            # Text typed into the template stays text: a clause 4.10 is not the number 4.1.
            dimension.number_format = "@"
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.freeze_panes = "A2"
        sheet.auto_filter.ref = sheet.dimensions
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _text_cell(cell, value: str) -> None:
    """Put text in a cell as text, never as a formula, and without changing it.

    Text that a spreadsheet could take for a formula (= + - @ …) is stored as a string
    with Excel's quote prefix: shown as typed, kept as text when someone edits the cell,
    and read back exactly (no apostrophe is added to the text itself).
    """
    cell.value = value
    cell.data_type = "s"
    if value.startswith(FORMULA_STARTS):
        cell.quotePrefix = True


def _choice_count(question: Question) -> int:
    """How many option columns a question fills (its options or its steps)."""
    if question.kind in ("single", "multiple"):
        return len(question.options)
    if question.kind == "order":
        return len(question.steps)
    return 0


def _xlsx_row(question: Question, letters: str = LETTERS) -> list[str]:
    options = [""] * len(letters)
    if question.kind in ("single", "multiple"):
        for index, option in enumerate(question.options):
            options[index] = option.text
        answer = "".join(letters[i] for i, o in enumerate(question.options) if o.correct)
        lines = [question.feedback] if question.feedback else []
        lines += [f"{letters[i]}:{o.feedback}" for i, o in enumerate(question.options)]
        feedback = "\n".join(lines)
    elif question.kind == "truefalse":
        answer = "正确" if question.answer else "错误"
        feedback = question.feedback
    else:
        # Steps in the sheet in their given order; the answer names that order.
        for index, step in enumerate(question.steps):
            options[index] = step
        answer = letters[: len(question.steps)]
        feedback = question.feedback
    return [
        question.id,
        KIND_LABELS[question.kind],
        question.scenario,
        question.prompt,
        *options,
        answer,
        feedback,
        ", ".join(question.cites),
        "、".join(TAG_LABELS.get(t, t) for t in question.tags),
        question.reviewed_for,
    ]


def blank_template() -> bytes:
    """Return the XLSX template with its instructions and an empty sheet."""
    return write_xlsx([])


def read_xlsx(data: bytes, lesson: str) -> ReadResult:
    result = ReadResult()
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = set(archive.namelist())
        size = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        result.problem("", _("文件已损坏，无法作为 Excel (.xlsx) 文件读取"))
        return result
    if "xl/workbook.xml" not in names:
        result.problem("", _("这是压缩文件，不是 Excel (.xlsx) 工作簿"))
        return result
    if size > MAX_XLSX_UNCOMPRESSED:
        result.problem("", _("Excel 文件解压后过大，不是一课的题库"))
        return result
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many exception types on a bad file
        result.problem("", _("Excel 文件已损坏或格式不受支持，无法读取"))
        return result
    try:
        sheets = {sheet.title: sheet for sheet in workbook.worksheets}
        sheet = sheets.get(lesson) or next(
            (s for name, s in sheets.items() if name != "说明"), None
        )
        if sheet is None:
            result.problem("", _("工作簿里没有题目工作表"))
            return result
        if sheet.title != "说明" and re.fullmatch(r"\d+(\.\d+)*", sheet.title):
            result.lesson = sheet.title
        rows = sheet.iter_rows(min_row=1, max_col=len(ALL_HEADERS) + 5)
        header: list[str] = []
        columns = LETTERS
        for number, row_cells in enumerate(rows, start=1):
            cells = [_cell_text(cell) for cell in row_cells]
            if number == 1:
                header = cells
                missing = [h for h in REQUIRED_HEADERS if h not in header]
                if missing:
                    result.problem(
                        _("第 %(n)s 行", n=1),
                        _("缺少列：%(columns)s（请用空白模板）", columns=join_words(missing)),
                    )
                    return result
                unknown = [h for h in header if h and h not in ALL_HEADERS]
                if unknown:
                    result.problem(
                        _("第 %(n)s 行", n=1),
                        _("未知的列：%(columns)s", columns=join_words(unknown)),
                    )
                columns = "".join(x for x in ALL_LETTERS if f"选项{x}" in header)
                continue
            if number > MAX_QUESTIONS + 1:
                result.problem("", _("工作表超过 %(count)s 行题目", count=MAX_QUESTIONS))
                break
            if not any(cells):
                continue
            place = _("第 %(n)s 行", n=number)
            row = dict(zip(header, cells, strict=False))
            cite_cell = dict(zip(header, row_cells, strict=False)).get("引用条款")
            if cite_cell is not None:
                _check_clause_cell(cite_cell, row.get("引用条款", ""), place, result)
            item = _item_from_row(row, place, result, columns)
            item.named = not item.data["id"]
            result.items.append(item)
    except Exception:  # a damaged sheet can fail while streaming
        result.problem("", _("Excel 文件已损坏或格式不受支持，无法读取"))
    finally:
        workbook.close()
    return result


# A number format that shows a fixed count of decimals: 0, 0.00, #,##0.0 ….
_FIXED_DECIMALS = re.compile(r"[#,0]*0(?:\.(0+))?")


def _fixed_decimals(number_format: str | None) -> int | None:
    """Return how many decimals a cell's number format shows, or None (General, text…)."""
    if not number_format:
        return None
    first = number_format.split(";")[0]
    first = re.sub(r'"[^"]*"|\\.|_.|\[[^\]]*\]', "", first).strip()
    found = _FIXED_DECIMALS.fullmatch(first)
    return len(found.group(1) or "") if found else None


def _cell_text(cell) -> str:
    """Return a cell as the text it shows: numbers with the decimals their format shows."""
    value = cell.value
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        decimals = _fixed_decimals(getattr(cell, "number_format", None))
        grouping = "," if decimals is not None and "," in (cell.number_format or "") else ""
        if decimals is not None:
            return f"{value:{grouping}.{decimals}f}"
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time():
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return str(value).strip()


def _check_clause_cell(cell, text: str, place: str, result: ReadResult) -> None:
    """Refuse clause numbers Excel stored as a date or as a number without its zeros.

    Typed into a General cell, 4.10 is stored as the number 4.1: the sheet cannot say which
    clause was meant. A number format with fixed decimals (0.00) shows what was meant.
    """
    value = cell.value
    if isinstance(value, datetime.date | datetime.time):
        result.problem(
            place,
            _(
                "引用条款被 Excel 当作日期或时间（%(text)s），无法确定条款号；"
                "请把引用条款列设为文本格式后重新输入条款号",
                text=text,
            ),
        )
    elif isinstance(value, float) and _fixed_decimals(cell.number_format) is None:
        result.problem(
            place,
            _(
                "引用条款「%(text)s」是 Excel 数字单元格，小数末尾的 0 已丢失"
                "（如 4.10 会存成 4.1），无法确定条款号；请把引用条款列设为文本格式后重新输入条款号",
                text=text,
            ),
        )


def _item_from_row(
    row: dict[str, str], place: str, result: ReadResult, columns: str = LETTERS
) -> RawItem:
    """Read one sheet row; ``columns`` are the letters of the sheet's option columns."""

    def bad(message: str) -> None:
        result.problem(place, message)

    kind_label = row.get("题型", "")
    kind = KIND_NAMES.get(kind_label)
    raw: dict[str, Any] = {}
    if kind is None:
        bad(_("题型「%(kind)s」无法识别，应为单选、多选、判断或排序", kind=kind_label))
        kind = kind_label
    raw["id"] = row.get("编号", "")  # none: named by ``read``
    raw["kind"] = kind
    raw["cites"] = _split_list(row.get("引用条款", ""))
    tags = []
    for label in _SEPARATORS.split(row.get("标签", "")):
        if not label:
            continue
        if label not in TAG_NAMES:
            bad(_("标签「%(tag)s」无法识别，应为 外部、内部、概念 或 应对", tag=label))
        else:
            tags.append(TAG_NAMES[label])
    if tags:
        raw["tags"] = tags
    if row.get("情境"):
        raw["scenario"] = row["情境"]
    raw["prompt"] = row.get("题干", "")
    if row.get("复核版本"):
        raw["reviewed_for"] = row["复核版本"]
    texts = [(letter, row.get(f"选项{letter}", "")) for letter in ALL_LETTERS]
    filled = [(letter, text) for letter, text in texts if text]
    answer = row.get("正确答案", "").replace(" ", "").upper()
    feedback = row.get("各选项解析", "")
    if kind in ("single", "multiple"):
        gaps = [letter for letter, text in texts[: len(filled)] if not text]
        if gaps:
            bad(_("选项%(letters)s为空：选项须从 A 起连续填写", letters=join_words(gaps)))
        keys = list(_SEPARATORS.sub("", answer))
        letters = [letter for letter, _text in filled]
        for key in keys:
            if key not in letters:
                bad(
                    _(
                        "正确答案「%(key)s」不是已填写的选项（%(letters)s）",
                        key=key,
                        letters="".join(letters),
                    )
                )
        if len(set(keys)) != len(keys):
            bad(_("正确答案中有重复的字母"))
        per_option = _option_feedback(feedback, columns)
        general = per_option.pop("", "")
        if general:
            raw["feedback"] = general
        for letter in per_option:
            if letter not in letters:
                bad(_("各选项解析中的「%(letter)s」没有对应的选项", letter=letter))
        raw["options"] = [
            {"text": text, "correct": letter in keys, "feedback": per_option.get(letter, "")}
            for letter, text in filled
        ]
    elif kind == "truefalse":
        if answer in {w.upper() for w in TRUE_WORDS}:
            raw["answer"] = True
        elif answer in {w.upper() for w in FALSE_WORDS}:
            raw["answer"] = False
        else:
            bad(
                _(
                    "判断题的正确答案应为 正确 或 错误，而不是「%(answer)s」",
                    answer=row.get("正确答案", ""),
                )
            )
        if filled:
            bad(_("判断题不填选项"))
        raw["feedback"] = feedback
    elif kind == "order":
        letters = [letter for letter, _text in filled]
        sequence = list(re.sub(r"[\s,\uff0c\u3001;\uff1b>\u2192-]", "", answer))
        if sorted(sequence) != sorted(letters):
            bad(
                _(
                    "排序题的正确答案应把每个步骤（%(letters)s）各列一次，而不是「%(answer)s」",
                    letters="".join(letters),
                    answer=answer,
                )
            )
            raw["steps"] = [text for _letter, text in filled]
        else:
            by_letter = dict(filled)
            raw["steps"] = [by_letter[letter] for letter in sequence]
        raw["feedback"] = feedback
    return RawItem(place, raw)


def _option_feedback(text: str, columns: str = LETTERS) -> dict[str, str]:
    """Split "A:…\\nB:…" into feedback by letter; lines without a letter continue the last.

    "A:", "A：", "A.", "A、", "A)" and "A）" start an option's feedback, for the letters of
    the sheet's option columns. Lines before the first letter are the whole item's
    feedback, under the key "".
    """
    option_line = re.compile(
        rf"^\s*([{columns or LETTERS}])\s*[:\uff1a.\u3001)\uff09]\s*", re.IGNORECASE
    )
    found: dict[str, str] = {}
    current = ""
    for line in text.splitlines():
        match = option_line.match(line)
        if match:
            current = match.group(1).upper()
            found[current] = line[match.end() :].strip()
        elif line.strip():
            found[current] = (
                f"{found[current]}\n{line.strip()}" if current in found else line.strip()
            )
    return found


# --- GIFT ---------------------------------------------------------------------------------

_GIFT_SPECIAL = "~=#{}:"
# Moodle's GIFT importer reads "[html]" and its kin at the start of a text as its format.
_GIFT_FORMAT = re.compile(r"\s*\[(html|moodle|markdown|plain)\]")
_LINE_BREAKS = re.compile(r"\r\n|\r|\n")


def _gift_escape(text: str) -> str:
    """Escape GIFT's special characters (\\ ~ = # { } :) and write line breaks as \\n."""
    out = text.replace("\\", "\\\\")
    for char in _GIFT_SPECIAL:
        out = out.replace(char, "\\" + char)
    return _LINE_BREAKS.sub("\\\\n", out)


def _gift_text(text: str) -> str:
    """Write a text for GIFT: escaped, and marked [moodle] (Moodle's default format, which
    importers drop) when its start would otherwise read as a format ([html]…) or a weight
    (%50%)."""
    escaped = _gift_escape(text)
    return f"[moodle]{escaped}" if text.startswith(("[", "%")) else escaped


def _gift_html(fragment: str) -> str:
    """Write an HTML fragment as a GIFT text in [html] format."""
    return "[html]" + _gift_escape(fragment)


def _gift_unescape(text: str) -> str:
    out = []
    chars = iter(text)
    for char in chars:
        if char == "\\":
            following = next(chars, "")
            out.append("\n" if following == "n" else following)
        else:
            out.append(char)
    return "".join(out).strip()


# Moodle's listed grade fractions (question_bank::fraction_options_full) of 1 … 10 parts.
_MOODLE_FRACTIONS = {
    1: "100",
    2: "50",
    3: "33.33333",
    4: "25",
    5: "20",
    6: "16.66667",
    7: "14.28571",
    8: "12.5",
    9: "11.11111",
    10: "10",
}


def _moodle_fraction(correct: int) -> str:
    """The grade of each correct option when ``correct`` share the marks.

    Moodle lists fractions for up to 10 correct options; beyond that the exact share is
    written, which Moodle's import takes with "nearest grade if not listed".
    """
    return _MOODLE_FRACTIONS.get(correct) or f"{100 / correct:.5f}"


def write_gift(banks) -> bytes:
    lines = ["// " + _("服务规范培训题库（GIFT 格式，可导入 Moodle）"), ""]
    for lesson, title, questions, _mark in banks:
        lines += [f"$CATEGORY: $course$/top/{CATEGORY_ROOT}/{lesson}", ""]
        for question in questions:
            tags = " ".join(f"[tag:{t}]" for t in (*question.tags, *_cite_tags(question)))
            lines.append(f"// [id:{question.id}] {tags}".rstrip())
            if title:
                lines.append(
                    "// "
                    + _("第 %(lesson)s 课 %(title)s", lesson=lesson, title=" ".join(title.split()))
                )
            if "\n\n" in question.prompt:
                # A blank line would split scenario from prompt: name the parts in HTML.
                body = _gift_html(
                    _html_paragraphs(("scenario", question.scenario), ("prompt", question.prompt))
                )
            elif question.scenario:
                body = _gift_text(f"{question.scenario}\n\n{question.prompt}")
            else:
                body = _gift_text(question.prompt)
            lines.append(f"::{_gift_escape(question.id)}::{body}{{")
            lines.extend(_gift_answers(question))
            lines += ["}", ""]
    return "\n".join(lines).encode("utf-8")


def _cite_tags(question: Question) -> list[str]:
    """The clauses and the review mark, as Moodle tags (Moodle has no field for them)."""
    tags = [f"{CITE_TAG}{cite}" for cite in question.cites]
    if question.reviewed_for:
        tags.append(f"{REVIEWED_TAG}{question.reviewed_for}")
    return tags


def _gift_answers(question: Question) -> list[str]:
    if question.kind == "truefalse":
        fb = _gift_text(question.feedback)
        return [f"{'TRUE' if question.answer else 'FALSE'}#{fb}#{fb}"]
    if question.kind == "order":
        pairs = [f"={_gift_step(s)} -> {n}" for n, s in enumerate(question.steps, start=1)]
        return [*pairs, f"####{_gift_text(question.feedback)}"]
    right = sum(1 for o in question.options if o.correct)
    lines = []
    for option in question.options:
        text, fb = _gift_text(option.text), _gift_text(option.feedback)
        if question.kind == "single":
            mark = "=" if option.correct else "~"
        else:
            mark = f"~%{_moodle_fraction(right)}%" if option.correct else "~%-100%"
        lines.append(f"{mark}{text}#{fb}")
    if question.feedback:
        lines.append(f"####{_gift_text(question.feedback)}")
    return lines


def _gift_step(step: str) -> str:
    """A step of a matching question; "->" in it is written as HTML (-&gt;), as the first
    "->" of a pair separates the step from its position."""
    if "->" in step:
        return _gift_html(html.escape(step).replace("\n", "<br>"))
    return _gift_text(step)


_GIFT_META = re.compile(r"\[(id|tag):([^\]]+)\]")


def read_gift(data: bytes, lesson: str) -> ReadResult:
    result = ReadResult()
    text = _decode(data, result)
    if text is None:
        return result
    meta: dict[str, list[str]] = {"id": [], "tag": []}
    block: list[str] = []
    start = 0
    category: str | None = None
    parts: list[tuple[str | None, RawItem]] = []
    for number, line in enumerate([*_LINE_BREAKS.split(text), ""], start=1):
        stripped = line.strip()
        if not block and stripped.startswith("//"):
            for key, value in _GIFT_META.findall(stripped):
                meta[key].append(value.strip())
            continue
        if not block and stripped.startswith("$CATEGORY:"):
            category = _lesson_category(stripped)
            continue
        if stripped:
            if not block:
                start = number
            block.append(line)
            continue
        if block:
            item = _gift_item("\n".join(block), start, meta, result)
            item.named = bool(item.data) and not item.data.get("id")
            parts.append((category, item))
            meta = {"id": [], "tag": []}
            block = []
    _keep_lesson(parts, lesson, result)
    return result


def _lesson_category(text: str) -> str | None:
    """Return the lesson number a Moodle category path ends in ("…/服务规范/4.2"), if any."""
    last = text.split("/")[-1].strip()
    return last if re.fullmatch(r"\d+(\.\d+)*", last) else None


def _keep_lesson(parts: list[tuple[str | None, RawItem]], lesson: str, result: ReadResult) -> None:
    """Keep the items of this lesson's category when the file has lesson categories."""
    categories = {category for category, _item in parts if category}
    if not categories:
        result.items.extend(item for _category, item in parts)
        return
    if lesson in categories:
        result.lesson = lesson
        result.items.extend(item for category, item in parts if category == lesson)
        return
    if len(categories) == 1:
        result.lesson = categories.pop()
        result.items.extend(item for _category, item in parts)
        return
    result.problem(
        "",
        _(
            "文件含 %(count)s 课的题目分类，但没有第 %(lesson)s 课",
            count=len(categories),
            lesson=lesson,
        ),
    )


def _split_unescaped(text: str, marks: str) -> list[tuple[str, str]]:
    """Split GIFT answer text before each unescaped mark; return (mark, text) pairs."""
    parts: list[tuple[str, str]] = []
    current, mark, escaped = [], "", False
    for char in text:
        if escaped:
            current.append("\\" + char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in marks:
            if mark or "".join(current).strip():
                parts.append((mark, "".join(current)))
            current, mark = [], char
        else:
            current.append(char)
    if mark or "".join(current).strip():
        parts.append((mark, "".join(current)))
    return parts


def _find_unescaped(text: str, token: str, start: int = 0) -> int:
    """Return where ``token`` first occurs outside a backslash escape, or -1."""
    index = start
    while index < len(text):
        if text[index] == "\\":
            index += 2
            continue
        if text.startswith(token, index):
            return index
        index += 1
    return -1


def _gift_item(block: str, line: int, meta: dict[str, list[str]], result: ReadResult) -> RawItem:
    place = _("第 %(n)s 行", n=line)

    def bad(message: str) -> None:
        result.problem(place, message)

    body = "\n".join(part for part in block.split("\n") if not part.strip().startswith("//"))
    name = ""
    if body.startswith("::"):
        end = body.find("::", 2)
        if end < 0:
            bad(_("题目名称的 :: 没有结束"))
            return RawItem(place, {})
        name, body = _gift_unescape(body[2:end]), body[end + 2 :]
    opening = _find_unescaped(body, "{")
    closing = _find_unescaped(body, "}", opening + 1) if opening >= 0 else -1
    if opening < 0 or closing < 0:
        bad(_("找不到用 { } 括起的答案"))
        return RawItem(place, {})
    if body[closing + 1 :].strip():
        bad(_("答案的 } 之后还有文字；本工具只导入答案在题末的题目"))
    scenario, prompt = _gift_question_text(body[:opening], bad)
    answers = body[opening + 1 : closing].strip()
    tags, cites, reviewed = [], [], ""
    for tag in meta["tag"]:
        if tag.startswith(CITE_TAG):
            cites.append(tag[len(CITE_TAG) :])
        elif tag.startswith(REVIEWED_TAG):
            reviewed = tag[len(REVIEWED_TAG) :]
        else:
            tags.append(tag)
    raw: dict[str, Any] = {
        "id": (meta["id"] or [name])[0],  # none: named by ``read``
        "cites": cites,
    }
    if tags:
        raw["tags"] = tags
    if scenario:
        raw["scenario"] = scenario
    raw["prompt"] = prompt
    if reviewed:
        raw["reviewed_for"] = reviewed
    general = ""
    hashes = _find_unescaped(answers, "####")
    if hashes >= 0:
        answers, general = answers[:hashes], _gift_read_text(answers[hashes + 4 :], bad)
    head = answers.strip().split("#")[0].strip().upper()
    if head in ("T", "TRUE", "F", "FALSE"):
        raw["kind"] = "truefalse"
        raw["answer"] = head.startswith("T")
        pieces = _split_unescaped(answers, "#")
        feedbacks = [_gift_read_text(text, bad) for mark, text in pieces if mark == "#"]
        raw["feedback"] = general or (feedbacks[-1] if feedbacks else "")
        return RawItem(place, raw)
    pieces = [(m, t) for m, t in _split_unescaped(answers, "=~") if m or t.strip()]
    if pieces and all(m == "=" and _find_unescaped(t, "->") >= 0 for m, t in pieces):
        raw["kind"] = "order"
        numbered = []
        for _mark, text in pieces:
            arrow = _find_unescaped(text, "->")
            step, target = _gift_read_text(text[:arrow], bad), _gift_unescape(text[arrow + 2 :])
            if not target.isdigit():
                bad(
                    _(
                        "匹配题的「%(step)s」对应「%(target)s」：只有按 1、2、3… 排序的匹配题可以导入",
                        step=step,
                        target=target,
                    )
                )
                return RawItem(place, raw)
            numbered.append((int(target), step))
        raw["steps"] = [step for _position, step in sorted(numbered)]
        raw["feedback"] = general
        return RawItem(place, raw)
    options: list[dict[str, Any]] = []
    weighted = False
    for mark, text in pieces:
        if mark not in "=~" or not mark:
            bad(_("答案里每个选项应以 = 或 ~ 开头"))
            continue
        option_text, _hash, feedback = _partition_unescaped(text, "#")
        weight = None
        found = re.match(r"\s*%(-?\d+(?:\.\d+)?)%", option_text)
        if found:
            weight = float(found.group(1))
            option_text = option_text[found.end() :]
            weighted = True
        correct = mark == "=" or (weight is not None and weight > 0)
        options.append(
            {
                "text": _gift_read_text(option_text, bad),
                "correct": correct,
                "feedback": _gift_read_text(feedback, bad),
            }
        )
    raw["kind"] = "multiple" if weighted or sum(o["correct"] for o in options) > 1 else "single"
    raw["options"] = options
    if general:
        raw["feedback"] = general
    return RawItem(place, raw)


def _gift_format(text: str) -> tuple[str, str]:
    """Split a GIFT text into its format (moodle when it names none) and the rest."""
    found = _GIFT_FORMAT.match(text)
    if found is None:
        return "moodle", text
    return found.group(1), text[found.end() :]


def _gift_read_text(text: str, bad: Callable[[str], None]) -> str:
    """Read a GIFT text: drop a [moodle], [markdown] or [plain] mark (the text is used as it
    is); turn [html] into plain text, or report markup that cannot be read."""
    fmt, rest = _gift_format(text)
    value = _gift_unescape(rest)
    if fmt != "html":
        return value
    plain = _html_text(value)
    if plain is None:
        bad(_("[html] 格式的文字无法按 HTML 读取：「%(text)s」", text=value[:40]))
        return value
    return plain


def _gift_question_text(text: str, bad: Callable[[str], None]) -> tuple[str, str]:
    """Return the scenario and prompt of a GIFT question text (a blank line parts them)."""
    fmt, rest = _gift_format(text)
    value = _gift_unescape(rest)
    if fmt == "html":
        parts = _paragraphs(value)
        if parts is None:
            bad(_("题目的 [html] 文字无法按 HTML 读取：「%(text)s」", text=value[:40]))
            return "", value
        return parts.get("scenario", ""), parts.get("prompt", "")
    scenario, _blank, prompt = value.rpartition("\n\n")
    return scenario.strip(), prompt.strip()


def _partition_unescaped(text: str, char: str) -> tuple[str, str, str]:
    index = _find_unescaped(text, char)
    if index < 0:
        return text, "", ""
    return text[:index], char, text[index + 1 :]


# --- Moodle XML ---------------------------------------------------------------------------


def _html_paragraphs(*parts: tuple[str, str]) -> str:
    return "".join(
        f'<p class="{cls}">{html.escape(text).replace(chr(10), "<br>")}</p>'
        for cls, text in parts
        if text
    )


def write_moodle(banks) -> bytes:
    from lxml import etree

    quiz = etree.Element("quiz")
    for lesson, _title, questions, _mark in banks:
        category = etree.SubElement(quiz, "question", type="category")
        _text_element(
            etree.SubElement(category, "category"), f"$course$/top/{CATEGORY_ROOT}/{lesson}"
        )
        for question in questions:
            quiz.append(_moodle_question(question))
    return etree.tostring(quiz, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _text_element(parent, value: str, *, html_format: bool = False):
    from lxml import etree

    if html_format:
        parent.set("format", "html")
    child = etree.SubElement(parent, "text")
    child.text = etree.CDATA(value) if html_format and value else value
    return child


def _moodle_question(question: Question):
    from lxml import etree

    kinds = {"single": "multichoice", "multiple": "multichoice"}
    kind = kinds.get(question.kind, "truefalse" if question.kind == "truefalse" else "ordering")
    element = etree.Element("question", type=kind)
    _text_element(etree.SubElement(element, "name"), question.id)
    _text_element(
        etree.SubElement(element, "questiontext"),
        _html_paragraphs(("scenario", question.scenario), ("prompt", question.prompt)),
        html_format=True,
    )
    _text_element(
        etree.SubElement(element, "generalfeedback"),
        _html_paragraphs(("feedback", question.feedback)),
        html_format=True,
    )
    etree.SubElement(element, "defaultgrade").text = "1"
    etree.SubElement(element, "penalty").text = "0"
    etree.SubElement(element, "hidden").text = "0"
    etree.SubElement(element, "idnumber").text = question.id
    if question.kind in ("single", "multiple"):
        etree.SubElement(element, "single").text = str(question.kind == "single").lower()
        etree.SubElement(element, "shuffleanswers").text = "true"
        etree.SubElement(element, "answernumbering").text = "ABCD"
        right = sum(1 for o in question.options if o.correct)
        for option in question.options:
            if question.kind == "single":
                fraction = "100" if option.correct else "0"
            else:
                fraction = _moodle_fraction(right) if option.correct else "-100"
            _moodle_answer(element, fraction, option.text, option.feedback)
    elif question.kind == "truefalse":
        _moodle_answer(element, "100" if question.answer else "0", "true", question.feedback)
        _moodle_answer(element, "0" if question.answer else "100", "false", question.feedback)
    else:
        for name, value in (
            ("layouttype", "VERTICAL"),
            ("selecttype", "ALL"),
            ("selectcount", "0"),
            ("gradingtype", "ABSOLUTE_POSITION"),
            ("showgrading", "SHOW"),
            ("numberingstyle", "none"),
        ):
            etree.SubElement(element, name).text = value
        for position, step in enumerate(question.steps, start=1):
            _moodle_answer(element, str(position), step, "")
    tags = etree.SubElement(element, "tags")
    for tag in (*question.tags, *_cite_tags(question)):
        _text_element(etree.SubElement(tags, "tag"), tag)
    return element


def _moodle_answer(element, fraction: str, text: str, feedback: str) -> None:
    from lxml import etree

    answer = etree.SubElement(element, "answer", fraction=fraction, format="html")
    _text_element(answer, html.escape(text), html_format=True)
    _text_element(etree.SubElement(answer, "feedback"), html.escape(feedback), html_format=True)


_BLOCKS = ("p", "div", "li", "tr", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6")
_BLOCK_END = "\ue000"  # a private-use character marks where a block ended


def _html_root(fragment: str):
    """Parse an HTML fragment (lxml's HTML parser: no network, no DTD); None when broken.

    Scripts and styles are dropped: their content is not text anyone reads.
    """
    from lxml import html as lxml_html

    try:
        root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    except Exception:  # lxml raises ParserError or ValueError on markup it cannot take
        return None
    for element in root.xpath(".//script | .//style | .//head | .//title"):
        element.drop_tree()
    return root


def _element_text(element) -> str:
    """The text of an element: <br> a line break, the end of a paragraph a blank line."""
    for br in element.iter("br"):
        br.tail = "\n" + (br.tail or "")
    for block in element.iter(*_BLOCKS):
        if block is not element:
            block.tail = _BLOCK_END + (block.tail or "")
    text = element.text_content()
    text = re.sub(rf"\s*{_BLOCK_END}[\s{_BLOCK_END}]*", "\n\n", text)
    return text.strip()


def _html_text(fragment: str | None) -> str | None:
    """Plain text of an HTML fragment, or None when it cannot be read as HTML."""
    if not fragment or not fragment.strip():
        return ""
    root = _html_root(fragment)
    return None if root is None else _element_text(root)


def _paragraphs(fragment: str | None) -> dict[str, str] | None:
    """The paragraphs of a question text by role (class scenario or prompt, else the last
    paragraph is the prompt); None when the fragment cannot be read as HTML."""
    if not fragment or not fragment.strip():
        return {}
    root = _html_root(fragment)
    if root is None:
        return None
    found: dict[str, str] = {}
    paragraphs = root.findall("p")
    if not paragraphs:
        return {"prompt": _element_text(root)}
    for index, paragraph in enumerate(paragraphs):
        role = paragraph.get("class") or ("prompt" if index == len(paragraphs) - 1 else "scenario")
        text = _element_text(paragraph)
        found[role] = f"{found[role]}\n{text}" if role in found else text
    return found


# Moodle's text formats other than HTML; their text is used as it is. A missing or unknown
# format is HTML (as Moodle's importer assumes).
_MOODLE_TEXT_FORMATS = frozenset({"moodle_auto_format", "plain_text", "markdown", "wiki_like"})


def _is_html(holder) -> bool:
    return (holder.get("format") or "html").strip() not in _MOODLE_TEXT_FORMATS


def _moodle_text(holder, unreadable: str, place: str, result: ReadResult) -> str:
    """The text of a Moodle XML text field (an answer, a feedback…) in its format.

    ``unreadable`` is the message (an ``N_`` id with ``%(text)s``) for HTML that cannot be read.
    """
    if holder is None:
        return ""
    value = holder.findtext("text") or ""
    if not _is_html(holder):
        return value.strip()
    text = _html_text(value)
    if text is None:
        result.problem(place, _(unreadable, text=value.strip()[:40]))
        return value.strip()
    return text


def _moodle_question_text(element, place: str, result: ReadResult) -> tuple[str, str]:
    """The scenario and prompt of a question: HTML paragraphs, or text parted by a blank line."""
    holder = element.find("questiontext")
    if holder is None:
        return "", ""
    value = holder.findtext("text") or ""
    if not _is_html(holder):
        scenario, _blank, prompt = value.strip().rpartition("\n\n")
        return scenario.strip(), prompt.strip()
    parts = _paragraphs(value)
    if parts is None:
        result.problem(place, _("题目文字的 HTML 无法读取：「%(text)s」", text=value.strip()[:40]))
        return "", value.strip()
    return parts.get("scenario", ""), parts.get("prompt", "")


def _moodle_general_feedback(element, place: str, result: ReadResult) -> str:
    holder = element.find("generalfeedback")
    if holder is None:
        return ""
    if _is_html(holder):
        parts = _paragraphs(holder.findtext("text"))
        if parts and "feedback" in parts:  # our own export: <p class="feedback">
            return parts["feedback"]
    return _moodle_text(holder, N_("总解析的 HTML 无法读取：「%(text)s」"), place, result)


def _doctype_line(data: bytes) -> str:
    index = data.find(b"<!DOCTYPE")
    if index < 0:
        return ""
    line = data.count(b"\n", 0, index) + 1
    return _("第 %(n)s 行", n=line)


def read_moodle(data: bytes, lesson: str) -> ReadResult:
    from lxml import etree

    result = ReadResult()
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as exc:
        line = exc.lineno or 0
        result.problem(
            _("第 %(n)s 行", n=line) if line else "", _("XML 格式错误：%(error)s", error=exc.msg)
        )
        return result
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        # Entities are never expanded; a bank file has no use for a DTD, so none is read.
        result.problem(
            _doctype_line(data),
            _(
                "文件含 DOCTYPE 或 ENTITY 声明：Moodle XML 题库不需要它们，为安全起见不予导入"
                "（请删除 <!DOCTYPE …> 部分后重新上传）"
            ),
        )
        return result
    if root.tag != "quiz":
        result.problem("", _("这不是 Moodle XML 题库（根元素应为 <quiz>）"))
        return result
    category: str | None = None
    parts: list[tuple[str | None, RawItem]] = []
    for element in root.iterchildren("question"):
        kind = element.get("type")
        place = _("第 %(n)s 行", n=element.sourceline)
        if kind == "category":
            category = _lesson_category(element.findtext("category/text") or "")
            continue
        if kind not in ("multichoice", "truefalse", "ordering"):
            result.problem(
                place, _("题型 %(kind)s 无法导入（只支持单选、多选、判断和排序）", kind=kind)
            )
            continue
        raw = _moodle_item(element, kind, place, result)
        parts.append((category, RawItem(place, raw, named=not raw["id"])))
    _keep_lesson(parts, lesson, result)
    return result


def _moodle_item(element, kind: str, place: str, result: ReadResult) -> dict:
    scenario, prompt = _moodle_question_text(element, place, result)
    qid = (element.findtext("idnumber") or element.findtext("name/text") or "").strip()
    tags, cites, reviewed = [], [], ""
    for tag in element.findall("tags/tag"):
        value = (tag.findtext("text") or "").strip()
        if value.startswith(CITE_TAG):
            cites.append(value[len(CITE_TAG) :])
        elif value.startswith(REVIEWED_TAG):
            reviewed = value[len(REVIEWED_TAG) :]
        elif value:
            tags.append(value)
    raw: dict[str, Any] = {"id": qid, "cites": cites}  # no id: named by ``read``
    if tags:
        raw["tags"] = tags
    if scenario:
        raw["scenario"] = scenario
    raw["prompt"] = prompt
    if reviewed:
        raw["reviewed_for"] = reviewed
    general = _moodle_general_feedback(element, place, result)
    answers = element.findall("answer")

    def fraction(answer) -> float:
        try:
            return float(answer.get("fraction", "0"))
        except ValueError:
            result.problem(
                place, _("答案的 fraction「%(value)s」不是数字", value=answer.get("fraction"))
            )
            return 0.0

    if kind == "truefalse":
        by_text = {(a.findtext("text") or "").strip().lower(): a for a in answers}
        true_answer = by_text.get("true")
        raw["kind"] = "truefalse"
        if true_answer is None:
            result.problem(place, _("判断题缺少 true 答案"))
            return raw
        raw["answer"] = fraction(true_answer) > 0
        # The explanation is what someone who answered right is told.
        correct = true_answer if raw["answer"] else by_text.get("false")
        feedback = ""
        if correct is not None:
            feedback = _moodle_text(
                correct.find("feedback"),
                N_("判断题解析的 HTML 无法读取：「%(text)s」"),
                place,
                result,
            )
        raw["feedback"] = general or feedback
        return raw
    if kind == "ordering":
        raw["kind"] = "order"
        unreadable = N_("排序步骤的 HTML 无法读取：「%(text)s」")
        raw["steps"] = [_moodle_text(a, unreadable, place, result) for a in answers]
        raw["feedback"] = general
        return raw
    single = (element.findtext("single") or "true").strip().lower() in ("true", "1")
    raw["kind"] = "single" if single else "multiple"
    raw["options"] = [
        {
            "text": _moodle_text(a, N_("选项的 HTML 无法读取：「%(text)s」"), place, result),
            "correct": fraction(a) > 0,
            "feedback": _moodle_text(
                a.find("feedback"), N_("选项解析的 HTML 无法读取：「%(text)s」"), place, result
            ),
        }
        for a in answers
    ]
    if general:
        raw["feedback"] = general
    return raw
