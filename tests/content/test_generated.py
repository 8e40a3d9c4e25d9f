"""Quiz items generated from the clauses of the norm that prescribe wording."""

from pathlib import Path

import pytest
import yaml

from training.content.generated import (
    CATEGORIES,
    DistractorError,
    as_option,
    fill_placeholders,
    find_prescriptions,
    fold,
    generate_items,
    generated_banks,
    lesson_map,
    lesson_of,
    load_distractors,
    render_generated_bank,
    write_generated,
)
from training.content.outline import load_outline
from training.norm.parse import parse_file, parse_text
from training.quizzes.bank import load_bank, load_banks

ROOT = Path(__file__).resolve().parents[2]
SOURCE = "content/source/service-norm.txt"
DISTRACTORS = ROOT / "quizzes" / "distractors.yaml"


def parse_seed(text=None):
    outline = load_outline(ROOT / "content" / "outline.yaml")
    if text is None:
        return parse_file(outline.source_path(), title_overrides=outline.titles)
    return parse_text(text, title_overrides=outline.titles)


def seed_text():
    return (ROOT / SOURCE).read_text(encoding="utf-8")


def lessons_for(doc):
    numbers = [s.number for s in doc.walk() if s.level == 2 or (s.level == 1 and not s.children)]
    return lesson_map(doc, numbers)


def distractors_for(doc):
    phrases = [x for p in find_prescriptions(doc) for x in p.phrases]
    return load_distractors(DISTRACTORS, prescribed=phrases)


def items_by_id(doc):
    banks = generate_items(doc, distractors_for(doc), lessons_for(doc))
    return {item["id"]: item for items in banks.values() for item in items}


def correct_text(item):
    return next(o["text"] for o in item["options"] if o.get("correct"))


@pytest.fixture(scope="module")
def seed():
    return parse_seed()


SEED_ITEMS = {
    "gen-3-3-2-1-1": ("接听电话时", "您好,这里是深圳市正运动技术有限公司,请问有什么能帮到您"),
    "gen-3-3-2-1-2": (
        "给客户打电话时",
        "您好,这里是深圳市正运动技术有限公司,请问您是****公司**(姓+职务)吗",
    ),
    "gen-3-3-2-2-1": ("迎客时", "见到您很高兴,欢迎您来访"),
    "gen-3-3-2-2-2": ("拜访客户离开时", "打扰**(姓+职务)了"),
    "gen-3-3-2-3-1": ("造成客人不便时", "对不起"),
    "gen-3-3-2-4-1": ("送客人名片", "请多指教"),
    "gen-3-3-2-4-2": ("收客人名片", "谢谢"),
    "gen-3-3-2-5-1": ("在接待来访人员时", "您好"),
    "gen-3-3-2-6-1": ("外出办公务时,对不认识的人员", "您好"),
    "gen-4-2-1-6-1": ("对方拨错电话时", "对不起,您拨错电话号码了,请您查证后再拨"),
    "gen-4-2-1-7-1": ("挂断电话时", "再见"),
    "gen-4-2-4-1": ("客人经过展位", "您好,欢迎参观深圳市正运动技术有限公司"),
    "gen-4-2-4-2": ("普通客人离开时", "您走好"),
    "gen-4-2-4-3": ("意向客户离开时", "**(意向客户姓+职位)再见,我们保持密切联系"),
}


def test_seed_prescriptions_are_found_with_their_situations(seed):
    found = {p.item_id: (p.situation, p.phrase) for p in find_prescriptions(seed)}
    assert found == SEED_ITEMS


def test_a_phrase_contained_in_another_of_its_kind_is_asked_once_citing_both(seed):
    found = {p.item_id: p for p in find_prescriptions(seed)}
    assert "gen-4-2-1-2-1" not in found  # "您好,这里是…公司" is the start of 3.3.2.1's phrase
    assert found["gen-3-3-2-1-1"].also_cites == ("4.2.1.2",)
    assert items_by_id(seed)["gen-3-3-2-1-1"]["cites"] == ["3.3.2.1", "4.2.1.2"]


