"""The banks in force, exports, and imports: preview (writes nothing), then publish.

A lesson's bank in force is its active authored questions in the database. They come from
``quizzes/<lesson>.yaml`` through ``flask content sync`` until HR publishes a bank for the
lesson (browser or CLI); from then on that publication wins over the repository file, and
``sync`` says so, until the repository holds the same questions again (after ``flask content
export-banks`` and a commit) or someone runs ``sync --repository-wins LESSON``. Either is
recorded as a publication with ``source = repository``, and the file rules again.
"""

from __future__ import annotations

import hashlib
import secrets
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, select, text

from training.audit.services import record
from training.auth.models import User
from training.banks import formats
from training.banks.models import BankDraft, BankPublication, BankSource
from training.course.models import Lesson
from training.course.versions import current_norm_version
from training.db import utcnow
from training.extensions import db
from training.i18n import N_
from training.norm.model import NormDocument
from training.norm.parse import parse_bytes
from training.quizzes import holds, schema
from training.quizzes.cues import citable_clauses, clause_texts, course_cues
from training.quizzes.items import Bank, Question, question_from_dict, question_to_dict
from training.quizzes.models import QuizQuestion
from training.quizzes.services import sync_questions

DRAFT_MAX_AGE = timedelta(hours=24)
_BANKS_LOCK = zlib.crc32(b"banks_in_force")  # advisory lock key (PostgreSQL)
DRAFTS_PER_USER = 10  # uploads kept per person; older ones go, so uploads cannot fill the database


# --- the banks in force ----------------------------------------------------------------------


def active_lessons() -> list[Lesson]:
    """Return the course's lessons in order."""
    return list(
        db.session.scalars(select(Lesson).where(Lesson.active.is_(True)).order_by(Lesson.position))
    )


def questions_in_force(
    lessons: Sequence[Lesson], *, generated: bool = False
) -> dict[int, list[Question]]:
    """Return each lesson's active questions in bank order, authored (or generated) only.

    One statement for any number of lessons.
    """
    found: dict[int, list[Question]] = {lesson.id: [] for lesson in lessons}
    rows = db.session.execute(
        select(QuizQuestion.lesson_id, QuizQuestion.data)
        .where(
            QuizQuestion.active.is_(True),
            QuizQuestion.generated.is_(generated),
            QuizQuestion.lesson_id.in_(list(found)),
        )
        .order_by(QuizQuestion.lesson_id, QuizQuestion.position)
    )
    for lesson_id, data in rows:
        found[lesson_id].append(question_from_dict(data))
    return found


def pass_mark_of(lesson: Lesson) -> Fraction | None:
    """Return the lesson's own pass mark, or None when the configured default applies."""
    return Fraction(lesson.quiz_pass_mark) if lesson.quiz_pass_mark else None


def export_banks(
    lessons: Sequence[Lesson], *, include_withdrawn: bool
) -> list[tuple[str, str, list[Question], Fraction | None]]:
    """Return (number, title, questions, pass mark) for each lesson, as the writers take them.

    Questions HR withdrew after a revision are left out of files for other systems; the
    repository copy (``include_withdrawn``) keeps them, so it equals the bank in force.
    """
    by_lesson = questions_in_force(lessons)
    withdrawn = set() if include_withdrawn else _withdrawn()
    return [
        (
            lesson.number,
            lesson.title,
            [q for q in by_lesson[lesson.id] if q.id not in withdrawn],
            pass_mark_of(lesson),
        )
        for lesson in lessons
    ]


def _withdrawn() -> set[str]:
    return {qid for qid, state in holds.question_states().items() if state == holds.WITHDRAWN}


def export_file(fmt: str, lessons: Sequence[Lesson]) -> bytes:
    """Return the banks of these lessons as one file of a format (audited by the caller)."""
    return formats.write(fmt, export_banks(lessons, include_withdrawn=False))


def latest_publications() -> dict[str, BankPublication]:
    """Return the latest publication of each lesson that has one (one statement)."""
    latest = select(func.max(BankPublication.id)).group_by(BankPublication.lesson).scalar_subquery()
    rows = db.session.scalars(select(BankPublication).where(BankPublication.id.in_(latest)))
    return {row.lesson: row for row in rows}


def uploaded_in_force() -> dict[str, BankPublication]:
    """Return, by lesson, the publications from an upload that still win over the repository."""
    return {
        lesson: pub
        for lesson, pub in latest_publications().items()
        if pub.source == BankSource.UPLOAD
    }


def published_questions(publication: BankPublication) -> list[Question]:
    """Return the questions a publication holds."""
    return [question_from_dict(data) for data in publication.questions]


