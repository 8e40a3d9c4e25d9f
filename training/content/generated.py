"""Generate quiz items from norm clauses that prescribe wording (pure: no Flask, no database).

A clause such as "送客人名片,应说“请多指教”" names a situation and the phrase to use in it.
Each such situation becomes one single-choice item: the scenario comes from the situation, the
correct option is the phrase as the norm has it (placeholders such as "**(姓+职务)" filled with
a realistic example), and the wrong options are near misses: the phrase the norm prescribes for
a neighbouring situation, and authored variants from ``quizzes/distractors.yaml`` (the phrase
without the company name, in an informal wording, with its steps in the wrong order). Every
option is written with the same punctuation, so none stands out. Two situations of one kind
whose phrases contain one another ("您好,这里是…公司" and "您好,这里是…公司,请问有什么能帮到您")
make one item citing both clauses.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import unicodedata
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

import yaml

from training.norm.model import NormDocument, Section, normalize_text

DEFAULT_SOURCE = "content/source/service-norm.txt"
GENERATED_DIR = "generated"
DISTRACTORS_FILE = "distractors.yaml"
PROMPT = "按照公司服务规范,这时应该怎么说?".translate(str.maketrans(",?", "，？"))
DISTRACTORS_PER_ITEM = 3
TEMPLATES_PER_ITEM = 2  # formal, complete alternatives among the wrong options
ENTRY_KEYS = frozenset({"text", "feedback", "template"})
MIN_PER_CATEGORY = 5

CATEGORIES = (
    "phone_answer",
    "phone_call_out",
    "greeting_visitor",
    "leaving_customer",
    "apology",
    "business_card_give",
    "business_card_receive",
    "reception",
    "entering_office",
    "wrong_number",
    "hang_up",
    "trade_show_welcome",
    "trade_show_farewell",
    "generic",
)

# Situations whose prescribed phrases are near misses for one another.
NEIGHBOURS = {
    "phone_answer": ("phone_call_out",),
    "phone_call_out": ("phone_answer",),
    "business_card_give": ("business_card_receive",),
    "business_card_receive": ("business_card_give",),
    "greeting_visitor": ("reception", "trade_show_welcome"),
    "reception": (),  # its list overlaps 迎客; authored near misses only
    "trade_show_welcome": ("greeting_visitor", "reception"),
    "leaving_customer": ("trade_show_farewell",),
    "trade_show_farewell": ("trade_show_farewell", "leaving_customer", "hang_up"),
    "hang_up": ("trade_show_farewell",),
    "apology": (),
    "entering_office": (),
    "wrong_number": (),
    "generic": (),
}
# Placeholders in prescribed phrases and the example put in their place, most specific first.
PLACEHOLDERS = (
    (re.compile(r"\*+公司\*+\([^)）]*\)"), "华东精机的王经理"),
    (re.compile(r"\*+[(（][^)）]*姓[^)）]*[)）]"), "王经理"),
    (re.compile(r"\*+公司"), "华东精机"),
)
# The options' closing punctuation is dropped: every option then ends the same way.
_TRAILING = "。.!！?？~～;；,，、 "
_HALF_WIDTH = str.maketrans(
    {",": "，", ";": "；", ":": "：", "?": "？", "!": "！", "(": "（", ")": "）"}
)

# What the learner sees after the situation, per category: "{s}" is the clause's situation.
SCENARIO_TAILS = {
    "phone_answer": "{s},对方正等着你开口。",
    "phone_call_out": "{s},电话刚刚接通。",
    "greeting_visitor": "{s},客人已经走到你面前。",
    "leaving_customer": "{s},你起身准备告辞。",
    "apology": "{s},客人正看着你。",
    "business_card_give": "{s},你双手递上自己的名片。",
    "business_card_receive": "{s},客人把名片递到你面前。",
    "reception": "{s},一位访客走了进来。",
    "entering_office": "{s},你敲门得到允许后走进了办公室,准备开口。",
    "wrong_number": "{s},你听出对方要找的并不是本公司。",
    "hang_up": "{s},要谈的事已经谈完。",
    "trade_show_welcome": "{s},你正在公司展位值守。",
    "trade_show_farewell": "{s},你站在展位前目送对方。",
    "generic": "{s},你准备开口。",
}

# (category, words of which the situation must contain one, words the clause must contain one
# of); the first rule that fits wins, so the narrower rules come first.
_RULES: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("wrong_number", ("拨错", "打错"), ()),
    ("hang_up", ("挂断", "挂电话", "结束通话"), ()),
    ("phone_answer", ("接听", "接电话", "电话筒", "话筒", "电话响", "来电"), ()),
    ("phone_call_out", ("打电话", "拨打", "去电", "致电"), ()),
    ("business_card_give", ("送", "递", "给"), ("名片",)),
    ("business_card_receive", ("收", "接"), ("名片",)),
    ("trade_show_farewell", ("离开", "告辞", "道别"), ("展会", "展位")),
    ("trade_show_welcome", ("经过", "参观", "来到", "走近", "进入"), ("展会", "展位")),
    ("leaving_customer", ("离开", "告辞", "道别"), ()),
    ("apology", ("不便", "差错", "失误", "麻烦", "久等"), ()),
    ("entering_office", ("办公室", "不认识"), ()),
    ("entering_office", ("不认识", "陌生"), ("办公室",)),
    ("greeting_visitor", ("迎客", "迎接", "见到客"), ()),
    ("reception", ("接待", "来访", "访客"), ()),
)
_INTERNAL_WORDS = ("同事", "内部", "领导", "上级", "下属", "部门")

_OPEN, _CLOSE = "“", "”"
_SENTENCE_ENDS = "。;；!！?？"
_SEGMENT_BREAKS = ",，;；"
# Words between the situation and the verb: manner, modality, "常规".
_FILLERS = "常规|应当|应该|一般|通常|微笑|点头|主动|应|要|须|需|先|都|均|在"
# Verbs that introduce a phrase; "开头语一般用" and "道声" prescribe on their own.
_VERBS = "开头语一般用|开头语用|用语为|道声|说|道|讲|问候|如"
_INTRO = re.compile(
    rf"(?P<before>.*?)(?P<lead>(?:{_FILLERS})*)(?P<verb>{_VERBS})[:：,，]?\s*$", re.DOTALL
)
_MODALS = ("应", "要", "须", "需", "一般", "通常", "先")
_SELF_PRESCRIBING = ("开头语一般用", "开头语用", "用语为", "道声")
# Between two quotes of one list of phrases: "“对不起”、“不好意思”".
_LIST_JOIN = re.compile(r"[、,，\s]*(?:或者|或|和|及)?[、,，\s]*")
_LEADING_CONDITION = re.compile(r"^(?:若|如果|假如|当)")


class DistractorError(ValueError):
    """The distractor file is unusable; the message names the file and category."""


@dataclass(frozen=True)
class Distractor:
    """One authored wrong phrasing and what is wrong with it.

    ``template`` marks a phrase another company's norm might prescribe: as formal and
    complete as the key, so the key cannot be picked out by its polish alone.
    """

    text: str
    feedback: str
    template: bool = False


@dataclass(frozen=True)
class Prescription:
    """One situation in a clause and the phrase the norm prescribes for it.

    ``index`` counts situations within the clause from 1. ``alternatives`` are further phrases
    the norm lists for the same situation; ``follow_up`` is what the norm says to do right
    after the phrase ("主动说明自己的身份,再说明来意").
    """

    clause: str
    index: int
    situation: str
    phrase: str
    alternatives: tuple[str, ...] = ()
    follow_up: str = ""
    category: str = "generic"
    internal: bool = False
    also_cites: tuple[str, ...] = ()  # clauses whose phrase this one's contains

    @property
    def item_id(self) -> str:
        return f"gen-{self.clause.replace('.', '-')}-{self.index}"

    @property
    def phrases(self) -> tuple[str, ...]:
        return (self.phrase, *self.alternatives)


# --- finding prescriptions -------------------------------------------------------------------


def clause_text(section: Section) -> str:
    """Return the clause's full wording, putting back a title the parser took from the text."""
    title, body = section.title, section.body
    stem = normalize_text(title.removesuffix("…"))
    if not title or normalize_text(body).startswith(stem):
        return body
    return f"{title}。{body}" if body else title


