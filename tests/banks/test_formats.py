"""Bank files in every format: round trips on the committed banks and on every kind, and
broken files that name the row or line at fault."""

from __future__ import annotations

import datetime
import hashlib
import io
import zipfile
from fractions import Fraction
from pathlib import Path

import openpyxl
import pytest

from training.banks import formats
from training.quizzes import schema
from training.quizzes.bank import load_banks
from training.quizzes.items import Question, question_to_dict

QUIZ_DIR = Path(__file__).resolve().parents[2] / "quizzes"

RAW = [
    {
        "id": "l42-demo-single",
        "kind": "single",
        "cites": ["4.2.1.2"],
        "tags": ["external", "response"],
        "scenario": "电话响了两声。\n前台只有小王一人:{注意} ~ = # 这些符号也要原样保留。",
        "prompt": "小王拿起电话,第一句话应说什么?",
        "options": [
            {
                "text": "“您好,这里是深圳市正运动技术有限公司。”",
                "correct": True,
                "feedback": "规范4.2.1.2:A:要报公司名。",
            },
            {"text": "“喂,您好,请讲。”", "feedback": "没有报公司名。\n第二行解析。"},
            {"text": "“您好,正运动。”", "feedback": "公司名不完整。"},
        ],
    },
    {
        "id": "l42-demo-multiple",
        "kind": "multiple",
        "cites": ["4.2.1.2", "4.2.1.3"],
        "prompt": "选出所有符合规范的做法。",
        "options": [
            {"text": "三声之内接听", "correct": True, "feedback": "对。"},
            {"text": "报出公司名称", "correct": True, "feedback": "对。"},
            {"text": "先问对方是谁", "feedback": "不对。"},
            {"text": "让铃多响几声再接", "feedback": "不对。"},
        ],
    },
    {
        "id": "l42-demo-tf",
        "kind": "truefalse",
        "cites": ["4.2.1.7"],
        "tags": ["concept"],
        "prompt": "挂电话前应说“再见”。",
        "answer": True,
        "feedback": "规范4.2.1.7。",
    },
    {
        "id": "l42-demo-order",
        "kind": "order",
        "cites": ["4.2.1.4"],
        "prompt": "来访客人到达时你正在通话,按顺序排列。",
        "steps": ["起身", "点头示意", "尽快结束通话或致歉稍后回电", "马上接待客人"],
        "feedback": "规范4.2.1.4 的顺序。",
        "reviewed_for": "0123456789ab",
    },
]


def _questions(raws, lesson="4.2") -> list[Question]:
    questions = []
    for index, raw in enumerate(raws):
        problems: list = []
        question = schema.parse_question(
            raw,
            index=index,
            lesson=lesson,
            clause_numbers=None,
            report=lambda p, m, found=problems: found.append((p, m)),
        )
        assert question is not None, problems
        questions.append(question)
    return questions


def _read_back(fmt: str, data: bytes, lesson: str) -> tuple[list[Question], formats.ReadResult]:
    result = formats.read(fmt, data, lesson)
    assert result.problems == []
    return _questions([item.data for item in result.items], lesson), result


@pytest.mark.parametrize("fmt", formats.FORMATS)
def test_every_kind_round_trips(fmt: str) -> None:
    questions = _questions(RAW)
    data = formats.write(fmt, [("4.2", "电话", questions, Fraction(4, 5))])
    back, result = _read_back(fmt, data, "4.2")
    assert [question_to_dict(q) for q in back] == [question_to_dict(q) for q in questions]
    assert result.lesson == "4.2"
    if fmt == "yaml":
        assert result.pass_mark == Fraction(4, 5)


@pytest.mark.parametrize("fmt", formats.FORMATS)
def test_the_committed_banks_round_trip_one_by_one_and_as_one_file(fmt: str) -> None:
    banks, problems = load_banks(QUIZ_DIR)
    assert not problems
    whole = formats.write(
        fmt, [(n, "", list(b.questions), b.pass_mark) for n, b in sorted(banks.items())]
    )
    for number, bank in banks.items():
        alone = formats.write(fmt, [(number, "", list(bank.questions), bank.pass_mark)])
        for data in (alone, whole):  # a whole-course file is read for one lesson
            back, _ = _read_back(fmt, data, number)
            assert [question_to_dict(q) for q in back] == [
                question_to_dict(q) for q in bank.questions
            ]


