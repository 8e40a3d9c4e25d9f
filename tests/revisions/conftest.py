"""Revisions of the seed norm, and learners with recorded progress."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from training.course.models import Lesson, QuizAttempt, QuizSubmission, ReadEvent
from training.db import utcnow
from training.extensions import db

# Today in the company's time zone: a revision effective today is published at once (a later
# date would schedule it; tests/revisions/test_schedule.py covers that).
TODAY = datetime.now(ZoneInfo("Asia/Shanghai")).date()
EFFECTIVE = TODAY.isoformat()

SEED = (Path(__file__).resolve().parents[2] / "content" / "source" / "service-norm.txt").read_text(
    "utf-8"
)


@pytest.fixture
def seed_text() -> str:
    return SEED


@pytest.fixture
def revised(tmp_path):
    """Return a function writing a revised copy of the seed (str.replace pairs) to a file."""

    def write(*replacements: tuple[str, str], name: str = "revised.txt") -> Path:
        text = SEED
        for old, new in replacements:
            assert old in text, old
            text = text.replace(old, new, 1)
        path = tmp_path / name
        path.write_text(text, "utf-8")
        return path

    return write


@pytest.fixture
def complete_lessons():
    """Record that a user read and passed the given lessons (as the quiz flow would)."""

    def complete(user, numbers):
        lessons = db.session.scalars(
            select(Lesson).where(Lesson.active.is_(True), Lesson.number.in_(numbers))
        ).all()
        assert len(lessons) == len(numbers)
        for lesson in lessons:
            db.session.add(
                ReadEvent(
                    user_id=user.id,
                    lesson_id=lesson.id,
                    lesson_hash=lesson.content_hash,
                    read_at=utcnow(),
                )
            )
            attempt = QuizAttempt(
                user_id=user.id,
                lesson_id=lesson.id,
                lesson_hash=lesson.content_hash,
                seed=1,
                draw={"seed": 1, "questions": [], "snapshot": {}},
                pass_mark="4/5",
                started_at=utcnow(),
            )
            db.session.add(attempt)
            db.session.flush()
            db.session.add(
                QuizSubmission(
                    attempt_id=attempt.id,
                    answers={},
                    correct_count=5,
                    total=5,
                    passed=True,
                    submitted_at=utcnow(),
                )
            )
        db.session.commit()

    return complete
