"""The real question banks meet the product's content requirements."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.config import DefaultConfig
from training.content.build import parse_norm
from training.content.lessons import plan_lessons
from training.content.outline import load_outline
from training.quizzes.bank import load_all_banks
from training.quizzes.cues import citable_clauses, clause_texts, course_cues

REPO = Path(__file__).resolve().parents[2]
# Lessons with more to test hold more: 3.3 (the prescribed phrases) and 4.2 (four channels).
LARGER = {"3.3": 20, "4.2": 25}


@pytest.fixture(scope="module")
def course():
    """The norm, the lessons in course order and the committed banks by lesson."""
    outline = load_outline(REPO / "content" / "outline.yaml")
    doc = parse_norm(outline.source_path(), outline)
    lessons = [lesson.number for lesson in plan_lessons(doc, outline.lesson_level)]
    by_lesson, problems = load_all_banks(
        REPO / "quizzes", clause_numbers={s.number for s in doc.walk()}, lesson_numbers=set(lessons)
    )
    assert problems == []
    return doc, lessons, by_lesson


@pytest.fixture(scope="module")
def banks(course):
    _, lessons, by_lesson = course
    return lessons, by_lesson


def test_every_lesson_bank_lets_a_retry_show_other_questions(banks):
    """Quizzes draw graded (authored) items only: each bank holds twice the quiz size."""
    lessons, by_lesson = banks
    for number in lessons:
        authored = [q for q in by_lesson.get(number, []) if not q.generated]
        assert len(authored) >= max(2 * DefaultConfig.QUIZ_SIZE, LARGER.get(number, 0)), number


def test_the_graded_items_carry_no_cue_and_cite_every_clause(course):
    """What `flask content stats` checks, on the committed banks: no item gives its key away
    by form (only one “您”, a differing ending, the longest key too often, true/false or
    multiple-choice patterns), and every clause that states a rule is cited: the graded items
    alone, and with the generated phrase drills that practice adds."""
    doc, lessons, by_lesson = course
    graded = {n: [q for q in qs if not q.generated] for n, qs in by_lesson.items()}
    for banks in (graded, by_lesson):
        stats = course_cues(
            banks,
            quiz_size=DefaultConfig.QUIZ_SIZE,
            clauses=citable_clauses(doc),
            lessons=lessons,
            clause_texts=clause_texts(doc),
        )
        assert [str(cue) for cue in stats.cues] == []
        assert stats.uncited == []


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