def _quotes(text: str) -> Iterator[tuple[int, int]]:
    """Yield (start, end) of each “…” span, end just past the closing quote."""
    pos = 0
    while (start := text.find(_OPEN, pos)) != -1:
        end = text.find(_CLOSE, start + 1)
        if end == -1:
            return
        yield start, end + 1
        pos = end + 1


def _sentences(text: str) -> list[str]:
    """Split at sentence ends that are outside quotes."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == _OPEN:
            depth += 1
        elif ch == _CLOSE:
            depth = max(0, depth - 1)
        elif ch in _SENTENCE_ENDS and depth == 0:
            out.append(text[start : i + 1])
            start = i + 1
    out.append(text[start:])
    return [s for s in out if s.strip()]


def _segments(text: str) -> list[str]:
    return [part.strip() for part in re.split(f"[{_SEGMENT_BREAKS}]", text)]


def _groups(sentence: str) -> list[tuple[int, int, list[str]]]:
    """Group quotes joined only by "、" or "或" into lists: (start, end, phrases)."""
    groups: list[tuple[int, int, list[str]]] = []
    for start, end in _quotes(sentence):
        phrase = sentence[start + 1 : end - 1].strip()
        if groups and _LIST_JOIN.fullmatch(sentence[groups[-1][1] : start]):
            groups[-1] = (groups[-1][0], end, [*groups[-1][2], phrase])
        else:
            groups.append((start, end, [phrase]))
    return groups


def _prescribes(lead: str, verb: str, phrases: list[str], sentence: str) -> bool:
    """Tell "应说“…”" from "可以说“…”": the wording must be required, not merely quoted."""
    if verb in _SELF_PRESCRIBING:
        return True
    if verb == "如":
        return len(phrases) > 1 and any(m in sentence for m in ("应", "要", "须"))
    return any(m in lead for m in _MODALS)


def _situation(before: str, opening: str) -> str:
    """Pick the situation from the words before the verb; add the clause's opening "…时"."""
    parts = [p for p in _segments(before) if p]
    if not parts:
        return ""
    chosen = next((p for p in reversed(parts) if p.endswith("时")), parts[-1])
    chosen = _LEADING_CONDITION.sub("", chosen).removesuffix("在").strip()
    if not chosen.endswith("时") and opening:
        return f"{opening},{chosen}"
    return chosen