def test_seed_prescriptions_keep_listed_alternatives_and_follow_up(seed):
    found = {p.item_id: p for p in find_prescriptions(seed)}
    assert found["gen-3-3-2-2-2"].alternatives == ("您请留步",)
    assert found["gen-3-3-2-3-1"].alternatives == ("不好意思",)
    assert found["gen-3-3-2-5-1"].alternatives[-2:] == ("欢迎您再来", "再见")
    assert found["gen-3-3-2-6-1"].follow_up == "主动说明自己的身份,再说明来意"
    assert found["gen-3-3-2-4-1"].category == "business_card_give"
    assert found["gen-3-3-2-4-2"].category == "business_card_receive"
    assert found["gen-4-2-4-3"].category == "trade_show_farewell"


def test_quoted_words_that_prescribe_nothing_make_no_item(seed):
    # 1.1 and 2.1 quote "服务" and a saying ("可以说“…”"), but require no wording.
    clauses = {p.clause for p in find_prescriptions(seed)}
    assert not clauses & {"1.1", "2.1"}


@pytest.mark.parametrize(
    "phrase",
    [
        "您好,这里是深圳市正运动技术有限公司,请问有什么能帮到您",
        "请多指教",
        "对不起,您拨错电话号码了,请您查证后再拨",
        "再见",
        "您走好",
    ],
)
def test_seed_items_offer_the_prescribed_phrase_verbatim(seed, phrase):
    items = items_by_id(seed)
    assert fold(phrase) in {fold(correct_text(item)) for item in items.values()}


@pytest.mark.parametrize(
    ("item_id", "key", "pattern"),
    [
        (
            "gen-3-3-2-1-2",
            "您好，这里是深圳市正运动技术有限公司，请问您是华东精机的王经理吗",
            "“您好，这里是深圳市正运动技术有限公司，请问您是****公司**（姓+职务）吗”",
        ),
        ("gen-3-3-2-2-2", "打扰王经理了", "“打扰**（姓+职务）了”"),
        (
            "gen-4-2-4-3",
            "王经理再见，我们保持密切联系",
            "“**（意向客户姓+职位）再见，我们保持密切联系”",
        ),
    ],
)
def test_placeholders_become_a_realistic_example_and_feedback_gives_the_pattern(
    seed, item_id, key, pattern
):
    item = items_by_id(seed)[item_id]
    right = next(o for o in item["options"] if o.get("correct"))
    assert right["text"] == key
    assert pattern in right["feedback"]
    assert not any("*" in o["text"] for o in item["options"])


def test_options_are_parallel_in_punctuation_and_never_caricatures(seed):
    from training.quizzes.cues import item_cues
    from training.quizzes.schema import parse_question

    for item_id, raw in items_by_id(seed).items():
        question = parse_question(raw, index=0, lesson="x", clause_numbers=None, report=print)
        punctuation = [c for c in item_cues(question) if "punctuation" in c]
        assert punctuation == [], item_id
        assert all(
            not o["text"].endswith(("。", "!", "！", "?", "？", "~")) for o in raw["options"]
        )


def test_a_neighbouring_situations_phrase_is_the_near_miss(seed):
    items = items_by_id(seed)
    give = {o["text"] for o in items["gen-3-3-2-4-1"]["options"] if not o.get("correct")}
    receive = {o["text"] for o in items["gen-3-3-2-4-2"]["options"] if not o.get("correct")}
    assert "谢谢" in give
    assert "请多指教" in receive
    farewell = {o["text"] for o in items["gen-4-2-4-2"]["options"] if not o.get("correct")}
    assert "王经理再见，我们保持密切联系" in farewell


def test_generated_item_shape(seed):
    item = items_by_id(seed)["gen-3-3-2-4-2"]
    assert item["generated"] is True
    assert item["source_clause"] == "3.3.2.4"
    assert item["cites"] == ["3.3.2.4"]
    assert item["tags"] == ["external"]
    assert item["scenario"] == "收客人名片时，客人把名片递到你面前。"
    assert item["prompt"] == "按照公司服务规范，这时应该怎么说？"
    assert len(item["options"]) == 4
    assert all(o["feedback"] for o in item["options"])
    right = [o for o in item["options"] if o.get("correct")]
    assert right == [
        {"text": "谢谢", "correct": True, "feedback": "这是规范第 3.3.2.4 条规定的用语。"}
    ]