@dataclass
class KeptBank:
    """A lesson whose published bank stayed in force although its repository file differs."""

    lesson: str
    publication: BankPublication
    pass_mark_only: bool = False  # the file has the same questions, another pass mark

    def describe(self) -> str:
        pub = self.publication
        who = pub.actor_id and db.session.get(User, pub.actor_id)
        by = f"{who.name}({who.employee_no})" if who else _("命令行")
        when = pub.created_at.strftime("%Y-%m-%d %H:%M")
        differs = (
            f"quizzes/{self.lesson}.yaml has the same questions but pass mark "
            f"differs from the published {pub.pass_mark or 'default'}"
            if self.pass_mark_only
            else f"quizzes/{self.lesson}.yaml differs"
        )
        return (
            f"lesson {self.lesson}: the bank published on {when} UTC by {by} "
            f"({pub.filename or 'CLI'}) stays in force; {differs}. "
            "Run `flask content export-banks --out quizzes/` and commit it, or "
            f"`flask content sync --repository-wins {self.lesson}` to load the file instead."
        )


def lock_banks() -> None:
    """Serialise everything that decides which bank is in force: publications from the
    browser and `flask content sync` (PostgreSQL: one advisory lock for the transaction;
    SQLite: both run under the write lock, taken at their transaction's start)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _BANKS_LOCK})


def _same_mark(publication: BankPublication, mark: Fraction | None) -> bool:
    return (Fraction(publication.pass_mark) if publication.pass_mark else None) == mark


def overlay_on_repository(
    by_lesson: Mapping[str, list[Question]], marks: Mapping[str, Fraction], *, record_catch_up: bool
) -> tuple[dict[str, list[Question]], dict[str, Fraction], list[KeptBank]]:
    """Put published banks in place of repository banks that differ from them.

    ``by_lesson`` holds the repository's authored and generated questions by lesson; the
    generated drills always come from the repository. Where the repository's authored
    questions and pass mark equal a publication's, the repository has caught up: with
    ``record_catch_up`` that is recorded (flush), and the file rules from then on. A file
    with the same questions but another pass mark has not caught up: the published bank
    and its pass mark stay, and the report says the pass mark differs.
    """
    result = {lesson: list(questions) for lesson, questions in by_lesson.items()}
    result_marks = dict(marks)
    kept: list[KeptBank] = []
    for lesson, pub in uploaded_in_force().items():
        if lesson not in result:
            continue  # the lesson is gone from the course; the repository decides
        authored = [q for q in result[lesson] if not q.generated]
        same_questions = formats.digest(authored) == pub.digest
        if same_questions and _same_mark(pub, marks.get(lesson)):
            if record_catch_up:
                _publish_row(lesson, authored, marks.get(lesson), BankSource.REPOSITORY, {})
            continue
        generated = [q for q in result[lesson] if q.generated]
        result[lesson] = [*published_questions(pub), *generated]
        if pub.pass_mark:
            result_marks[lesson] = Fraction(pub.pass_mark)
        else:
            result_marks.pop(lesson, None)
        kept.append(KeptBank(lesson, pub, pass_mark_only=same_questions))
    return result, result_marks, kept


def kept_banks(authored: Mapping[str, Bank]) -> list[KeptBank]:
    """The published banks that stay in force over these repository banks (read only)."""
    kept = []
    for lesson, pub in uploaded_in_force().items():
        bank = authored.get(lesson)
        if bank is None:
            continue
        same_questions = formats.digest(bank.questions) == pub.digest
        if not (same_questions and _same_mark(pub, bank.pass_mark)):
            kept.append(KeptBank(lesson, pub, pass_mark_only=same_questions))
    return kept


def overlay_authored(
    authored: Mapping[str, Bank], lessons: Iterable[str] | None = None
) -> dict[str, Bank]:
    """Return the repository's authored banks with published banks in place (read only).

    With ``lessons`` (the lessons of a new version of the norm), a published bank of a
    lesson the new version no longer has is left out: the lesson and its bank go.
    """
    result = dict(authored)
    wanted = None if lessons is None else set(lessons)
    for lesson, pub in uploaded_in_force().items():
        if wanted is not None and lesson not in wanted:
            continue
        bank = result.get(lesson)
        if (
            bank is not None
            and formats.digest(bank.questions) == pub.digest
            and _same_mark(pub, bank.pass_mark)
        ):
            continue
        result[lesson] = Bank(
            lesson=lesson,
            path=Path(_("%(lesson)s.yaml（网页发布的题库）", lesson=lesson)),
            questions=tuple(published_questions(pub)),
            pass_mark=Fraction(pub.pass_mark) if pub.pass_mark else None,
        )
    return result


def repository_wins(
    lessons: Iterable[str],
    by_lesson: Mapping[str, list[Question]],
    marks: Mapping[str, Fraction] | None = None,
) -> list[str]:
    """Let the repository's files rule these lessons again (recorded and audited; flush)."""
    in_force = uploaded_in_force()
    marks = marks or {}
    done = []
    for lesson in lessons:
        if lesson not in in_force:
            continue
        authored = [q for q in by_lesson.get(lesson, []) if not q.generated]
        _publish_row(lesson, authored, marks.get(lesson), BankSource.REPOSITORY, {"chosen": True})
        record(
            "bank.repository",
            N_("第 %(lesson)s 课题库改回以仓库文件为准"),
            params={"lesson": lesson},
            details={
                "lesson": lesson,
                "replaced_publication": in_force[lesson].id,
                "pass_mark": str(marks[lesson]) if lesson in marks else None,
                "replaced_pass_mark": in_force[lesson].pass_mark,
            },
        )
        done.append(lesson)
    return done