def _follow_up(after: str) -> str:
    """Return the action the norm requires right after the phrase ("“您好”后要…")."""
    if not after.startswith("后"):
        return ""
    rest = after[1:].rstrip(_SENTENCE_ENDS).strip(" ,，")
    for modal in ("应当", "应该", "应", "要", "须", "需"):
        if rest.startswith(modal):
            return rest[len(modal) :].strip()
    return rest


def classify(situation: str, clause: str) -> str:
    """Return the distractor category that fits a situation in a clause's text."""
    for category, words, context in _RULES:
        if any(w in situation for w in words) and (
            not context or any(c in clause for c in context)
        ):
            return category
    return "generic"


def _clause_prescriptions(section: Section) -> list[Prescription]:
    text = clause_text(section)
    if _OPEN not in text:
        return []
    sentences = _sentences(text)
    # An opening "外出办公务时," sets the scene for the sentences after it.
    first = _segments(sentences[0])[0]
    opening = _LEADING_CONDITION.sub("", first) if first.endswith("时") else ""
    found: list[Prescription] = []
    for number, sentence in enumerate(sentences):
        previous_end = 0
        for start, end, phrases in _groups(sentence):
            intro = sentence[previous_end:start]
            previous_end = end
            match = _INTRO.fullmatch(intro)
            if not match or not _prescribes(match["lead"], match["verb"], phrases, sentence):
                continue
            situation = _situation(match["before"], opening if number else "")
            phrases = [p for p in phrases if p]
            if not situation or not phrases:
                continue
            found.append(
                Prescription(
                    clause=section.number,
                    index=len(found) + 1,
                    situation=situation,
                    phrase=phrases[0],
                    alternatives=tuple(phrases[1:]),
                    follow_up=_follow_up(sentence[end:]),
                    category=classify(situation, f"{section.title}{text}"),
                    internal=any(w in situation for w in _INTERNAL_WORDS),
                )
            )
    return found