def test_every_wrong_option_is_an_authored_distractor_or_a_neighbouring_phrase(seed):
    distractors = distractors_for(seed)
    prescriptions = find_prescriptions(seed)
    neighbour_phrases = {as_option(fill_placeholders(x)) for p in prescriptions for x in p.phrases}
    for p in prescriptions:
        item = items_by_id(seed)[p.item_id]
        authored = {(as_option(d.text), d.feedback) for d in distractors[p.category]}
        wrong = [(o["text"], o["feedback"]) for o in item["options"] if not o.get("correct")]
        assert len(wrong) == 3
        assert len(set(wrong)) == 3
        from_neighbours = [w for w in wrong if w not in authored]
        assert len(from_neighbours) <= 1
        assert all(text in neighbour_phrases for text, _ in from_neighbours)
        own = {fold(fill_placeholders(x)) for x in p.phrases}
        assert not {fold(text) for text, _ in wrong} & own


def test_changed_phrase_keeps_the_item_id_and_changes_the_item(seed):
    text = seed_text().replace("请您查证后再拨", "请您核对号码后再拨")
    changed = items_by_id(parse_seed(text))
    before = items_by_id(seed)
    assert set(changed) == set(before)
    item = changed["gen-4-2-1-6-1"]
    assert correct_text(item) == "对不起，您拨错电话号码了，请您核对号码后再拨"
    assert item != before["gen-4-2-1-6-1"]
    assert changed["gen-4-2-1-7-1"] == before["gen-4-2-1-7-1"]


def test_new_clause_that_prescribes_wording_yields_a_new_item(seed):
    new = "4.2.1.9通话中需要对方等待时,应说“请您稍等”。"
    text = seed_text().replace("4.2.2上门服务", new + "4.2.2上门服务")
    doc = parse_seed(text)
    assert doc.find("4.2.1.9") is not None
    banks = generate_items(doc, distractors_for(doc), lessons_for(doc))
    items = {item["id"]: item for item in banks["4.2"]}
    assert set(items) - set(items_by_id(seed)) == {"gen-4-2-1-9-1"}
    assert correct_text(items["gen-4-2-1-9-1"]) == "请您稍等"
    assert items["gen-4-2-1-9-1"]["scenario"].startswith("通话中需要对方等待时，")


def test_generation_is_deterministic(seed):
    first = generated_banks(seed, distractors_for(seed), lessons_for(seed), source=SOURCE)
    again = generated_banks(parse_seed(), distractors_for(seed), lessons_for(seed), source=SOURCE)
    assert first == again
    assert first["3.3"].startswith(
        f"# Generated by `flask content build` from {SOURCE}; do not edit.\n"
    )


def test_rendered_bank_reads_back_as_the_items(seed):
    items = generate_items(seed, distractors_for(seed), lessons_for(seed))["4.2"]
    text = render_generated_bank("4.2", items)
    assert yaml.safe_load(text) == {"lesson": "4.2", "questions": items}
    assert "&id" not in text
    assert "*id" not in text


def test_write_generated_writes_only_changes_and_removes_stale_banks(tmp_path):
    stale = tmp_path / "generated" / "9.9.yaml"
    stale.parent.mkdir()
    stale.write_text("old", encoding="utf-8")
    banks = {"3.3": "lesson: '3.3'\n", "4.2": "lesson: '4.2'\n"}
    written, unchanged, removed = write_generated(tmp_path, banks)
    assert [p.name for p in written] == ["3.3.yaml", "4.2.yaml"]
    assert (unchanged, removed) == ([], [stale])
    assert not stale.exists()

    banks["4.2"] = "lesson: '4.2'\nquestions: []\n"
    written, unchanged, removed = write_generated(tmp_path, banks)
    assert [p.name for p in written] == ["4.2.yaml"]
    assert [p.name for p in unchanged] == ["3.3.yaml"]
    assert removed == []


@pytest.mark.parametrize(
    ("number", "lesson"),
    [("3.3.2.4", "3.3"), ("4.2", "4.2"), ("5", "5"), ("1.10.1", "1.10"), ("6.1", None)],
)
def test_lesson_of_picks_the_covering_lesson(number, lesson):
    assert lesson_of(number, ["1.1", "1.10", "3.3", "4.2", "5"]) == lesson


def test_clause_outside_every_lesson_is_an_error(seed):
    with pytest.raises(ValueError, match=r"clause 3\.3\.2\.2 .* no lesson"):
        generate_items(seed, distractors_for(seed), {"3.3.2.1": "3.3"})