MANY = [
    {
        "id": "l42-demo-eight",
        "kind": "single",
        "cites": ["4.2.1.2"],
        "prompt": "八个说法里哪一个符合规范?",
        "options": [
            {"text": f"说法{n}", "correct": n == 8, "feedback": f"解析{n}"} for n in range(1, 9)
        ],
    },
    {
        "id": "l42-demo-seven-right",
        "kind": "multiple",
        "cites": ["4.2.1.2"],
        "prompt": "选出所有符合规范的做法(七对一错)。",
        "options": [
            {"text": f"做法{n}", "correct": n != 3, "feedback": f"解析{n}"} for n in range(1, 9)
        ],
    },
    {
        "id": "l42-demo-nine-steps",
        "kind": "order",
        "cites": ["4.2.1.4"],
        "prompt": "按顺序排列九个步骤。",
        "steps": [f"第{n}步" for n in range(1, 10)],
        "feedback": "顺序。",
    },
]


@pytest.mark.parametrize("fmt", formats.FORMATS)
def test_more_than_six_options_or_steps_round_trip(fmt: str) -> None:
    questions = _questions(MANY + RAW)
    data = formats.write(fmt, [("4.2", "电话", questions, None)])
    back, _ = _read_back(fmt, data, "4.2")
    assert [question_to_dict(q) for q in back] == [question_to_dict(q) for q in questions]


def test_an_order_question_has_at_most_26_steps_as_a_file_names_them_a_to_z() -> None:
    raw = dict(MANY[2], steps=[f"第{n}步" for n in range(1, 28)])
    problems: list = []
    question = schema.parse_question(
        raw, index=0, lesson="4.2", clause_numbers=None, report=lambda p, m: problems.append(m)
    )
    assert question is None
    assert problems == ["too many steps (27)"]


def test_xlsx_adds_option_columns_only_when_a_question_needs_them() -> None:
    wide = formats.write("xlsx", [("4.2", "", _questions(MANY + RAW), None)])
    header = [c.value for c in openpyxl.load_workbook(io.BytesIO(wide))["4.2"][1]]
    assert header[4:13] == [f"选项{letter}" for letter in "ABCDEFGHI"]
    assert header[13:] == list(formats.HEADERS[10:])
    narrow = formats.write("xlsx", [("4.2", "", _questions(RAW), None)])
    header = [c.value for c in openpyxl.load_workbook(io.BytesIO(narrow))["4.2"][1]]
    assert header == list(formats.HEADERS)


def test_xlsx_keeps_formula_like_text_exact_and_never_a_formula() -> None:
    raw = {
        "id": "l42-demo-formula",
        "kind": "single",
        "cites": ["4.2.1.2"],
        "scenario": "+86 的来电。",
        "prompt": "=SUM 是什么?",
        "options": [
            {"text": "-5V 接反", "correct": True, "feedback": "@客户 要说明。"},
            {"text": "=SUM", "feedback": "-不对。"},
            {"text": "'=引号开头", "feedback": "原样。"},
        ],
    }
    questions = _questions([raw])
    data = formats.write("xlsx", [("4.2", "", questions, None)])
    back, _ = _read_back("xlsx", data, "4.2")
    assert [question_to_dict(q) for q in back] == [question_to_dict(q) for q in questions]
    assert back[0].options[0].text == "-5V 接反"
    assert back[0].options[1].text == "=SUM"
    sheet = openpyxl.load_workbook(io.BytesIO(data))["4.2"]
    risky = [c for c in sheet[2] if isinstance(c.value, str) and c.value[:1] in "=+-@"]
    assert {c.value for c in risky} >= {"-5V 接反", "=SUM", "+86 的来电。", "=SUM 是什么?"}
    for cell in risky:
        assert cell.data_type == "s", cell.coordinate
        assert cell.quotePrefix, cell.coordinate  # Excel keeps it text when edited
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = archive.read("xl/worksheets/sheet2.xml").decode("utf-8")
    assert "<f>" not in xml


def test_digest_follows_content_and_order() -> None:
    questions = _questions(RAW)
    assert formats.digest(questions) == formats.digest(_questions(RAW))
    assert formats.digest(questions) != formats.digest(list(reversed(questions)))


def test_xlsx_template_documents_every_column() -> None:
    book = openpyxl.load_workbook(io.BytesIO(formats.blank_template()))
    assert book.sheetnames[0] == "说明"
    documented = {row[0].value for row in book["说明"].iter_rows(min_row=2)}
    for header in formats.HEADERS:
        assert header in documented or header.startswith("选项")
    sheet = book.worksheets[1]
    assert [c.value for c in sheet[1]] == list(formats.HEADERS)