def find_prescriptions(doc: NormDocument) -> list[Prescription]:
    """Return every situation for which a clause prescribes a phrase, in document order.

    A situation whose phrase is contained in another's of the same kind is merged into it,
    so the same question is never asked twice.
    """
    found = [p for section in doc.walk() for p in _clause_prescriptions(section)]
    merged: list[Prescription] = []
    for p in found:
        fuller = next(
            (
                q
                for q in found
                if q is not p
                and q.category == p.category
                and fold(p.phrase) in fold(q.phrase)
                and (fold(p.phrase) != fold(q.phrase) or found.index(q) < found.index(p))
            ),
            None,
        )
        if fuller is None:
            merged.append(p)
    result = []
    for p in merged:
        absorbed = tuple(
            q.clause
            for q in found
            if q not in merged
            and q.category == p.category
            and fold(q.phrase) in fold(p.phrase)
            and q.clause != p.clause
        )
        result.append(dataclasses.replace(p, also_cites=absorbed) if absorbed else p)
    return result


# --- distractors -----------------------------------------------------------------------------


def fold(text: str) -> str:
    """Return text without whitespace or punctuation, for comparing phrasings."""
    return "".join(
        ch for ch in normalize_text(text) if not unicodedata.category(ch).startswith("P")
    )


def load_distractors(path: Path, *, prescribed: Iterable[str] = ()) -> dict[str, list[Distractor]]:
    """Read and validate the distractor file; no entry may equal a ``prescribed`` phrase."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DistractorError(f"{path}: cannot read the file: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise DistractorError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise DistractorError(f"{path}: expected a mapping of category to a list of entries")
    for category in data:
        if category not in CATEGORIES:
            raise DistractorError(
                f"{path}: {category}: unknown category; use one of {', '.join(CATEGORIES)}"
            )
    result: dict[str, list[Distractor]] = {}
    for category in CATEGORIES:
        if category not in data:
            raise DistractorError(f"{path}: {category}: category is missing")
        result[category] = _category(path, category, data[category])
    check_distractors(result, prescribed, where=str(path))
    return result


def _category(path: Path, category: str, raw: Any) -> list[Distractor]:
    where = f"{path}: {category}"
    if not isinstance(raw, list):
        raise DistractorError(f"{where}: expected a list of entries with 'text' and 'feedback'")
    if len(raw) < MIN_PER_CATEGORY:
        raise DistractorError(f"{where}: needs at least {MIN_PER_CATEGORY} entries, has {len(raw)}")
    entries: list[Distractor] = []
    seen: dict[str, int] = {}
    for number, item in enumerate(raw, start=1):
        place = f"{where}: entry {number}"
        if not isinstance(item, dict) or not {"text", "feedback"} <= set(item) <= ENTRY_KEYS:
            raise DistractorError(
                f"{place}: must be a mapping with 'text' and 'feedback' (and optionally 'template')"
            )
        if not isinstance(item.get("template", False), bool):
            raise DistractorError(f"{place}: 'template' must be true or false")
        for key in ("text", "feedback"):
            if not isinstance(item[key], str) or not item[key].strip():
                raise DistractorError(f"{place}: '{key}' is empty or not text")
        text = item["text"].strip()
        if fold(text) in seen:
            raise DistractorError(f"{place}: repeats entry {seen[fold(text)]} ({text!r})")
        seen[fold(text)] = number
        entries.append(Distractor(text, item["feedback"].strip(), item.get("template", False)))
    return entries


def check_distractors(
    distractors: Mapping[str, list[Distractor]], prescribed: Iterable[str], *, where: str
) -> None:
    """Raise DistractorError if a distractor is, up to punctuation, a prescribed phrase."""
    correct = {fold(p): p for p in prescribed}
    for category, entries in distractors.items():
        for number, entry in enumerate(entries, start=1):
            if fold(entry.text) in correct:
                raise DistractorError(
                    f"{where}: {category}: entry {number} ({entry.text!r}) is the prescribed "
                    f"phrase “{correct[fold(entry.text)]}”; a distractor must be wrong"
                )


# --- items and banks -------------------------------------------------------------------------


def lesson_of(number: str, lesson_numbers: Collection[str]) -> str | None:
    """Return the lesson covering a clause: the longest lesson number that is it or its prefix."""
    covering = [n for n in lesson_numbers if number == n or number.startswith(n + ".")]
    return max(covering, key=len, default=None)


def lesson_map(doc: NormDocument, lesson_numbers: Collection[str]) -> dict[str, str]:
    """Map every clause number that lies in a lesson to that lesson's number."""
    found = {s.number: lesson_of(s.number, lesson_numbers) for s in doc.walk()}
    return {number: lesson for number, lesson in found.items() if lesson is not None}