# --- the distractor file -----------------------------------------------------------------


def distractor_file(tmp_path, change):
    data = yaml.safe_load(DISTRACTORS.read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "distractors.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _copy_text(category, source, target, *, suffix=""):
    """Give entry ``target`` the text of entry ``source``, differing only in punctuation."""

    def change(data):
        data[category][target]["text"] = data[category][source]["text"] + suffix

    return change


def _set(category, index, key, value):
    def change(data):
        data[category][index][key] = value

    return change


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("hang_up"), "hang_up: category is missing"),
        (lambda d: d.update(smalltalk=d["generic"]), "smalltalk: unknown category"),
        (_set("apology", 2, "text", "  "), "apology: entry 3: 'text' is empty"),
        (_set("apology", 0, "feedback", ""), "apology: entry 1: 'feedback' is empty"),
        (lambda d: d["reception"][1].pop("feedback"), "reception: entry 2: must be a mapping"),
        (lambda d: d.update(wrong_number=d["wrong_number"][:4]), "at least 5 entries, has 4"),
        (_copy_text("hang_up", 2, 1, suffix="!"), "hang_up: entry 3: repeats entry 2"),
        (lambda d: d.update(generic="嗯。"), "generic: expected a list"),
    ],
)
def test_bad_distractor_file_is_rejected_naming_file_and_category(tmp_path, change, message):
    path = distractor_file(tmp_path, change)
    with pytest.raises(DistractorError, match="^" + str(path).replace("\\", "\\\\")) as info:
        load_distractors(path)
    assert message in str(info.value)


def test_distractor_equal_to_a_prescribed_phrase_is_rejected(tmp_path, seed):
    path = distractor_file(tmp_path, _set("business_card_give", 4, "text", "请多指教!"))
    phrases = [x for p in find_prescriptions(seed) for x in p.phrases]
    with pytest.raises(DistractorError, match="business_card_give: entry 5") as info:
        load_distractors(path, prescribed=phrases)
    assert "请多指教" in str(info.value)
    # Loaded without the phrases, generation still refuses to offer it as a wrong answer.
    with pytest.raises(DistractorError, match="prescribed phrase"):
        generate_items(seed, load_distractors(path), lessons_for(seed))


def test_authored_distractor_file_is_complete(seed):
    distractors = distractors_for(seed)
    assert tuple(distractors) == CATEGORIES
    assert all(len(entries) >= 5 for entries in distractors.values())


# --- the committed banks -----------------------------------------------------------------


def test_committed_generated_banks_equal_a_fresh_generation(seed):
    fresh = generated_banks(seed, distractors_for(seed), lessons_for(seed), source=SOURCE)
    folder = ROOT / "quizzes" / "generated"
    committed = {p.stem: p.read_text(encoding="utf-8") for p in folder.glob("*.yaml")}
    assert committed == fresh


def test_committed_generated_banks_load_cleanly(seed):
    numbers = {s.number for s in seed.walk()}
    folder = ROOT / "quizzes" / "generated"
    for path in sorted(folder.glob("*.yaml")):
        bank, problems = load_bank(path, clause_numbers=numbers)
        assert problems == []
        assert all(q.generated for q in bank.questions)
    banks, problems = load_banks(folder, clause_numbers=numbers)
    assert problems == []
    hand, _ = load_banks(ROOT / "quizzes", clause_numbers=numbers)
    hand_ids = {q.id for bank in hand.values() for q in bank.questions}
    assert not hand_ids & {q.id for bank in banks.values() for q in bank.questions}


def test_each_item_offers_two_formal_alternatives_as_polished_as_the_key(seed):
    distractors = distractors_for(seed)
    for p in find_prescriptions(seed):
        templates = {as_option(d.text) for d in distractors[p.category] if d.template}
        item = items_by_id(seed)[p.item_id]
        wrong = {o["text"] for o in item["options"] if not o.get("correct")}
        assert len(wrong & templates) == min(2, len(templates)), p.item_id


def test_a_distractor_template_flag_must_be_true_or_false(tmp_path):
    path = distractor_file(tmp_path, _set("apology", 0, "template", "yes"))
    with pytest.raises(DistractorError, match="apology: entry 1: 'template' must be true or false"):
        load_distractors(path)