def _sheet(rows: list[list[str]], title: str = "4.2") -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    sheet.append(list(formats.HEADERS))
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _row(**cells: str) -> list[str]:
    return [cells.get(h, "") for h in formats.HEADERS]


def test_xlsx_from_an_exam_tool_reads_chinese_labels_and_names_new_questions() -> None:
    data = _sheet(
        [
            _row(
                题型="单选题",
                题干="接电话的第一句?",
                选项A="喂",
                选项B="您好,这里是公司",
                正确答案="b",
                各选项解析="A:不对\nB:对",
                引用条款="4.2.1.2",
                标签="外部、应对",
            ),
            _row(
                题型="判断",
                题干="挂电话前说再见。",
                正确答案="对",
                各选项解析="规范",
                引用条款="4.2.1.7",
            ),
            _row(
                题型="排序",
                题干="排一排",
                选项A="第二步",
                选项B="第一步",
                选项C="第三步",
                正确答案="B→A→C",
                各选项解析="顺序",
                引用条款="4.2.1.4",
            ),
        ]
    )
    back, _ = _read_back("xlsx", data, "4.2")
    single, tf, order = back
    options = [{"text": "喂"}, {"text": "您好,这里是公司"}]
    assert single.id == formats.new_id("4.2", {"prompt": "接电话的第一句?", "options": options})
    assert single.id.startswith("l42-x")
    assert single.correct_keys() == ("b",)
    assert single.tags == ("external", "response")
    assert [o.feedback for o in single.options] == ["不对", "对"]
    assert tf.answer is True
    assert order.steps == ("第一步", "第二步", "第三步")


def _numeric_clause_sheet(value, number_format: str) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "4.2"
    sheet.append(list(formats.HEADERS))
    sheet.append(
        _row(
            编号="l42-numeric",
            题型="判断",
            题干="挂电话前说再见。",
            正确答案="对",
            各选项解析="规范",
        )
    )
    cell = sheet.cell(row=2, column=formats.HEADERS.index("引用条款") + 1, value=value)
    cell.number_format = number_format
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_clause_typed_as_a_number_keeps_the_decimals_its_cell_shows() -> None:
    result = formats.read("xlsx", _numeric_clause_sheet(4.1, "0.00"), "4.2")
    assert result.problems == []
    assert result.items[0].data["cites"] == ["4.10"]
    result = formats.read("xlsx", _numeric_clause_sheet(4, "General"), "4.2")
    assert result.problems == []
    assert result.items[0].data["cites"] == ["4"]


def test_a_clause_excel_stored_as_a_bare_number_or_a_date_is_refused_by_row() -> None:
    result = formats.read("xlsx", _numeric_clause_sheet(4.1, "General"), "4.2")
    assert [place for place, _ in result.problems] == ["第 2 行"]
    assert "数字单元格" in result.problems[0][1]
    assert "4.10" in result.problems[0][1]  # says why 4.1 cannot be trusted
    when = datetime.datetime(2001, 2, 4)
    result = formats.read("xlsx", _numeric_clause_sheet(when, "yyyy-mm-dd"), "4.2")
    assert [place for place, _ in result.problems] == ["第 2 行"]
    assert "日期" in result.problems[0][1]


def test_the_template_formats_its_columns_as_text() -> None:
    book = openpyxl.load_workbook(io.BytesIO(formats.blank_template()))
    sheet = book.worksheets[1]
    clause = openpyxl.utils.get_column_letter(formats.HEADERS.index("引用条款") + 1)
    assert sheet.column_dimensions[clause].number_format == "@"


def _unnamed(prompt: str, a: str, b: str, **cells: str) -> list[str]:
    return _row(
        题型="单选",
        题干=prompt,
        选项A=a,
        选项B=b,
        正确答案="A",
        各选项解析="A:对\nB:错",
        引用条款="4.2.1.2",
        **cells,
    )


def test_questions_without_ids_get_ids_unique_in_the_file() -> None:
    same = {"prompt": "接电话的第一句?", "options": [{"text": "您好"}, {"text": "喂"}]}
    base = formats.new_id("4.2", same)
    data = _sheet(
        [
            _unnamed("接电话的第一句?", "您好", "喂"),
            _unnamed("接电话的第一句?", "您好,公司", "喂"),  # same prompt, other options
            _unnamed("接电话的第一句?", "您好", "喂"),  # a copy
            _unnamed("另一题", "甲", "乙", 编号=base + "-3"),  # an id the file gives itself
            _unnamed("接电话的第一句?", "您好", "喂"),
        ]
    )
    ids = [item.data["id"] for item in formats.read("xlsx", data, "4.2").items]
    assert len(set(ids)) == len(ids)
    assert ids[0] == base
    assert ids[1].startswith("l42-x")
    assert not ids[1].startswith(base)
    assert ids[2] == base + "-2"
    assert ids[4] == base + "-4"