def _publish_row(
    lesson: str,
    questions: Sequence[Question],
    mark: Fraction | None,
    source: BankSource,
    changes: dict,
    *,
    fmt: str = "",
    filename: str = "",
    sha256: str = "",
    actor: User | None = None,
) -> BankPublication:
    row = BankPublication(
        lesson=lesson,
        source=source,
        digest=formats.digest(questions),
        questions=[question_to_dict(q) for q in questions],
        pass_mark=None if mark is None else str(mark),
        file_format=fmt,
        filename=filename[:255],
        file_sha256=sha256,
        changes=changes,
        actor_id=actor.id if actor is not None else None,
        created_at=utcnow(),
    )
    db.session.add(row)
    db.session.flush()
    return row


# --- import: preview ------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _norm(source_sha256: str, data: bytes) -> NormDocument:
    return parse_bytes(data, filename="version")


@dataclass
class ImportPreview:
    """What publishing a file would do; ``problems`` (place, message) block publication."""

    lesson: Lesson | None
    file_format: str
    filename: str
    sha256: str
    questions: list[Question] = field(default_factory=list)
    pass_mark: Fraction | None = None
    problems: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    added: list[Question] = field(default_factory=list)
    changed: list[tuple[Question, Question]] = field(default_factory=list)  # (old, new)
    unchanged: list[Question] = field(default_factory=list)
    retired: list[Question] = field(default_factory=list)
    base_digest: str = ""  # the bank in force the preview compared with

    @property
    def ok(self) -> bool:
        return not self.problems and self.lesson is not None

    @property
    def changes(self) -> dict[str, list[str]]:
        return {
            "added": [q.id for q in self.added],
            "changed": [new.id for _old, new in self.changed],
            "retired": [q.id for q in self.retired],
        }

    @property
    def changes_anything(self) -> bool:
        return bool(self.added or self.changed or self.retired) or self.pass_mark_changes

    pass_mark_changes: bool = False


def base_digest(lesson: Lesson, questions: Sequence[Question]) -> str:
    """Digest of a lesson's bank in force and its pass mark: what a preview was made against."""
    text = f"{formats.digest(questions)}:{lesson.quiz_pass_mark or ''}"
    return hashlib.sha256(text.encode()).hexdigest()


