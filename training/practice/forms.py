"""Reading a practice answer: display positions, never option keys, mapped back through the round.

The field names and checks are those of the quiz form (``q0`` for the one
question, ``q0-<position>`` for the ranks of an ordering item), so a
tampered post is refused the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from werkzeug.datastructures import MultiDict

from training.quizzes.forms import ParsedAnswers, TamperedForm, parse_answers
from training.quizzes.services import ShownQuestion

CONFIDENCE = {"sure": True, "unsure": False}
ROUND_FIELD = "round"
CONFIDENCE_FIELD = "confidence"

__all__ = ["PracticeAnswer", "TamperedForm", "parse_practice_answer"]


@dataclass
class PracticeAnswer:
    """The option keys chosen, whether the learner felt sure, and what the form lacked."""

    keys: list[str] = field(default_factory=list)
    sure: bool = True
    parsed: ParsedAnswers = field(default_factory=ParsedAnswers)

    @property
    def complete(self) -> bool:
        return self.parsed.complete


def parse_practice_answer(
    form: MultiDict, shown: ShownQuestion, round_token: str
) -> PracticeAnswer:
    """Map the posted positions to option keys; raise TamperedForm for anything else."""
    if form.getlist(ROUND_FIELD) != [round_token]:
        raise TamperedForm("the form belongs to another practice round")
    confidence = form.getlist(CONFIDENCE_FIELD) or ["sure"]
    if len(confidence) != 1 or confidence[0] not in CONFIDENCE:
        raise TamperedForm(f"unexpected confidence {confidence!r}")
    rest = MultiDict(
        [(k, v) for k, v in form.items(multi=True) if k not in (ROUND_FIELD, CONFIDENCE_FIELD)]
    )
    parsed = parse_answers(rest, [shown])
    keys = parsed.answers.get(shown.question.id, [])
    return PracticeAnswer(keys=keys, sure=CONFIDENCE[confidence[0]], parsed=parsed)
