"""The course as a SCORM 1.2 package: one SCO per lesson, its text and its quiz.

Each SCO is a static page: the lesson's HTML as stored at sync, then a quiz drawn in the
browser from the lesson's bank in force (withdrawn questions left out), with the feedback
of each option after submitting. It reports to the LMS through the SCORM 1.2 API it finds
in a parent or opener window: ``cmi.core.lesson_status`` (passed or failed against the
lesson's pass mark; ``completed`` once read when the LMS gives no mastery score),
``cmi.core.score.raw/min/max`` and one ``cmi.interactions.n`` per question. Nothing is
fetched at run time: the page, its script and its style are all in the zip.
"""

from __future__ import annotations

import html
import io
import json
import zipfile
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from xml.sax.saxutils import quoteattr

from training.banks import services
from training.content.text import unwrap
from training.course.models import Lesson
from training.quizzes.grading import required_correct
from training.quizzes.items import Question

ASSETS = Path(__file__).resolve().parent / "scorm_assets"
IDENTIFIER = "zmotion-service-norm"


def _sco_name(lesson: Lesson) -> str:
    return f"lesson-{lesson.number.replace('.', '-')}"


def _question_json(question: Question) -> dict:
    return {
        "id": question.id,
        "kind": question.kind,
        "scenario": unwrap(question.scenario),
        "prompt": unwrap(question.prompt),
        "options": [
            {
                "key": o.key,
                "text": unwrap(o.text),
                "correct": o.correct,
                "feedback": unwrap(o.feedback),
            }
            for o in question.options
        ],
        "feedback": unwrap(question.feedback),
        "cites": list(question.cites),
    }


def _page(lesson: Lesson, questions: Sequence[Question], size: int, mark: Fraction) -> str:
    drawn = min(size, len(questions))
    quiz = {
        "lesson": lesson.number,
        "size": drawn,
        "needed": required_correct(mark, drawn) if drawn else 0,
        "mastery": int(mark * 100),
        "questions": [_question_json(q) for q in questions],
    }
    data = json.dumps(quiz, ensure_ascii=False).replace("</", "<\\/")
    title = html.escape(f"{lesson.number} {lesson.title}")
    return f"""<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="../shared/sco.css">
</head>
<body>
<main>
<h1>{title}</h1>
<article class="lesson">{lesson.body_html}</article>
<section id="quiz" aria-labelledby="quiz-title">
<h2 id="quiz-title">本课测验</h2>
<p class="rule">需答对 {quiz["size"]} 题中的 {quiz["needed"]} 题。</p>
<form id="quiz-form"></form>
<p id="quiz-result" role="status"></p>
</section>
</main>
<script type="application/json" id="quiz-data">{data}</script>
<script src="../shared/sco.js"></script>
</body>
</html>
"""


def _manifest(lessons: Sequence[Lesson], masteries: dict[str, int]) -> str:
    items, resources = [], []
    for lesson in lessons:
        name = _sco_name(lesson)
        title = html.escape(f"{lesson.number} {lesson.title}")
        items.append(
            f'      <item identifier="item-{name}" identifierref="res-{name}">\n'
            f"        <title>{title}</title>\n"
            f"        <adlcp:masteryscore>{masteries[lesson.number]}</adlcp:masteryscore>\n"
            "      </item>"
        )
        resources.append(
            f'    <resource identifier="res-{name}" type="webcontent" adlcp:scormtype="sco" '
            f'href="{name}/index.html">\n'
            f'      <file href="{name}/index.html"/>\n'
            '      <dependency identifierref="shared"/>\n'
            "    </resource>"
        )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier={quoteattr(IDENTIFIER)} version="1.0"
    xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2"
    xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xsi:schemaLocation="http://www.imsproject.org/xsd/imscp_rootv1p1p2 imscp_rootv1p1p2.xsd
      http://www.imsglobal.org/xsd/imsmd_rootv1p2p1 imsmd_rootv1p2p1.xsd
      http://www.adlnet.org/xsd/adlcp_rootv1p2 adlcp_rootv1p2.xsd">
  <metadata>
    <schema>ADL SCORM</schema>
    <schemaversion>1.2</schemaversion>
  </metadata>
  <organizations default="course">
    <organization identifier="course">
      <title>公司服务规范培训</title>
{chr(10).join(items)}
    </organization>
  </organizations>
  <resources>
{chr(10).join(resources)}
    <resource identifier="shared" type="webcontent" adlcp:scormtype="asset">
      <file href="shared/sco.js"/>
      <file href="shared/sco.css"/>
    </resource>
  </resources>
</manifest>
"""


def build_package(quiz_size: int, default_mark: Fraction) -> bytes:
    """Return the zip of the course as it is in force now."""
    lessons = services.active_lessons()
    banks = {
        number: questions
        for number, _title, questions, _mark in services.export_banks(
            lessons, include_withdrawn=False
        )
    }
    out = io.BytesIO()
    masteries: dict[str, int] = {}
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for lesson in lessons:
            mark = services.pass_mark_of(lesson) or default_mark
            masteries[lesson.number] = int(mark * 100)
            page = _page(lesson, banks[lesson.number], quiz_size, mark)
            archive.writestr(f"{_sco_name(lesson)}/index.html", page)
        archive.writestr("imsmanifest.xml", _manifest(lessons, masteries))
        for asset in ("sco.js", "sco.css"):
            archive.write(ASSETS / asset, f"shared/{asset}")
    return out.getvalue()