def test_questions_without_ids_never_take_the_id_of_a_different_question() -> None:
    raw = {"prompt": "接电话的第一句?", "options": [{"text": "您好"}, {"text": "喂"}]}
    base = formats.new_id("4.2", raw)
    data = _sheet([_unnamed("接电话的第一句?", "您好", "喂")])
    other = formats.read("xlsx", data, "4.2", taken={base: "another question"})
    assert other.items[0].data["id"] == base + "-2"
    question = _questions(
        [
            dict(raw, id=base, kind="single", cites=["4.2.1.2"])
            | {
                "options": [
                    {"text": "您好", "correct": True, "feedback": "对"},
                    {"text": "喂", "feedback": "错"},
                ]
            }
        ]
    )[0]
    itself = {base: formats.question_identity(question)}
    assert formats.read("xlsx", data, "4.2", taken=itself).items[0].data["id"] == base
    # Named before options counted (from the text alone): the same question keeps that id.
    legacy = "l42-x" + hashlib.sha256("\n接电话的第一句?".encode()).hexdigest()[:8]
    before = {legacy: formats.question_identity(question)}
    assert formats.read("xlsx", data, "4.2", taken=before).items[0].data["id"] == legacy


def test_broken_xlsx_rows_are_named_and_nothing_is_lost_silently() -> None:
    data = _sheet(
        [
            _row(编号="l42-a", 题型="问答", 题干="x", 引用条款="4.2.1.2", 正确答案="A"),
            _row(
                编号="l42-b",
                题型="单选",
                题干="x",
                选项A="甲",
                选项C="丙",
                正确答案="D",
                引用条款="4.2.1.2",
            ),
            _row(编号="l42-c", 题型="判断", 题干="x", 正确答案="也许", 引用条款="4.2.1.2"),
            _row(
                编号="l42-d",
                题型="排序",
                题干="x",
                选项A="1",
                选项B="2",
                选项C="3",
                正确答案="AB",
                引用条款="4.2.1.2",
            ),
            _row(
                编号="l42-e",
                题型="单选",
                题干="x",
                选项A="甲",
                选项B="乙",
                正确答案="A",
                引用条款="4.2.1.2",
                标签="重要",
            ),
        ]
    )
    result = formats.read("xlsx", data, "4.2")
    places = {place for place, _ in result.problems}
    assert places == {"第 2 行", "第 3 行", "第 4 行", "第 5 行", "第 6 行"}
    text = " ".join(message for _, message in result.problems)
    assert "题型「问答」" in text
    assert "选项B为空" in text
    assert "「D」" in text
    assert "也许" in text
    assert "各列一次" in text
    assert "标签「重要」" in text


def test_xlsx_without_the_template_columns_or_not_a_workbook() -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["题目", "答案"])
    out = io.BytesIO()
    book.save(out)
    result = formats.read("xlsx", out.getvalue(), "4.2")
    assert result.problems[0][0] == "第 1 行"
    assert "缺少列" in result.problems[0][1]
    assert "损坏" in formats.read("xlsx", b"not a zip", "4.2").problems[0][1]


def test_broken_yaml_names_the_line() -> None:
    result = formats.read("yaml", b"lesson: '4.2'\nquestions:\n  - id: [\n", "4.2")
    assert result.problems
    assert result.problems[0][0].startswith("第 ")
    assert "UTF-8" in formats.read("yaml", "题".encode("gbk"), "4.2").problems[0][1]


SPECIAL = ["~", "=", "#", "{", "}", ":", "\\", "\\n", "->", "####", "//", "%50%", "[html]"]


def _special(text: str) -> str:
    """``text`` with every GIFT special character and sequence, at the start and inside."""
    return "".join(f"{mark}{text}{n}" for n, mark in enumerate(SPECIAL))