def _scenario(p: Prescription) -> str:
    situation = p.situation
    last = _segments(situation)[-1]
    if last.startswith("对") and not last.startswith("对方"):
        # "对不认识的人员" names whom you speak to: "面对不认识的人员".
        situation = situation.removesuffix(last) + "面" + last
    elif "时" not in situation:
        situation += "时"
    return SCENARIO_TAILS[p.category].format(s=situation)


def _rank(item_id: str, text: str) -> str:
    return hashlib.sha256(f"{item_id}\n{text}".encode()).hexdigest()


def as_option(text: str) -> str:
    """Return a phrase as an option reads: full-width punctuation, no closing punctuation."""
    return text.translate(_HALF_WIDTH).strip().rstrip(_TRAILING)


def fill_placeholders(phrase: str) -> str:
    """Put a realistic example in place of the norm's placeholders ("**(姓+职务)" → "王经理")."""
    for pattern, example in PLACEHOLDERS:
        phrase = pattern.sub(example, phrase)
    return phrase


def _key_text(p: Prescription) -> str:
    text = as_option(fill_placeholders(p.phrase))
    if p.follow_up:
        text += f"(然后{as_option(p.follow_up)})".translate(_HALF_WIDTH)
    return text


def _neighbour_options(
    p: Prescription, everything: Iterable[Prescription], taken: set[str]
) -> list[dict[str, Any]]:
    """Return the phrases the norm prescribes for neighbouring situations, as wrong options."""
    options = []
    near = NEIGHBOURS.get(p.category, ())
    ordered = sorted(
        (o for o in everything if o is not p and o.category in near),
        key=lambda o: near.index(o.category),
    )
    for other in ordered:
        rank = near.index(other.category)
        for phrase in other.phrases:
            folded = fold(fill_placeholders(phrase))
            if any(folded in t or t in folded for t in taken):
                continue  # contains the key, or is part of it: not wrong here
            text = as_option(fill_placeholders(phrase))
            situation = as_option(other.situation)
            options.append(
                {
                    "text": text,
                    "feedback": f"“{text}”是规范 {other.clause} 条为“{situation}”规定的用语，"
                    "不是这里该说的。",
                    "rank": rank,
                }
            )
            taken.add(folded)
    return options


