"""Fill a fresh database with employees, assignments and realistic course progress, fast.

Rows are written with bulk INSERTs, but every value is what the application itself
stores: attempts carry a draw naming question versions, made by the same helpers as
``training.quizzes.services.start_attempt``, submissions the grade that ``submit_attempt``
would record for those answers.
"""

from __future__ import annotations

import random
import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from flask_migrate import upgrade
from sqlalchemy import func, insert, select, text

from training.assignments.models import Assignment
from training.auth.models import Role, User
from training.auth.passwords import hash_password
from training.course.lessons import active_lessons
from training.course.models import (
    Certificate,
    Lesson,
    NormVersion,
    QuizAttempt,
    QuizSubmission,
    ReadEvent,
)
from training.course.progress import rebuild_all
from training.extensions import db
from training.practice.models import PracticeReview
from training.practice.services import rating_for
from training.quizzes import grading
from training.quizzes.items import Bank, Question
from training.quizzes.models import QuizAnswer, QuizQuestion
from training.quizzes.services import lesson_questions, pass_mark_for, question_from_dict
from training.revisions.sync import sync_course

LOCAL = ZoneInfo("Asia/Shanghai")
PASSWORD = "Bench-Password-2024"  # noqa: S105 - a throwaway database's benchmark accounts
HR_EMPLOYEE_NO = "HR0001"
LEARNER_NOS = ("S100001", "S100002", "S100003", "S100004")  # in progress, with a password
DRAWS_PER_LESSON = 24
# Practice (练习): a share of those who have read lessons practise, in short sessions over
# the last weeks, answering questions of the lessons they read.
PRACTISING_SHARE = 0.3
PRACTICE_SESSIONS = (1, 10)  # per practising employee, uniform
PRACTICE_QUESTIONS = (5, 10)  # per session
PRACTICE_WEEKS = 16  # sessions fall in this many weeks before now
PRACTICE_RIGHT = 0.7

# Department, share of head count, positions.
DEPARTMENTS: list[tuple[str, int, tuple[str, ...]]] = [
    ("销售部", 14, ("销售代表", "客户经理", "销售主管")),
    ("客户服务中心", 13, ("客服专员", "客服组长", "质检专员")),
    ("售后服务部", 9, ("售后工程师", "维修技师", "服务调度")),
    ("生产部", 9, ("操作工", "班组长", "生产计划员")),
    ("技术支持部", 6, ("技术支持工程师", "现场工程师")),
    ("市场部", 5, ("市场专员", "活动策划", "市场经理")),
    ("仓储物流部", 5, ("仓管员", "物流专员", "叉车司机")),
    ("研发中心", 5, ("软件工程师", "硬件工程师", "测试工程师")),
    ("质量管理部", 4, ("质量工程师", "检验员")),
    ("采购部", 3, ("采购专员", "供应商管理")),
    ("财务部", 3, ("会计", "出纳", "财务分析")),
    ("信息技术部", 3, ("运维工程师", "系统管理员")),
    ("运营管理部", 3, ("运营专员", "数据分析")),
    ("人事行政部", 3, ("招聘专员", "行政专员", "薪酬专员")),
    ("品牌公关部", 2, ("公关专员", "内容编辑")),
    ("培训部", 2, ("培训专员", "讲师")),
    ("法务部", 2, ("法务专员",)),
    ("安全环保部", 2, ("安全员", "环保专员")),
    ("审计部", 1, ("审计专员",)),
    ("总经理办公室", 1, ("秘书", "总经理助理")),
]
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂英华玉兰秀梅鹏飞宇浩然欣怡子轩梓涵思雨佳琪俊杰"
    "晨曦文博嘉鑫婷雪瑞晓海建国志红丹宁凯慧琳阳林斌彬晶颖琦瑶璐蕾倩雯婧楠东亮辉波斌峰鑫睿泽"
)


@dataclass(frozen=True)
class LessonRef:
    """The lesson columns that progress rows copy (plain data, usable outside a session)."""

    id: int
    number: str
    content_hash: str


