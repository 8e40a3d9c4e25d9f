"""The catalogs: every UI message extracted from the source has an English translation, and
the Chinese source text uses full-width punctuation."""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po

from training.language import cli

CJK = r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]"
HALF_WIDTH_NEXT_TO_CHINESE = re.compile(rf"(?<={CJK})[,:;()]|[,:;()](?={CJK})")
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """The messages as the source has them now (a fresh extraction, not the committed .po)."""
    template = tmp_path_factory.mktemp("pot") / "messages.pot"
    original, cli.TEMPLATE = cli.TEMPLATE, template
    try:
        cli.extract()
    finally:
        cli.TEMPLATE = original
    with template.open("rb") as f:
        return read_po(f)


@pytest.fixture(scope="module")
def english():
    with (cli.CATALOGS / "en" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f)


def _ids(catalog):
    return {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}


def test_the_source_has_its_messages(source):
    # A broken babel.cfg or keyword list would extract nothing and pass everything below.
    ids = _ids(source)
    assert len(ids) > 800
    assert "服务规范培训" in ids  # a template string
    assert "停用员工" in ids  # a lazy_gettext in Python (the audit action labels)


def test_every_message_has_an_english_translation(source, english):
    translated = {
        (m.id if isinstance(m.id, str) else m.id[0])
        for m in english
        if m.id and all(m.string if isinstance(m.string, tuple) else (m.string,)) and not m.fuzzy
    }
    missing = sorted(_ids(source) - translated)
    assert missing == [], (
        f"{len(missing)} messages without English (run `flask translate update`, translate "
        f"them in training/translations/en/LC_MESSAGES/messages.po): {missing[:20]}"
    )


def test_the_catalogs_have_no_untranslated_fuzzy_or_broken_entry():
    assert cli.problems() == []


def test_translations_keep_the_placeholders_of_their_message(english):
    """Each translation (each plural form of one) has the placeholders of its message id."""
    wrong = []
    for m in english:
        msgid = m.id if isinstance(m.id, str) else m.id[0]
        forms = m.string if isinstance(m.string, tuple) else (m.string,)
        wanted = sorted(PLACEHOLDER.findall(msgid))
        wrong += [
            (msgid, form) for form in forms if form and sorted(PLACEHOLDER.findall(form)) != wanted
        ]
    assert wrong == []


def test_a_message_with_a_count_has_english_for_one_and_for_many(english):
    plural = [m for m in english if isinstance(m.id, tuple)]
    assert len(plural) >= 10  # day counts of reminders, unanswered questions, …
    assert all(len(m.string) == 2 and m.string[0] != m.string[1] for m in plural)


def test_chinese_text_uses_full_width_punctuation(source):
    half = sorted(
        f"{m.locations[0][0]}:{m.locations[0][1]} {m.id!r}"
        for m in source
        if m.id and HALF_WIDTH_NEXT_TO_CHINESE.search(m.id if isinstance(m.id, str) else m.id[0])
    )
    assert half == [], f"half-width , : ; ( ) next to Chinese characters: {half}"


def test_the_punctuation_check_finds_what_it_looks_for():
    assert HALF_WIDTH_NEXT_TO_CHINESE.search("判定为措辞修改(无需复训)")
    assert HALF_WIDTH_NEXT_TO_CHINESE.search("第 3 行:工号为空")
    assert HALF_WIDTH_NEXT_TO_CHINESE.search("姓名,工号")
    assert not HALF_WIDTH_NEXT_TO_CHINESE.search("判定为措辞修改（无需复训）")
    assert not HALF_WIDTH_NEXT_TO_CHINESE.search("版本 1.2 (SCORM 1.2): %(n)s")


def test_the_compiled_catalog_is_rebuilt_when_its_source_changes(tmp_path, monkeypatch):
    po = tmp_path / "xx" / "LC_MESSAGES" / "messages.po"
    po.parent.mkdir(parents=True)
    po.write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        'msgid "退出"\nmsgstr "Sign out"\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(cli, "CATALOGS", tmp_path)
    assert cli.build_stale() == [po.with_suffix(".mo")]
    assert cli.build_stale() == []  # up to date
    po.write_text(po.read_text(encoding="utf-8").replace("Sign out", "Log out"), "utf-8")
    import os

    later = po.with_suffix(".mo").stat().st_mtime + 5
    os.utime(po, (later, later))
    assert cli.build_stale() == [po.with_suffix(".mo")]
    assert b"Log out" in po.with_suffix(".mo").read_bytes()