def make_item(
    p: Prescription,
    distractors: Mapping[str, list[Distractor]],
    everything: Iterable[Prescription] = (),
) -> dict[str, Any]:
    """Build the bank entry for one prescription; choices are seeded by the item id."""
    item_id = p.item_id
    taken = {fold(fill_placeholders(x)) for x in p.phrases}
    # The nearest miss: of the first neighbouring situation's phrases, the most like the key.
    candidates = _neighbour_options(p, everything, set(taken))
    key = fold(_key_text(p))
    neighbours = sorted(
        candidates,
        key=lambda o: (o["rank"], -SequenceMatcher(None, key, fold(o["text"])).ratio()),
    )[:1]
    for option in neighbours:
        option.pop("rank")
    taken |= {fold(o["text"]) for o in neighbours}
    pool = sorted(
        (d for d in distractors[p.category] if fold(d.text) not in taken),
        key=lambda d: _rank(item_id, d.text),
    )
    wanted = DISTRACTORS_PER_ITEM - len(neighbours)
    if len(pool) < wanted:
        raise DistractorError(
            f"{p.category}: needs {wanted} distractors for {item_id}, has {len(pool)}"
        )
    # The formal alternatives closest to the key in length: a one-word key beside
    # two-line alternatives would stand out by its brevity alone.
    key_length = len(fold(_key_text(p)))
    templates = sorted(
        (d for d in pool if d.template), key=lambda d: abs(len(fold(d.text)) - key_length)
    )[: min(TEMPLATES_PER_ITEM, wanted)]
    chosen = templates + [d for d in pool if d not in templates][: wanted - len(templates)]

    text = _key_text(p)
    cites = [p.clause, *p.also_cites]
    where = "、".join(cites)
    feedback = f"这是规范第 {where} 条规定的用语。"
    if fill_placeholders(p.phrase) != p.phrase:
        feedback += (
            f"规范的句式是“{as_option(p.phrase)}”，说的时候代入对方的公司和姓氏、职务，"
            f"例如“{as_option(fill_placeholders(p.phrase))}”。"
        )
    if p.alternatives:
        listed = "、".join(f"“{as_option(a)}”" for a in p.alternatives)
        feedback += f"同一场合规范还列出了{listed}。"
    options = [{"text": as_option(d.text), "feedback": d.feedback} for d in chosen] + neighbours
    options.sort(key=lambda o: _rank(item_id, "order" + o["text"]))
    slot = int(_rank(item_id, "")[:8], 16) % (len(options) + 1)
    options.insert(slot, {"text": text, "correct": True, "feedback": feedback})
    return {
        "id": item_id,
        "kind": "single",
        "generated": True,
        "source_clause": p.clause,
        "cites": cites,
        "tags": ["internal" if p.internal else "external"],
        "scenario": _scenario(p).translate(_HALF_WIDTH),
        "prompt": PROMPT,
        "options": options,
    }


def generate_items(
    doc: NormDocument,
    distractors: Mapping[str, list[Distractor]],
    lessons: Mapping[str, str],
) -> dict[str, list[dict[str, Any]]]:
    """Return generated items grouped by lesson; ``lessons`` maps clause number to lesson."""
    found = find_prescriptions(doc)
    check_distractors(distractors, (x for p in found for x in p.phrases), where="distractors")
    banks: dict[str, list[dict[str, Any]]] = {}
    for p in found:
        if p.clause not in lessons:
            raise ValueError(f"clause {p.clause} prescribes wording but belongs to no lesson")
        banks.setdefault(lessons[p.clause], []).append(make_item(p, distractors, found))
    return banks


class _Dumper(yaml.SafeDumper):
    """Dump plain data without anchors, so a shared list never becomes an alias."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def render_generated_bank(
    lesson: str, items: list[dict[str, Any]], *, source: str = DEFAULT_SOURCE
) -> str:
    """Return the YAML text of one generated bank, the same bytes for the same items."""
    body = yaml.dump(
        {"lesson": lesson, "questions": items},
        Dumper=_Dumper,
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=False,
        width=10_000,
    )
    return f"# Generated by `flask content build` from {source}; do not edit.\n{body}"


def generated_banks(
    doc: NormDocument,
    distractors: Mapping[str, list[Distractor]],
    lessons: Mapping[str, str],
    *,
    source: str = DEFAULT_SOURCE,
) -> dict[str, str]:
    """Return the text of every generated bank, by lesson."""
    items = generate_items(doc, distractors, lessons)
    return {
        lesson: render_generated_bank(lesson, qs, source=source) for lesson, qs in items.items()
    }


def write_generated(
    quiz_dir: Path, banks: Mapping[str, str]
) -> tuple[list[Path], list[Path], list[Path]]:
    """Write ``<quiz_dir>/generated/<lesson>.yaml`` where changed and remove stale ones."""
    out = quiz_dir / GENERATED_DIR
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    unchanged: list[Path] = []
    for lesson, text in sorted(banks.items()):
        path = out / f"{lesson}.yaml"
        data = text.encode("utf-8")
        if path.is_file() and path.read_bytes() == data:
            unchanged.append(path)
            continue
        path.write_bytes(data)
        written.append(path)
    keep = {f"{lesson}.yaml" for lesson in banks}
    removed = [path for path in sorted(out.glob("*.yaml")) if path.name not in keep]
    for path in removed:
        path.unlink()
    return written, unchanged, removed