@dataclass
class Attempts:
    """Ready-made attempts for one lesson: stored draws, and passing and failing answers."""

    lesson: LessonRef
    pass_mark: str
    draws: list[dict[str, Any]] = field(default_factory=list)
    # (answers, correct count, total, per question: (id, version, keys chosen, right))
    passing: list[tuple[dict[str, list[str]], int, int, list[tuple]]] = field(default_factory=list)
    failing: list[tuple[dict[str, list[str]], int, int, list[tuple]]] = field(default_factory=list)


@dataclass(frozen=True)
class PracticeItem:
    """A question as a practice review stores it: row ids, cited clauses, right and wrong answers."""

    question_id: int
    lesson_id: int
    cites: list[str]
    right: list[str]
    wrong: list[str]


def _practice_items(lesson: Lesson) -> list[PracticeItem]:
    """The questions practice may show for a lesson (active, not withheld)."""
    rows = db.session.scalars(
        select(QuizQuestion).where(QuizQuestion.lesson_id == lesson.id, QuizQuestion.drawable())
    )
    items = []
    for row in rows:
        question = question_from_dict(row.data)
        keys = tuple(option.key for option in question.options)
        items.append(
            PracticeItem(
                row.id,
                lesson.id,
                list(question.cites),
                list(question.correct_keys()),
                _wrong_answer(question, keys),
            )
        )
    return items


def migrate_and_sync(app: Flask) -> None:
    """Create the schema with the migrations and load the committed course."""
    with app.app_context():
        upgrade()
        sync_course(app.config["CONTENT_DIR"], app.config["QUIZ_DIR"])
        db.session.commit()  # sync flushes; its caller commits


def _wrong_answer(question: Question, keys: tuple[str, ...]) -> list[str]:
    correct = list(question.correct_keys())
    if question.kind == "order":
        return list(reversed(correct))
    wrong = [k for k in keys if k not in correct]
    return [wrong[0]] if wrong else correct[:-1]


def _prepare_attempts(lesson: Lesson, rng: random.Random) -> Attempts:
    """Draw questions as start_attempt does and grade answers as submit_attempt does."""
    questions = lesson_questions(lesson)
    by_id = {q.id: q for q in questions}
    versions = dict(
        db.session.execute(
            select(QuizQuestion.qid, QuizQuestion.content_hash).where(
                QuizQuestion.lesson_id == lesson.id, QuizQuestion.active.is_(True)
            )
        ).all()
    )
    bank = Bank(lesson=lesson.number, path=Path(), questions=tuple(questions))
    mark = pass_mark_for(lesson)
    pool = Attempts(LessonRef(lesson.id, lesson.number, lesson.content_hash), str(mark))
    for _ in range(DRAWS_PER_LESSON):
        seed = rng.getrandbits(31)
        draw = grading.make_draw(bank, seed, size=int(current_app.config["QUIZ_SIZE"]))
        stored = draw.as_dict()
        for entry in stored["questions"]:
            entry["version"] = versions[entry["id"]]
        pool.draws.append(stored)
        right = {d.question_id: list(by_id[d.question_id].correct_keys()) for d in draw.questions}
        wrong = dict(right)
        for drawn in draw.questions[:2]:
            wrong[drawn.question_id] = _wrong_answer(by_id[drawn.question_id], drawn.option_keys)
        for answers, bucket in ((right, pool.passing), (wrong, pool.failing)):
            result = grading.grade(draw, by_id, answers)
            per_question = [
                (r.question_id, versions[r.question_id], list(r.chosen), r.is_correct)
                for r in result.per_question
            ]
            bucket.append((answers, result.correct_count, result.total, per_question))
        assert grading.passed(grading.grade(draw, by_id, right), Fraction(pool.pass_mark))  # noqa: S101
        assert not grading.passed(grading.grade(draw, by_id, wrong), Fraction(pool.pass_mark))  # noqa: S101
    return pool


def _first_free_ids() -> dict[str, int]:
    """The next id to write for each table whose ids are assigned here.

    Taken from the database at the start of every ``Population.add``: the app may have
    written attempts since the last batch (a benchmark's quiz starts, between the sizes).
    """
    return {
        name: int(db.session.scalar(select(func.coalesce(func.max(model.id), 0))) or 0) + 1
        for name, model in (("attempt", QuizAttempt), ("submission", QuizSubmission))
    }


