"""The phrasebook of the norm in force, generated from its text (the phrase finder of
``content.generated``), grouped by the situations reception and phone staff meet."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from flask_babel import lazy_gettext as _l

from training.content.generated import (
    Prescription,
    as_option,
    fill_placeholders,
    find_prescriptions,
)
from training.course.lessons import clause_lessons
from training.course.versions import current_norm_version
from training.norm.parse import parse_bytes

# Situations in the order staff meet them; each category of the phrase finder has one home.
GROUPS = (
    ("phone", _l("电话"), ("phone_answer", "phone_call_out", "wrong_number", "hang_up")),
    ("visitor", _l("来访与接待"), ("greeting_visitor", "reception", "apology")),
    ("card", _l("名片"), ("business_card_give", "business_card_receive")),
    ("visit", _l("外出拜访"), ("entering_office", "leaving_customer")),
    ("show", _l("展会"), ("trade_show_welcome", "trade_show_farewell")),
    ("other", _l("其他"), ("generic",)),
)


@dataclass(frozen=True)
class Entry:
    """One situation and what to say in it."""

    clause: str
    situation: str
    phrases: tuple[str, ...]  # as the norm words them, full-width punctuation
    examples: tuple[str, ...]  # the same with placeholders filled ("王经理"), where they differ
    follow_up: str
    lesson: str | None


@dataclass(frozen=True)
class Group:
    key: str
    title: str
    entries: tuple[Entry, ...]


@lru_cache(maxsize=4)
def _prescriptions(source_sha256: str, data: bytes) -> tuple[Prescription, ...]:
    return tuple(find_prescriptions(parse_bytes(data, filename="version")))


def phrasebook() -> tuple[list[Group], object]:
    """Return the groups of the norm version in force (parsed once per version) and it."""
    version = current_norm_version()
    if version is None or version.source_bytes is None:
        return [], version
    found = _prescriptions(version.source_sha256, version.source_bytes)
    lessons = clause_lessons({p.clause for p in found})
    groups = []
    for key, title, categories in GROUPS:
        entries = []
        for category in categories:
            for p in found:
                if p.category != category:
                    continue
                phrases = tuple(as_option(phrase) for phrase in p.phrases)
                filled = tuple(fill_placeholders(phrase) for phrase in phrases)
                entries.append(
                    Entry(
                        clause=p.clause,
                        situation=p.situation,
                        phrases=phrases,
                        examples=filled if filled != phrases else (),
                        follow_up=p.follow_up,
                        lesson=lessons.get(p.clause),
                    )
                )
        if entries:
            groups.append(Group(key, str(title), tuple(entries)))
    return groups, version
