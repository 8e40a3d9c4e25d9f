"""A practice round: the queued question ids a learner works through, kept in their session.

The round lists question ids only; option order comes from a per-round seed,
so it survives a reload and the form can carry display positions.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from training.quizzes import grading
from training.quizzes.items import Bank, Question
from training.quizzes.services import ShownQuestion

MODES = ("daily", "chapter", "weak")


@dataclass
class Round:
    """The questions of one practice round and the reviews written for them so far."""

    token: str
    mode: str
    queue: list[int]
    started: datetime
    seed: int
    chapter: str | None = None
    answered: dict[int, int] = field(default_factory=dict)  # question id -> review id

    @classmethod
    def start(cls, mode: str, queue: list[int], now: datetime, chapter: str | None = None) -> Round:
        """Begin a round over the queued question ids."""
        if mode not in MODES:
            raise ValueError(f"unknown practice mode {mode!r}")
        return cls(
            token=secrets.token_urlsafe(12),
            mode=mode,
            queue=list(dict.fromkeys(queue)),
            started=now,
            seed=secrets.randbits(31),
            chapter=chapter,
        )

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready form for the session."""
        return {
            "token": self.token,
            "mode": self.mode,
            "queue": self.queue,
            "started": self.started.isoformat(),
            "seed": self.seed,
            "chapter": self.chapter,
            "answered": {str(qid): rid for qid, rid in self.answered.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Round | None:
        """Rebuild a round from the session; None when there is none or it is malformed."""
        if not data:
            return None
        try:
            return cls(
                token=str(data["token"]),
                mode=str(data["mode"]),
                queue=[int(q) for q in data["queue"]],
                started=datetime.fromisoformat(data["started"]),
                seed=int(data["seed"]),
                chapter=data.get("chapter"),
                answered={int(q): int(r) for q, r in data.get("answered", {}).items()},
            )
        except (KeyError, TypeError, ValueError):
            return None

    def position(self, question_id: int) -> int:
        """Return the 1-based place of a question in the round."""
        return self.queue.index(question_id) + 1

    def next_question(self) -> int | None:
        """Return the first queued question not answered yet."""
        return next((q for q in self.queue if q not in self.answered), None)

    def shown(self, question_id: int, question: Question) -> ShownQuestion:
        """Return the question with its options in this round's display order."""
        digest = hashlib.sha256(f"{self.seed}:{question_id}".encode()).digest()
        bank = Bank(lesson=question.lesson, path=Path(), questions=(question,))
        draw = grading.make_draw(bank, int.from_bytes(digest[:4], "big"), size=1)
        options = question.options_for(draw.questions[0].option_keys)
        return ShownQuestion(0, question, options)