def advance_sequences() -> list[str]:
    """Move every PostgreSQL id sequence past the largest id in its table; return those moved.

    Attempts and submissions are written with ids of our own, which bypasses their
    sequences: without this the app's next insert takes an id already used (a quiz start
    answers 500). Every serial or identity column of the schema is checked, not only the
    two, so a table written in bulk later is covered too; a sequence already past its
    table's ids is left as it is.
    """
    if db.session.get_bind().dialect.name != "postgresql":
        return []  # SQLite takes max(rowid) + 1
    columns = db.session.execute(
        text(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema()"
            " AND (column_default LIKE 'nextval(%' OR is_identity = 'YES')"
            " ORDER BY table_name"
        )
    ).all()
    preparer = db.session.get_bind().dialect.identifier_preparer
    moved = []
    for table, column in columns:
        top = db.session.scalar(
            text(
                f"SELECT max({preparer.quote(column)}) FROM {preparer.quote(table)}"  # noqa: S608 - names from the catalog, quoted
            )
        )
        if top is None:
            continue
        advanced = db.session.scalar(
            text(
                "SELECT setval(seq, :top) FROM (SELECT pg_get_serial_sequence(:table, :column)"
                " AS seq) AS s WHERE :top > coalesce(pg_sequence_last_value(seq::regclass), 0)"
            ),
            {"table": preparer.quote(table), "column": column, "top": int(top)},
        )
        if advanced is not None:
            moved.append(table)
    return moved