@pytest.mark.parametrize("fmt", formats.FORMATS)
def test_every_special_character_in_every_text_round_trips(fmt: str) -> None:
    """GIFT escapes each of \\ ~ = # { } : and marks texts that would read as a format or a
    weight; the other formats keep them as they are."""
    raws = [
        {
            "id": "l42-gift-paragraphs",
            "kind": "single",
            "cites": ["4.2.1.2"],
            "scenario": "情境\n\n第二段情境",
            "prompt": "第一段题干\n\n第二段题干:{}",
            "options": [
                {"text": "甲 < 乙 & 丙", "correct": True, "feedback": "<b>不是标签</b>"},
                {"text": "&amp; 原样", "feedback": "解析"},
            ],
        },
        {
            "id": "l42-gift-no-scenario",
            "kind": "truefalse",
            "cites": ["4.2.1.7"],
            "prompt": "第一段\n\n第二段",
            "answer": True,
            "feedback": "解析",
        },
        {
            "id": "l42-gift-single",
            "kind": "single",
            "cites": ["4.2.1.2"],
            "scenario": _special("情境"),
            "prompt": _special("题干") + "\u2028行分隔符",
            "options": [
                {"text": _special("甲"), "correct": True, "feedback": _special("甲解析")},
                {"text": "%10% 的客户", "feedback": "[plain]不是格式"},
                {"text": "[moodle]丙", "feedback": "~开头"},
            ],
            "feedback": _special("总解析"),
        },
        {
            "id": "l42-gift-multiple",
            "kind": "multiple",
            "cites": ["4.2.1.2"],
            "prompt": "[markdown] 选出所有 {正确} 的",
            "options": [
                {"text": _special("一"), "correct": True, "feedback": "=对"},
                {"text": "%100%二", "correct": True, "feedback": "#对"},
                {"text": "三 -> 四", "feedback": "错:"},
            ],
        },
        {
            "id": "l42-gift-tf",
            "kind": "truefalse",
            "cites": ["4.2.1.7"],
            "prompt": "T",
            "answer": False,
            "feedback": _special("判断解析"),
        },
        {
            "id": "l42-gift-order",
            "kind": "order",
            "cites": ["4.2.1.4"],
            "prompt": _special("排序"),
            "steps": [_special("起身"), "[html]<b>点头</b>", "a -> 2", "%5%致歉"],
            "feedback": _special("排序解析"),
        },
    ]
    questions = _questions(raws)
    data = formats.write(fmt, [("4.2", "标题:{}\n第二行", questions, None)])
    back, _ = _read_back(fmt, data, "4.2")
    assert [question_to_dict(q) for q in back] == [question_to_dict(q) for q in questions]


def test_gift_format_marks_are_read_and_html_becomes_text() -> None:
    text = (
        "// [id:l42-marks] [tag:cite:4.2.1.2]\n"
        "::l42-marks::[html]<p>电话响了。</p><p>第一句 &amp; <b>说什么</b>?"
        "<script>alert(1)</script></p>{\n"
        "=[html]<b>您好</b>,这里是公司#[plain]要报公司名\n"
        "~[markdown]**喂**#[moodle]没有报公司名\n"
        "~ [plain] [plain]方括号#[html]不对<br>第二行\n"
        "####[html]<p>规范 4.2.1.2</p>\n"
        "}\n"
        "\n"
        "// [id:l42-marks-tf] [tag:cite:4.2.1.7]\n"
        "::l42-marks-tf::[moodle]挂电话前说再见。{T#[html]<i>错</i>#[html]<i>对</i>}\n"
    )
    back, _ = _read_back("gift", text.encode(), "4.2")
    single, tf = back
    assert single.scenario == "电话响了。"
    assert single.prompt == "第一句 & 说什么?"
    assert [o.text for o in single.options] == ["您好,这里是公司", "**喂**", "[plain]方括号"]
    assert [o.feedback for o in single.options] == ["要报公司名", "没有报公司名", "不对\n第二行"]
    assert single.feedback == "规范 4.2.1.2"
    assert tf.prompt == "挂电话前说再见。"
    assert tf.feedback == "对"


def test_gift_html_that_cannot_be_read_is_refused_by_line() -> None:
    text = "// [id:l42-bad]\n\n::l42-bad::题目{=[html]对\x01的 ~错}\n"
    result = formats.read("gift", text.encode(), "4.2")
    assert [place for place, _ in result.problems] == ["第 3 行"]
    assert "[html]" in result.problems[0][1]


def test_broken_gift_names_the_line() -> None:
    text = "// [id:l42-a]\n::l42-a::没有答案的题目\n\n::l42-b::题目{=对 ~错\n"
    result = formats.read("gift", text.encode(), "4.2")
    assert [place for place, _ in result.problems] == ["第 2 行", "第 4 行"]


