"""标准用语速查: generated from the norm in force, grouped by situation, linked to the lessons."""

from __future__ import annotations

import re

from training.course.versions import current_norm_version
from training.phrasebook import services


def test_every_prescribed_phrase_is_listed_by_situation(client, login_as, lessons):
    login_as()
    page = client.get("/phrases/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    groups = re.findall(r'data-group="(\w+)"', html)
    assert groups == ["phone", "visitor", "card", "visit", "show"]
    for phrase in (
        "您好，这里是深圳市正运动技术有限公司，请问有什么能帮到您",
        "对不起，您拨错电话号码了，请您查证后再拨",
        "请多指教",
        "您请留步",
        "您走好",
    ):
        assert f'<q lang="zh-CN">{phrase}</q>' in html, phrase
    # Placeholders get a realistic example beside the norm's pattern.
    assert "例:" in html or "例：" in html
    assert "王经理" in html
    # Each phrase links to the lesson and clause it comes from.
    assert 'href="/lessons/4.2#s-4.2.1.6"' in html
    assert 'data-clause="3.3.2.4"' in html


def test_the_page_follows_the_norm_in_force(app, lessons, monkeypatch):
    version = current_norm_version()
    text = version.source_bytes.decode("utf-8").replace("请多指教", "请多关照", 1)
    monkeypatch.setattr(version, "source_bytes", text.encode("utf-8"))
    monkeypatch.setattr(version, "source_sha256", "0" * 64)
    groups, _ = services.phrasebook()
    card = next(group for group in groups if group.key == "card")
    assert ("请多关照",) in [entry.phrases for entry in card.entries]


def test_anonymous_visitors_are_sent_to_log_in(client, lessons):
    response = client.get("/phrases/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