class Population:
    """Adds employees in batches; ids are assigned here so related rows need no round trip."""

    def __init__(self, app: Flask, seed: int = 20240501, *, unfinished: bool = False) -> None:
        """``unfinished``: every employee is active, hired 15 days to two years ago and has
        not finished the course, so each is overdue and due a reminder (``flask notify send``).
        """
        self.app = app
        self.unfinished = unfinished
        self.rng = random.Random(seed)  # noqa: S311 - reproducible fake data, not secrets
        # Practice draws from its own generator: the rest is the same with or without it.
        self.practice_rng = random.Random(seed + 1)  # noqa: S311 - as above
        self.today = datetime.now(LOCAL).date()
        self.now = datetime.now(UTC)
        self.count = 0
        self.next_id: dict[str, int] = {}  # set from the database by add()
        self.codes: set[str] = set()
        self.mix: Counter[str] = Counter()  # planned standing: completed, overdue, …
        with app.app_context():
            lessons = active_lessons()
            self.pools = [_prepare_attempts(lesson, self.rng) for lesson in lessons]
            self.practice = {lesson.id: _practice_items(lesson) for lesson in lessons}
            version = db.session.scalar(select(NormVersion))
            self.norm = (version.source_sha256, version.title)
            self.password_hash = hash_password(PASSWORD)
            hr = User(
                employee_no=HR_EMPLOYEE_NO,
                name="周敏",
                department="人事行政部",
                position="人事经理",
                role=Role.HR,
                password_hash=self.password_hash,
                hire_date=self.today - timedelta(days=900),
            )
            db.session.add(hr)
            db.session.commit()
            self.hr_id = hr.id

    # --- one employee ------------------------------------------------------------------

    def _name(self) -> str:
        given = "".join(self.rng.choice(GIVEN) for _ in range(self.rng.choice((1, 2, 2, 2))))
        return self.rng.choice(SURNAMES) + given

    def _hire_date(self) -> date:
        if self.unfinished:  # due (hire + 14 days) before today: overdue
            return self.today - timedelta(days=self.rng.randrange(15, 730))
        # A steady intake over two years plus this month's hiring wave, so every status occurs.
        days = self.rng.randrange(28) if self.rng.random() < 0.15 else self.rng.randrange(730)
        return self.today - timedelta(days=days)

    def _plan(self, due: date, index: int) -> int:
        """Return how many lessons the employee has completed (all of them: the course)."""
        total = len(self.pools)
        if index < len(LEARNER_NOS):
            return 4  # the benchmark learners are part-way through
        if self.unfinished:
            return self.rng.randint(0, total - 1)
        if due >= self.today:  # still within the onboarding period
            roll = self.rng.random()
            return 0 if roll < 0.35 else total if roll < 0.5 else self.rng.randint(1, total - 1)
        roll = self.rng.random()
        if roll < 0.8:
            return total
        return 0 if roll < 0.88 else self.rng.randint(1, total - 1)

    def add(self, how_many: int) -> None:
        """Add employees with an assignment each and their progress, committing per batch."""
        with self.app.app_context():
            self.next_id = _first_free_ids()
            for start in range(0, how_many, 1000):
                self._add_batch(min(1000, how_many - start))
                db.session.commit()
            # Bulk inserts bypass the services that keep the progress summary current.
            rebuild_all()
            advance_sequences()
            db.session.commit()

    def _add_batch(self, size: int) -> None:
        departments = [d for d, weight, _ in DEPARTMENTS for _ in range(weight)]
        positions = {d: p for d, _, p in DEPARTMENTS}
        users, assignments, reads, attempts, submissions, certificates = [], [], [], [], [], []
        self.answers: list[dict[str, Any]] = []
        self.reviews: list[dict[str, Any]] = []
        first = self.count
        for index in range(first, first + size):
            employee_no = LEARNER_NOS[index] if index < len(LEARNER_NOS) else f"S{100001 + index}"
            department = departments[index % len(departments)]
            learner = index < len(LEARNER_NOS)
            hire = self.today - timedelta(days=3) if learner else self._hire_date()
            users.append(
                {
                    "employee_no": employee_no,
                    "name": self._name(),
                    "department": department,
                    "position": self.rng.choice(positions[department]),
                    "email": f"{employee_no.lower()}@example.com",
                    "hire_date": hire,
                    "role": Role.LEARNER,
                    "password_hash": self.password_hash if learner else None,
                    "must_change_password": False,
                    "active": learner or self.unfinished or self.rng.random() > 0.02,
                    "created_at": datetime.combine(hire, time(9), tzinfo=LOCAL).astimezone(UTC),
                }
            )
        ids = list(
            db.session.scalars(insert(User).returning(User.id, sort_by_parameter_order=True), users)
        )
        self.count += size
        for index, (user_id, user) in enumerate(zip(ids, users, strict=True), start=first):
            hire = user["hire_date"]
            due = hire + timedelta(days=int(current_app.config["ONBOARDING_DAYS"]))
            assigned_at = user["created_at"] + timedelta(minutes=5)
            assignments.append(
                {
                    "user_id": user_id,
                    "due_date": due,
                    "assigned_at": assigned_at,
                    "assigned_by_id": self.hr_id,
                    "reason": "hire",
                }
            )
            done = self._plan(due, index)
            total = len(self.pools)
            self.mix[
                "completed"
                if done == total
                else "overdue"
                if due < self.today
                else "in_progress"
                if done
                else "not_started"
            ] += 1
            first_read = len(reads)
            self._progress(user_id, assigned_at, done, reads, attempts, submissions, certificates)
            if index >= len(LEARNER_NOS):  # the benchmark learners start with no practice
                self._practise(user_id, reads[first_read:])
        for model, rows in (
            (Assignment, assignments),
            (ReadEvent, reads),
            (QuizAttempt, attempts),
            (QuizSubmission, submissions),
            (QuizAnswer, self.answers),
            (Certificate, certificates),
            (PracticeReview, self.reviews),
        ):
            if rows:
                db.session.execute(insert(model), rows)

    def _progress(self, user_id, start, done, reads, attempts, submissions, certificates) -> None:
        """Read and pass the first ``done`` lessons in order, with some failed tries on the way."""
        rng = self.rng
        at = start + timedelta(days=rng.choice((0, 0, 1, 1, 2, 4)), hours=rng.randint(0, 6))
        total = len(self.pools)
        for position, pool in enumerate(self.pools):
            if position >= done:
                # Someone in the middle of the course may have read the next lesson already.
                if 0 < done < total and position == done and rng.random() < 0.5:
                    self._read(user_id, pool.lesson, at, reads)
                break
            at += timedelta(minutes=rng.randint(8, 90))
            if at >= self.now:
                return
            self._read(user_id, pool.lesson, at, reads)
            if rng.random() < 0.2:
                at = self._attempt(user_id, pool, at, False, attempts, submissions)
            at = self._attempt(user_id, pool, at, True, attempts, submissions)
        if done == total and at < self.now:
            certificates.append(
                {
                    "user_id": user_id,
                    "source_sha256": self.norm[0],
                    "norm_title": self.norm[1],
                    "code": self._code(),
                    "issued_at": at,
                }
            )

    def _practise(self, user_id: int, reads: list[dict[str, Any]]) -> None:
        """Practise the lessons read, in a few sessions after the first read, as the app
        records it (``store.record_review``): the question's cites, the keys answered, the
        FSRS rating of a sure answer. The cards derived from reviews are not written: no
        measured page reads another employee's cards (``flask practice rebuild`` makes them).
        """
        rng = self.practice_rng
        if not reads or rng.random() >= PRACTISING_SHARE:
            return
        earliest = max(min(r["read_at"] for r in reads), self.now - timedelta(weeks=PRACTICE_WEEKS))
        span = (self.now - earliest).total_seconds()
        if span <= 3600:
            return
        items = [item for r in reads for item in self.practice[r["lesson_id"]]]
        for _ in range(rng.randint(*PRACTICE_SESSIONS)):
            at = earliest + timedelta(seconds=rng.uniform(0, span - 3600))
            for item in rng.sample(items, min(len(items), rng.randint(*PRACTICE_QUESTIONS))):
                at += timedelta(seconds=rng.randint(10, 90))
                correct = rng.random() < PRACTICE_RIGHT
                self.reviews.append(
                    {
                        "user_id": user_id,
                        "question_id": item.question_id,
                        "lesson_id": item.lesson_id,
                        "correct": correct,
                        "rating": int(rating_for(correct)),
                        "answer": item.right if correct else item.wrong,
                        "cites": item.cites,
                        "reviewed_at": at,
                        "duration_ms": rng.randint(4_000, 80_000),
                    }
                )

    def _read(self, user_id: int, lesson: LessonRef, at: datetime, reads: list) -> None:
        reads.append(
            {
                "user_id": user_id,
                "lesson_id": lesson.id,
                "lesson_hash": lesson.content_hash,
                "read_at": at,
            }
        )

    def _attempt(self, user_id, pool: Attempts, at, passed, attempts, submissions) -> datetime:
        choice = self.rng.randrange(len(pool.draws))
        draw = pool.draws[choice]
        answers, correct, total, per_question = (pool.passing if passed else pool.failing)[choice]
        attempt_id = self.next_id["attempt"]
        self.next_id["attempt"] += 1
        submission_id = self.next_id["submission"]
        self.next_id["submission"] += 1
        started = at + timedelta(minutes=self.rng.randint(1, 5))
        submitted = started + timedelta(seconds=self.rng.randint(40, 400))
        attempts.append(
            {
                "id": attempt_id,
                "user_id": user_id,
                "lesson_id": pool.lesson.id,
                "lesson_hash": pool.lesson.content_hash,
                "seed": draw["seed"],
                "draw": draw,
                "pass_mark": pool.pass_mark,
                "started_at": started,
            }
        )
        submissions.append(
            {
                "id": submission_id,
                "attempt_id": attempt_id,
                "answers": answers,
                "correct_count": correct,
                "total": total,
                "passed": passed,
                "submitted_at": submitted,
            }
        )
        self.answers.extend(
            {
                "submission_id": submission_id,
                "user_id": user_id,
                "lesson_id": pool.lesson.id,
                "qid": qid,
                "version": version,
                "position": position,
                "chosen": chosen,
                "correct": right,
            }
            for position, (qid, version, chosen, right) in enumerate(per_question)
        )
        return submitted

    def _code(self) -> str:
        alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
        while True:
            raw = "".join(secrets.choice(alphabet) for _ in range(12))
            code = "-".join(raw[i : i + 4] for i in range(0, 12, 4))
            if code not in self.codes:
                self.codes.add(code)
                return code
