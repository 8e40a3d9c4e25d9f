"""Planning a revision of the norm: parse, compare, regenerate; nothing is written here."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from pathlib import Path

from flask_babel import gettext as _
from markupsafe import escape
from sqlalchemy import select

from training.banks.services import overlay_authored
from training.content.generated import (
    DISTRACTORS_FILE,
    generated_banks,
    lesson_map,
    load_distractors,
)
from training.content.impact import LessonImpact, lesson_impact
from training.content.lessons import generate_lessons, plan_lessons
from training.content.outline import OUTLINE_FILE, load_outline
from training.content.render import render_lesson_body
from training.content.summaries import SUMMARIES_FILE, Summaries, SummaryError, load_summaries
from training.course.models import NormVersion, VersionStatus
from training.extensions import db
from training.lessons.markdown import render_lesson_html
from training.lessons.services import lesson_values
from training.norm.diff import (
    NormDiff,
    changed_clauses,
    diff_norms,
    removed_clauses,
    render_html,
    renumbered_clauses,
)
from training.norm.model import NormDocument
from training.norm.parse import parse_bytes
from training.quizzes.bank import load_banks
from training.quizzes.items import Question


@dataclass(frozen=True)
class FlaggedItem:
    """A quiz item whose cited clause changed (held at publish); ``blocking``: cites nothing."""

    path: str
    question_id: str
    clause: str
    reason: str
    blocking: bool
    title: str = ""  # scenario and prompt, as HR knows the item


@dataclass
class RevisionPlan:
    """Everything publishing needs, computed without writing anything."""

    doc: NormDocument
    data: bytes
    filename: str
    label: str
    effective_date: date
    old_version: NormVersion | None
    old_doc: NormDocument | None
    diff: NormDiff | None
    impact: LessonImpact | None
    lessons: list[dict]
    supersedes: dict[str, str]
    revision_html: dict[str, str]
    questions: dict[str, list[Question]]
    pass_marks: dict[str, Fraction]
    flagged: list[FlaggedItem] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    # Per superseding lesson: its text with the changed clauses marked, and their numbers.
    revision_marks: dict[str, tuple[str, dict[str, list[str]]]] = field(default_factory=dict)
    # Per lesson: clauses whose 要点 were reviewed against an older text (shown as "待复核").
    stale_summaries: dict[str, list[str]] = field(default_factory=dict)

    @property
    def blocked(self) -> bool:
        """Return True if publishing must wait until the problems are fixed."""
        return bool(self.problems) or any(item.blocking for item in self.flagged)

    @property
    def changes(self) -> dict:
        """Return the clause changes stored with the published version."""
        if self.diff is None:
            return {"changed": [], "removed": [], "renumbered": {}, "lessons": []}
        return {
            "changed": sorted(changed_clauses(self.diff) - removed_clauses(self.diff)),
            "removed": sorted(removed_clauses(self.diff)),
            "renumbered": renumbered_clauses(self.diff),
            "lessons": sorted(self.supersedes),
        }


def _raw_texts(doc: NormDocument) -> dict[str, str]:
    return {s.number: s.title + s.body for s in doc.walk()}


def parse_revision(
    data: bytes, filename: str, titles: Mapping[str, str], old_data: bytes | None
) -> NormDocument:
    """Parse a revised norm, keeping only the title overrides that still fit.

    An override is kept where the section's text starts with it (the text
    gives no boundary) or where the section reads exactly as in the previous
    version (``old_data``), compared before any override is applied.
    """
    plain = _raw_texts(parse_bytes(data, filename=filename))
    old_plain = _raw_texts(parse_bytes(old_data, filename="previous")) if old_data else {}
    fitting = {
        number: title
        for number, title in titles.items()
        if number in plain
        and (plain[number].startswith(title) or old_plain.get(number) == plain[number])
    }
    return parse_bytes(data, filename=filename, title_overrides=fitting)


def _clause_lesson(number: str, lessons: list[str]) -> str | None:
    matches = [n for n in lessons if number == n or number.startswith(n + ".")]
    return max(matches, key=len, default=None)


def _revision_notes(diff: NormDiff, impact: LessonImpact, lessons: list[str]) -> dict[str, str]:
    """Return, per new lesson number, an HTML list of its clause changes.

    The list is stored with the lesson and shown with its text: content, Chinese in every
    language like the lesson itself (its labels are not translated).
    """
    notes: dict[str, list[str]] = {}
    old_to_new = {c.old_number: c.new_number for c in impact.lessons if c.old_number}
    for change in diff.changes:
        if change.kind == "removed":
            old_lesson = next(
                (
                    c.old_number
                    for c in (*impact.lessons, *impact.removed)
                    if c.old_number and change.old_number in c.removed_numbers
                ),
                None,
            )
            target = old_to_new.get(old_lesson) if old_lesson else None
            label = f"删除 {change.old_number}"
        elif change.kind in ("changed", "added"):
            target = _clause_lesson(change.new_number or "", lessons)
            label = ("修改 " if change.kind == "changed" else "新增 ") + (change.new_number or "")
        else:
            continue
        if target is None:
            continue
        body = render_html(change.segments())
        notes.setdefault(target, []).append(
            f"<li><strong>{escape(label)}</strong> {escape(change.new_title or change.old_title or '')}"
            f'<div class="revision-text">{body}</div></li>'
        )
    # Every piece above is escaped or produced by render_html.
    return {
        number: '<ul class="revision">' + "".join(items) + "</ul>"
        for number, items in notes.items()
    }


def _revision_marks(
    doc: NormDocument,
    old_doc: NormDocument,
    impact: LessonImpact,
    supersedes: Mapping[str, str],
    lesson_level: int,
    summaries: Summaries,
) -> dict[str, tuple[str, dict[str, list[str]]]]:
    """Return, per lesson that supersedes one, its HTML with each changed or added clause
    marked against the old text and the deleted ones listed, and those clauses' numbers
    ({"changed": new numbers, "removed": old numbers})."""
    planned = {lesson.number: lesson for lesson in plan_lessons(doc, lesson_level)}
    result: dict[str, tuple[str, dict[str, list[str]]]] = {}
    for change in impact.content_changed():
        lesson = planned.get(change.new_number or "")
        if lesson is None or lesson.number not in supersedes:
            continue
        marks = {
            c.new_number: old_doc.find(c.old_number) if c.old_number else None
            for c in change.clauses
            if c.new_number and c.kind in ("changed", "added")
        }
        removed = [
            section
            for c in change.clauses
            if c.kind == "removed" and c.old_number
            if (section := old_doc.find(c.old_number)) is not None
        ]
        if marks or removed:
            body = render_lesson_body(lesson, summaries.get(lesson.number), marks, removed)
            numbers = {"changed": list(marks), "removed": [s.number for s in removed]}
            result[lesson.number] = (render_lesson_html(body), numbers)
    return result


def _stale_summaries(doc: NormDocument, lesson_level: int, summaries: Summaries) -> dict:
    """Return {lesson number: clauses its 要点 cite whose text changed since review}."""
    found: dict[str, list[str]] = {}
    for lesson in plan_lessons(doc, lesson_level):
        hashes = {s.number: s.hash for s in lesson.covered}
        stale = {
            c for point in summaries.get(lesson.number, ()) for c in point.stale_clauses(hashes)
        }
        if stale:
            found[lesson.number] = sorted(stale)
    return found


def _summaries(content_dir: Path) -> Summaries:
    """Return the lessons' 要点; a broken file shows none (`flask content check` names it)."""
    try:
        return load_summaries(content_dir / SUMMARIES_FILE)
    except SummaryError:
        return {}