def preview_import(
    lesson_number: str, data: bytes, filename: str, fmt: str | None = None
) -> ImportPreview:
    """Read and check a bank file for a lesson against the norm in force; writes nothing."""
    sha = hashlib.sha256(data).hexdigest()
    fmt = fmt or formats.guess_format(filename)
    lessons = active_lessons()
    lesson = next((item for item in lessons if item.number == lesson_number), None)
    preview = ImportPreview(lesson, fmt or "", filename, sha)
    if lesson is None:
        preview.problems.append(("", _("课程中没有第 %(lesson)s 课", lesson=lesson_number)))
        return preview
    if fmt not in formats.FORMATS:
        preview.problems.append(
            (
                "",
                _("无法识别文件格式：请上传 .yaml、.xlsx、GIFT（.gift/.txt）或 Moodle XML（.xml）"),
            )
        )
        return preview
    result = formats.read(fmt, data, lesson.number, taken=_named_ids(lesson.number))
    preview.problems.extend(result.problems)
    if result.lesson and result.lesson != lesson.number:
        preview.problems.append(
            (
                "",
                _(
                    "文件是第 %(file_lesson)s 课的题库，不能导入第 %(lesson)s 课",
                    file_lesson=result.lesson,
                    lesson=lesson.number,
                ),
            )
        )
    preview.pass_mark = result.pass_mark if fmt == "yaml" else pass_mark_of(lesson)

    version = current_norm_version()
    if version is None or not version.source_bytes:
        preview.problems.append(("", _("还没有发布任何规范版本，无法核对所引条款")))
        return preview
    doc = _norm(version.source_sha256, version.source_bytes)
    clauses = {section.number for section in doc.walk()}
    questions = _validate(result.items, lesson.number, clauses, preview)

    in_force = questions_in_force(lessons)
    generated = questions_in_force(lessons, generated=True)
    current = in_force[lesson.id]
    preview.base_digest = base_digest(lesson, current)
    _check_ids(questions, lesson, preview)
    if not preview.problems and not questions:
        preview.problems.append(("", _("文件中没有题目")))
    preview.questions = questions

    # The cue thresholds of `flask content check`, on the course as it would be.
    quiz_size = current_app.config["QUIZ_SIZE"]
    numbers = [item.number for item in lessons]

    def course(replace: list[Question] | None) -> dict[str, list[Question]]:
        return {
            item.number: [
                *(replace if replace is not None and item.id == lesson.id else in_force[item.id]),
                *generated[item.id],
            ]
            for item in lessons
        }

    def cues(by_lesson):
        stats = course_cues(
            by_lesson,
            quiz_size=quiz_size,
            clauses=citable_clauses(doc),
            lessons=numbers,
            clause_texts=clause_texts(doc),
        )
        return {(c.lesson, c.item, c.message) for c in stats.cues}

    if questions:
        before = cues(course(None))
        for cue_lesson, item, message in sorted(cues(course(questions))):
            if cue_lesson not in ("", lesson.number):
                continue
            where = item or (_("本课题库") if cue_lesson else _("全课程"))
            if (cue_lesson, item, message) in before:
                preview.warnings.append((where, _("%(message)s（发布前已存在）", message=message)))
            else:
                preview.problems.append((where, message))

    old = {q.id: q for q in current}
    states = holds.question_states()
    for question in questions:
        previous = old.pop(question.id, None)
        if previous is None:
            preview.added.append(question)
        elif question_to_dict(previous) != question_to_dict(question):
            preview.changed.append((previous, question))
        else:
            preview.unchanged.append(question)
        state = states.get(question.id)
        if state == holds.PENDING:
            preview.warnings.append(
                (question.id, _("此题在规范修订后正待复核，发布后仍不抽题，直至复核"))
            )
        elif state == holds.WITHDRAWN:
            preview.warnings.append(
                (question.id, _("此题已被撤下，发布后仍不会抽到；如需重新启用请换一个编号"))
            )
    preview.retired = list(old.values())
    preview.pass_mark_changes = preview.pass_mark != pass_mark_of(lesson)
    return preview


def _named_ids(lesson_number: str) -> dict[str, str]:
    """The ids a question without an id could be named for this lesson that are in use
    (by any question, in force or not), with the identity of the question holding each."""
    prefix = formats.new_id_prefix(lesson_number)
    rows = db.session.execute(
        select(QuizQuestion.qid, QuizQuestion.data).where(
            QuizQuestion.qid.startswith(prefix, autoescape=True)
        )
    )
    return {qid: formats.question_identity(question_from_dict(data)) for qid, data in rows}


def _validate(
    items: list[formats.RawItem], lesson: str, clauses: set[str], preview: ImportPreview
) -> list[Question]:
    questions: list[Question] = []
    seen: dict[str, str] = {}
    for index, item in enumerate(items):
        raw = item.data
        qid = raw.get("id") if isinstance(raw.get("id"), str) else ""
        where = _("%(place)s（%(id)s）", place=item.place, id=qid) if qid else item.place

        def report(_place: str, message: str, where: str = where) -> None:
            preview.problems.append((where, message))

        if "_bad" in raw:
            report("", _("每道题应是一个映射（字段：id、kind、prompt…）"))
            continue
        if raw.get("generated"):
            report("", _("由规范生成的练习题不能导入；它们随规范自动生成"))
            continue
        if qid in seen:
            report("", _("编号重复（第一次出现在%(place)s）", place=seen[qid]))
            continue
        if qid:
            seen[qid] = item.place
        question = schema.parse_question(
            raw, index=index, lesson=lesson, clause_numbers=clauses, report=report
        )
        if question is not None:
            questions.append(question)
    return questions