def test_broken_moodle_xml_names_the_line_and_refuses_entities() -> None:
    result = formats.read("moodle", b"<quiz>\n<question type='essay'>\n</question>\n</quiz>", "4.2")
    assert result.problems == [("第 2 行", "题型 essay 无法导入（只支持单选、多选、判断和排序）")]
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE quiz [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><quiz><question type="truefalse">'
        b"<questiontext><text>&b;</text></questiontext></question></quiz>"
    )
    result = formats.read("moodle", bomb, "4.2")
    assert result.items == []
    assert [place for place, _ in result.problems] == ["第 1 行"]
    assert "DOCTYPE" in result.problems[0][1]
    assert "aaaaaaaaaa" not in result.problems[0][1]
    external = b'<?xml version="1.0"?>\n<!DOCTYPE quiz SYSTEM "http://example.com/q.dtd">\n<quiz/>'
    result = formats.read("moodle", external, "4.2")
    assert result.items == []
    assert [place for place, _ in result.problems] == ["第 2 行"]
    assert "XML" in formats.read("moodle", b"<quiz><question>", "4.2").problems[0][1]


MOODLE_FORMATS = """<?xml version="1.0" encoding="UTF-8"?>
<quiz>
  <question type="multichoice">
    <name><text>l42-formats</text></name>
    <questiontext format="plain_text"><text>来电者说 a <b> & c。

第一句说什么?</text></questiontext>
    <generalfeedback format="markdown"><text>**规范** 4.2.1.2</text></generalfeedback>
    <single>true</single>
    <answer fraction="100" format="markdown"><text>**您好**,这里是公司</text>
      <feedback format="html"><text><![CDATA[<p>要报</p><p>公司名</p>]]></text></feedback>
    </answer>
    <answer fraction="0" format="moodle_auto_format"><text>喂 <i>不是标签</i></text>
      <feedback><text><![CDATA[没有报<br>公司名 &amp; 部门]]></text></feedback>
    </answer>
    <tags><tag><text>cite:4.2.1.2</text></tag></tags>
  </question>
  <question type="truefalse">
    <name><text>l42-formats-tf</text></name>
    <questiontext format="html"><text><![CDATA[<p>挂电话前<b>不必</b>说再见。</p>]]></text></questiontext>
    <answer fraction="0"><text>true</text><feedback format="plain_text"><text>答错了</text></feedback></answer>
    <answer fraction="100"><text>false</text><feedback format="plain_text"><text>规范 4.2.1.7 要说再见。</text></feedback></answer>
    <tags><tag><text>cite:4.2.1.7</text></tag></tags>
  </question>
</quiz>
"""


def test_moodle_xml_text_formats_are_honoured() -> None:
    data = MOODLE_FORMATS.replace("a <b> & c", "a &lt;b&gt; &amp; c").replace(
        "<i>不是标签</i>", "&lt;i&gt;不是标签&lt;/i&gt;"
    )
    back, _ = _read_back("moodle", data.encode(), "4.2")
    single, tf = back
    assert single.scenario == "来电者说 a <b> & c。"
    assert single.prompt == "第一句说什么?"
    assert single.feedback == "**规范** 4.2.1.2"
    assert [o.text for o in single.options] == ["**您好**,这里是公司", "喂 <i>不是标签</i>"]
    assert [o.feedback for o in single.options] == ["要报\n\n公司名", "没有报\n公司名 & 部门"]
    assert tf.prompt == "挂电话前不必说再见。"
    assert tf.answer is False
    assert tf.feedback == "规范 4.2.1.7 要说再见。"  # the correct answer's, not the wrong one's


def test_a_file_for_another_lesson_or_without_this_one() -> None:
    questions = _questions(RAW)
    whole = formats.write("gift", [("4.1", "", questions[:1], None), ("4.2", "", questions, None)])
    assert len(formats.read("gift", whole, "4.2").items) == len(questions)
    missing = formats.read("gift", whole, "3.3")
    assert missing.problems
    assert "没有第 3.3 课" in missing.problems[0][1]
    single = formats.write("moodle", [("4.1", "", questions, None)])
    assert formats.read("moodle", single, "4.2").lesson == "4.1"


def test_oversized_files_are_refused_before_reading() -> None:
    result = formats.read("yaml", b"#" * (formats.MAX_BYTES + 1), "4.2")
    assert result.items == []
    assert "MB" in result.problems[0][1]
