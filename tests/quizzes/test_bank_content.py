"""The real question banks meet the product's content requirements."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.content.build import parse_norm
from training.content.lessons import plan_lessons
from training.content.outline import load_outline
from training.quizzes.bank import load_all_banks

REPO = Path(__file__).resolve().parents[2]
SHORT_LESSONS = {"1.1", "1.2", "5"}


@pytest.fixture(scope="module")
def banks():
    outline = load_outline(REPO / "content" / "outline.yaml")
    doc = parse_norm(outline.source_path(), outline)
    lessons = [lesson.number for lesson in plan_lessons(doc, outline.lesson_level)]
    by_lesson, problems = load_all_banks(
        REPO / "quizzes", clause_numbers={s.number for s in doc.walk()}, lesson_numbers=set(lessons)
    )
    assert problems == []
    return lessons, by_lesson


def test_every_lesson_has_enough_questions(banks):
    lessons, by_lesson = banks
    for number in lessons:
        authored = [q for q in by_lesson.get(number, []) if not q.generated]
        assert len(authored) >= (3 if number in SHORT_LESSONS else 5), number


def test_bank_totals_and_mix(banks):
    _, by_lesson = banks
    questions = [q for qs in by_lesson.values() for q in qs]
    authored = [q for q in questions if not q.generated]
    assert len(authored) >= 110
    assert sum(1 for q in questions if q.scenario) / len(questions) >= 0.6
    assert sum(1 for q in authored if "external" in q.tags) >= 30
    assert sum(1 for q in authored if "internal" in q.tags) >= 20


def test_correct_option_is_not_usually_the_longest(banks):
    _, by_lesson = banks
    singles = [q for qs in by_lesson.values() for q in qs if q.kind == "single"]
    longest = 0
    for q in singles:
        correct = next(o for o in q.options if o.correct)
        if all(len(correct.text) > len(o.text) for o in q.options if o is not correct):
            longest += 1
    assert longest / len(singles) <= 0.4


def test_generated_items_cite_their_clause(banks):
    _, by_lesson = banks
    generated = [q for qs in by_lesson.values() for q in qs if q.generated]
    assert len(generated) >= 10
    for q in generated:
        assert q.source_clause in q.cites
        assert sum(o.correct for o in q.options) == 1