def _generated_questions(
    doc: NormDocument, quiz_dir: Path, lessons: list[str], label: str, problems: list[str]
) -> dict[str, list[Question]]:
    try:
        distractors = load_distractors(quiz_dir / DISTRACTORS_FILE)
        texts = generated_banks(doc, distractors, lesson_map(doc, lessons), source=label)
    except ValueError as error:
        problems.append(_("生成题目失败：%(error)s", error=error))
        return {}
    clauses = {s.number for s in doc.walk()}
    with tempfile.TemporaryDirectory() as folder:
        for lesson, text in texts.items():
            (Path(folder) / f"{lesson}.yaml").write_text(text, "utf-8")
        banks, found = load_banks(Path(folder), clause_numbers=clauses, lesson_numbers=set(lessons))
    problems.extend(
        _("生成的题目有误：%(place)s：%(message)s", place=p.place, message=p.message) for p in found
    )
    return {lesson: list(bank.questions) for lesson, bank in banks.items()}


def plan_revision(
    data: bytes,
    *,
    filename: str,
    label: str,
    effective_date: date,
    old_version: NormVersion | None,
    old_data: bytes | None,
    content_dir: Path,
    quiz_dir: Path,
) -> RevisionPlan:
    """Compare a revised norm with the version in force and prepare its lessons and quizzes.

    Raises NormParseError for input that is not a usable norm; everything
    else that stands in the way of publishing is listed in ``problems`` or
    in blocking ``flagged`` items.
    """
    outline = load_outline(content_dir / OUTLINE_FILE)
    old_doc = None
    if old_data is not None:
        # The version in force was built with every override that names one of its sections.
        old_doc = parse_revision(old_data, "previous", outline.titles, old_data)
    doc = parse_revision(data, filename, outline.titles, old_data)
    problems: list[str] = []
    same = db.session.scalar(
        select(NormVersion).where(
            NormVersion.source_sha256 == doc.source_sha256,
            NormVersion.status.in_([VersionStatus.PUBLISHED, VersionStatus.SUPERSEDED]),
        )
    )
    if same is not None:
        problems.append(
            _(
                "上传的文件与已有版本「%(version)s」完全相同；"
                "如需恢复旧版本的内容，请在文件中做出修订后再导入。",
                version=same.label or same.source_name,
            )
        )
    lesson_numbers = [lesson.number for lesson in plan_lessons(doc, outline.lesson_level)]
    summaries = _summaries(content_dir)
    lessons = [
        lesson_values(name, text)
        for name, text in generate_lessons(
            doc, source=filename, lesson_level=outline.lesson_level, summaries=summaries
        ).items()
    ]
    diff = impact = None
    supersedes: dict[str, str] = {}
    notes: dict[str, str] = {}
    marks: dict[str, tuple[str, dict[str, list[str]]]] = {}
    if old_doc is not None:
        diff = diff_norms(old_doc, doc)
        impact = lesson_impact(old_doc, doc, outline.lesson_level, diff=diff)
        supersedes = {
            c.new_number: c.old_number
            for c in impact.lessons
            if c.content_changed and c.new_number and c.old_number
        }
        notes = _revision_notes(diff, impact, lesson_numbers)
        marks = _revision_marks(doc, old_doc, impact, supersedes, outline.lesson_level, summaries)

    clauses = {s.number for s in doc.walk()}
    authored, bank_problems = load_banks(quiz_dir, clause_numbers=None, lesson_numbers=None)
    problems.extend(str(p) for p in bank_problems)
    # Banks HR published in the browser stay in force through a revision of the norm.
    authored = overlay_authored(authored, lesson_numbers)
    flagged: list[FlaggedItem] = []
    questions: dict[str, list[Question]] = {}
    changed = changed_clauses(diff) if diff else set()
    removed = removed_clauses(diff) if diff else set()
    moved = renumbered_clauses(diff) if diff else {}
    for lesson, bank in authored.items():
        if lesson not in lesson_numbers:
            problems.append(
                _(
                    "%(file)s：新版本中没有第 %(lesson)s 课，题库需要调整。",
                    file=bank.path.name,
                    lesson=lesson,
                )
            )
            continue
        questions[lesson] = list(bank.questions)
        for question in bank.questions:
            for clause in question.cites:
                reason = None
                blocking = False
                # Items citing a removed, changed or renumbered clause are held back from
                # draws at publish until HR reviews them (quizzes.holds); an item citing
                # a clause that exists in neither version is a mistake that blocks.
                if clause in removed:
                    reason = _("所引条款 %(clause)s 在新版本中已删除", clause=clause)
                elif diff is None and clause not in clauses:
                    reason = _("所引条款 %(clause)s 在新版本中已删除", clause=clause)
                    blocking = True
                elif clause in changed:
                    reason = _("所引条款 %(clause)s 的内容已修改", clause=clause)
                elif clause in moved:
                    reason = _(
                        "所引条款 %(clause)s 已改编号为 %(number)s",
                        clause=clause,
                        number=moved[clause],
                    )
                elif clause not in clauses:
                    reason = _("所引条款 %(clause)s 在新版本中不存在", clause=clause)
                    blocking = True
                if reason:
                    flagged.append(
                        FlaggedItem(
                            bank.path.name, question.id, clause, reason, blocking, question.title()
                        )
                    )
    for lesson, generated in _generated_questions(
        doc, quiz_dir, lesson_numbers, filename, problems
    ).items():
        questions.setdefault(lesson, []).extend(generated)
    return RevisionPlan(
        doc=doc,
        data=data,
        filename=filename,
        label=label,
        effective_date=effective_date,
        old_version=old_version,
        old_doc=old_doc,
        diff=diff,
        impact=impact,
        lessons=lessons,
        supersedes=supersedes,
        revision_html=notes,
        questions=questions,
        pass_marks={lesson: bank.pass_mark for lesson, bank in authored.items() if bank.pass_mark},
        flagged=flagged,
        problems=problems,
        revision_marks=marks,
        stale_summaries=_stale_summaries(doc, outline.lesson_level, summaries),
    )
