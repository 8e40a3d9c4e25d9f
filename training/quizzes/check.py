"""`flask content check` for quiz banks: schema, clauses, lessons, generated items up to date."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from training.content.build import expected_generated_banks, parse_norm
from training.content.check import Problem, check_outline, display_path
from training.content.generated import GENERATED_DIR, DistractorError
from training.content.lessons import plan_lessons
from training.content.outline import OUTLINE_FILE, OutlineError, load_outline
from training.norm.model import NormDocument, NormParseError
from training.quizzes.bank import load_all_banks
from training.quizzes.cues import citable_clauses, clause_texts, course_cues
from training.quizzes.items import Question

DEFAULT_QUIZ_SIZE = 5

REBUILD = "run `flask content build`"


def quiz_dir_of(content_dir: Path, app: Any) -> Path:
    """Return the quiz folder: QUIZ_DIR from the app, else quizzes/ beside content/."""
    if app is not None and app.config.get("QUIZ_DIR"):
        return Path(app.config["QUIZ_DIR"])
    return content_dir.parent / "quizzes"


def _quiz_size(app: Any) -> int:
    if app is not None and app.config.get("QUIZ_SIZE"):
        return app.config["QUIZ_SIZE"]
    return DEFAULT_QUIZ_SIZE


def cue_problems(
    doc: NormDocument,
    by_lesson: Mapping[str, Sequence[Question]],
    lessons: Sequence[str],
    quiz_dir: Path,
    quiz_size: int,
) -> list[Problem]:
    """Return every cue threshold the banks miss, as problems naming the bank and item."""
    stats = course_cues(
        by_lesson,
        quiz_size=quiz_size,
        clauses=citable_clauses(doc),
        lessons=lessons,
        clause_texts=clause_texts(doc),
    )
    generated = {q.id for qs in by_lesson.values() for q in qs if q.generated}
    problems = []
    for cue in stats.cues:
        if not cue.lesson:
            path = display_path(quiz_dir, quiz_dir)
        elif cue.item in generated:
            path = display_path(quiz_dir / GENERATED_DIR / f"{cue.lesson}.yaml", quiz_dir)
        else:
            path = display_path(quiz_dir / f"{cue.lesson}.yaml", quiz_dir)
        problems.append(Problem(path, cue.item or "cues", cue.message))
    return problems


def course_banks(content_dir: Path, quiz_dir: Path):
    """Return the norm, every valid question by lesson, and the lessons in course order.

    Raises ValueError naming the first problem when the content or a bank is invalid.
    """
    outline = load_outline(content_dir / OUTLINE_FILE)
    doc = parse_norm(outline.source_path(), outline)
    lessons = [lesson.number for lesson in plan_lessons(doc, outline.lesson_level)]
    by_lesson, problems = load_all_banks(
        quiz_dir, clause_numbers={s.number for s in doc.walk()}, lesson_numbers=set(lessons)
    )
    if problems:
        raise ValueError(f"{len(problems)} problem(s) in the quiz banks, first: {problems[0]}")
    return doc, by_lesson, lessons


def check_quiz_banks(content_dir: Path, app: Any = None) -> list[Problem]:
    """Validate every bank against the norm and check generated banks equal a fresh build."""
    if check_outline(content_dir, app):
        return []  # reported by check_outline
    quiz_dir = quiz_dir_of(content_dir, app)
    outline = load_outline(content_dir / OUTLINE_FILE)
    try:
        doc = parse_norm(outline.source_path(), outline)
    except (NormParseError, OutlineError):
        return []  # reported by check_lessons
    lessons = [lesson.number for lesson in plan_lessons(doc, outline.lesson_level)]
    by_lesson, problems = load_all_banks(
        quiz_dir, clause_numbers={s.number for s in doc.walk()}, lesson_numbers=set(lessons)
    )
    found = [Problem(display_path(p.path, quiz_dir), p.place, p.message) for p in problems]
    del by_lesson  # the cue thresholds join the check with the rewritten banks
    try:
        expected = expected_generated_banks(content_dir, quiz_dir)
    except DistractorError as exc:
        return [*found, Problem(display_path(quiz_dir, quiz_dir), "distractors", str(exc))]
    generated_dir = quiz_dir / GENERATED_DIR
    for lesson, text in expected.items():
        path = generated_dir / f"{lesson}.yaml"
        shown = display_path(path, quiz_dir)
        if not path.is_file():
            found.append(Problem(shown, "file", f"missing; {REBUILD}"))
        elif path.read_text(encoding="utf-8") != text:
            found.append(Problem(shown, "file", f"differs from a fresh build; {REBUILD}"))
    for path in sorted(generated_dir.glob("*.yaml")) if generated_dir.is_dir() else []:
        if path.stem not in expected:
            shown = display_path(path, quiz_dir)
            found.append(Problem(shown, "file", f"no clause generates this bank now; {REBUILD}"))
    return found