def _check_ids(questions: Sequence[Question], lesson: Lesson, preview: ImportPreview) -> None:
    """An id belongs to one lesson for good: attempts and statistics name it."""
    ids = [q.id for q in questions]
    if not ids:
        return
    rows = db.session.execute(
        select(QuizQuestion.qid, Lesson.number, QuizQuestion.generated)
        .join(Lesson, Lesson.id == QuizQuestion.lesson_id)
        .where(QuizQuestion.qid.in_(ids))
    )
    for qid, number, generated in rows:
        if generated:
            preview.problems.append((qid, _("这个编号属于一道由规范生成的练习题，请换一个编号")))
        elif number != lesson.number:
            preview.problems.append(
                (qid, _("这个编号已属于第 %(lesson)s 课的题目，请换一个编号", lesson=number))
            )


# --- import: publish ------------------------------------------------------------------------


class PublishRefused(Exception):
    """Publishing was refused; the message says why, for HR."""


def publish(
    preview: ImportPreview, *, actor: User | None, expected_base: str | None = None
) -> BankPublication:
    """Install a checked bank for its lesson in this transaction (all or nothing; flush).

    ``expected_base`` is the bank in force the person saw in the preview: when someone
    published in between, nothing is written and they are asked to look again.
    """
    if not preview.ok or preview.lesson is None:
        raise PublishRefused(_("文件有问题，未发布任何内容。"))
    lesson = preview.lesson
    lock_banks()
    lessons = [lesson]
    current = questions_in_force(lessons)[lesson.id]
    if expected_base is not None and base_digest(lesson, current) != expected_base:
        raise PublishRefused(_("预览之后，这一课的题库已被他人修改。请重新上传文件并查看预览。"))
    generated = questions_in_force(lessons, generated=True)[lesson.id]
    marks = {lesson.number: preview.pass_mark} if preview.pass_mark is not None else {}
    sync_questions({lesson.number: [*preview.questions, *generated]}, marks, only=[lesson.number])
    row = _publish_row(
        lesson.number,
        preview.questions,
        preview.pass_mark,
        BankSource.UPLOAD,
        preview.changes,
        fmt=preview.file_format,
        filename=preview.filename,
        sha256=preview.sha256,
        actor=actor,
    )
    changes = preview.changes
    record(
        "bank.publish",
        N_(
            "发布第 %(lesson)s 课题库：新增 %(added)s 题，修改 %(changed)s 题，停用 %(retired)s 题"
            "（文件 %(filename)s）"
        ),
        params={
            "lesson": lesson.number,
            "added": len(changes["added"]),
            "changed": len(changes["changed"]),
            "retired": len(changes["retired"]),
            "filename": preview.filename,
        },
        details={
            "lesson": lesson.number,
            "publication": row.id,
            "format": preview.file_format,
            "filename": preview.filename,
            "file_sha256": preview.sha256,
            "digest": row.digest,
            **changes,
        },
        actor=actor,
    )
    return row


# --- drafts: an upload between preview and publish ------------------------------------------


def store_draft(user: User, lesson: str, fmt: str, filename: str, data: bytes) -> BankDraft:
    """Keep an upload for its preview and publication (flush); old drafts go on the way.

    Each person keeps their newest ``DRAFTS_PER_USER`` drafts; older ones are deleted.
    """
    db.session.execute(delete(BankDraft).where(BankDraft.created_at < utcnow() - DRAFT_MAX_AGE))
    draft = BankDraft(
        token=secrets.token_urlsafe(24),
        user_id=user.id,
        lesson=lesson,
        file_format=fmt,
        filename=filename[:255],
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
        created_at=utcnow(),
    )
    db.session.add(draft)
    db.session.flush()
    newest = list(
        db.session.scalars(
            select(BankDraft.id)
            .where(BankDraft.user_id == user.id)
            .order_by(BankDraft.created_at.desc(), BankDraft.id.desc())
            .limit(DRAFTS_PER_USER)
        )
    )
    db.session.execute(
        delete(BankDraft).where(BankDraft.user_id == user.id, BankDraft.id.not_in(newest))
    )
    return draft


def load_draft(token: str, user: User) -> BankDraft | None:
    """Return this user's draft by token, if it is still there and young enough."""
    draft = db.session.scalar(
        select(BankDraft).where(BankDraft.token == token, BankDraft.user_id == user.id)
    )
    if draft is None or draft.created_at < utcnow() - DRAFT_MAX_AGE:
        return None
    return draft


def consume_draft(draft: BankDraft) -> bool:
    """Delete a draft as it is published; False when another request already did."""
    result = db.session.execute(
        delete(BankDraft)
        .where(BankDraft.id == draft.id)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))
