"""Which language a page is in: saved choice, then the switch's cookie, then Accept-Language,
then Chinese; the switch itself; audit summaries in the reader's language."""

from __future__ import annotations

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from training.audit.models import AuditEvent
from training.audit.services import record
from training.auth.models import Role, User
from training.extensions import db
from training.i18n import N_, forget_request_locale, render, term
from training.language.selection import normalise

ENGLISH = "Service Norm Training"
CHINESE = "服务规范培训"


def _brand(response) -> str:
    html = response.get_data(as_text=True)
    assert response.status_code == 200, response.status_code
    if ENGLISH in html:
        assert 'lang="en"' in html
        return "en"
    assert CHINESE in html
    assert 'lang="zh-CN"' in html
    return "zh"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "zh"),
        ("en-US,en;q=0.9", "en"),
        ("en", "en"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        ("zh-TW", "zh"),
        ("fr-FR,en;q=0.5", "en"),
        ("fr-FR,de;q=0.5", "zh"),  # nothing we have: the default
        ("de, en;q=0.1, zh;q=0.2", "zh"),
    ],
)
def test_an_anonymous_page_follows_accept_language(client, header, expected):
    headers = {"Accept-Language": header} if header else {}
    assert _brand(client.get("/login", headers=headers)) == expected


def test_the_switch_sets_a_cookie_that_outranks_the_browser(client):
    response = client.post("/language", data={"locale": "en", "next": "/login?x=1"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?x=1"
    cookie = response.headers["Set-Cookie"]
    assert "lang=en" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert _brand(client.get("/login", headers={"Accept-Language": "zh-CN"})) == "en"
    client.post("/language", data={"locale": "zh_Hans_CN", "next": "/login"})
    assert _brand(client.get("/login", headers={"Accept-Language": "en"})) == "zh"


@pytest.mark.parametrize("bad", ["", "fr", "en'><script>", "zh"])
def test_the_switch_refuses_a_language_it_does_not_offer(client, bad):
    assert client.post("/language", data={"locale": bad}).status_code == 400


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil",
        "javascript:alert(1)",
        "/x\r\nSet-Cookie: a=b",
    ],
)
def test_the_switch_goes_back_only_to_a_page_of_this_site(client, target):
    response = client.post("/language", data={"locale": "en", "next": target})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/"), location
    assert not location.startswith("//"), location
    assert "evil" not in location
    assert "\n" not in location


def test_a_signed_in_users_choice_is_saved_and_follows_them(app, client, login_as):
    user = login_as(Role.LEARNER)
    assert _brand(client.get("/")) == "zh"
    client.post("/language", data={"locale": "en", "next": "/"})
    assert db.session.get(User, user.id).locale == "en"
    # Another device, another browser language: the saved choice wins.
    other = app.test_client()
    other.post("/login", data={"employee_no": user.employee_no, "password": "Correct-Horse-42"})
    assert _brand(other.get("/", headers={"Accept-Language": "zh-CN"})) == "en"


def test_the_switch_needs_a_csrf_token(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    assert client.post("/language", data={"locale": "en"}).status_code == 400
    page = client.get("/login").get_data(as_text=True)
    assert 'action="/language"' in page  # the switch is on the login page
    import re

    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post(
        "/language", data={"locale": "en", "csrf_token": token, "next": "/login"}
    )
    assert response.status_code == 302


def test_the_header_offers_the_other_language_in_its_own_words(client):
    zh = client.get("/login").get_data(as_text=True)
    assert 'value="en"' in zh
    assert ">English<" in zh
    client.post("/language", data={"locale": "en", "next": "/login"})
    en = client.get("/login").get_data(as_text=True)
    assert 'value="zh_Hans_CN"' in en
    assert ">中文<" in en


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("en", "en"),
        ("en_US", "en"),
        ("EN-gb", "en"),
        ("zh", "zh_Hans_CN"),
        ("zh-Hant-TW", "zh_Hans_CN"),
        ("zh_Hans_CN", "zh_Hans_CN"),
        ("fr", None),
        ("", None),
        (None, None),
    ],
)
def test_locale_names_are_normalised(value, expected):
    assert normalise(value) == expected


def test_audit_summaries_are_rendered_in_the_readers_language(app, create_user):
    hr = create_user(role=Role.HR)
    with app.test_request_context():
        record(
            "export",
            N_("导出审计日志（%(format)s，%(rows)s 行）"),
            params={"format": "CSV", "rows": 3},
            actor=hr,
        )
        db.session.commit()
    event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event.summary == "导出审计日志（%(format)s，%(rows)s 行）"  # the id, not the text
    assert event.details["summary_params"] == {"format": "CSV", "rows": 3}
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        forget_request_locale()  # as each request does (the fixture's app context outlives it)
        assert event.summary_text == "导出审计日志（CSV，3 行）"
    with app.test_request_context(headers={"Accept-Language": "en"}):
        forget_request_locale()
        assert event.summary_text == "Exported the audit log (CSV, 3 rows)"
        with force_locale("zh_Hans_CN"):  # e.g. an e-mail to a Chinese reader
            assert event.summary_text == "导出审计日志（CSV，3 行）"
        assert event.summary_text == "Exported the audit log (CSV, 3 rows)"


def test_a_summary_stored_as_text_before_is_shown_as_it_was(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        forget_request_locale()
        assert render("导出审计日志(CSV,3 行)") == "导出审计日志(CSV,3 行)"
        assert render("100% 完成", None) == "100% 完成"


def test_terms_inside_parameters_are_translated_too(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        forget_request_locale()
        text = render("%(what)s：%(n)s", {"what": term(N_("审计日志")), "n": 2})
        assert text == "Audit log：2"  # the message itself has no entry; its term does


def test_a_summary_missing_a_parameter_is_refused_when_recorded(app):
    with app.test_request_context(), pytest.raises(KeyError):
        record("export", N_("导出审计日志（%(format)s，%(rows)s 行）"), params={"format": "CSV"})
    db.session.rollback()


def test_the_audit_log_shows_summaries_in_english_to_an_english_reader(client, login_as):
    login_as(Role.HR)
    client.post("/language", data={"locale": "en", "next": "/"})
    client.get("/hr/audit/export.csv").close()  # records an export event
    html = client.get("/hr/audit/").get_data(as_text=True)
    assert "Exported the audit log (CSV, " in html
    assert "Export data" in html  # the action's label


def test_an_english_reader_is_told_the_content_is_chinese(client, login_as, lessons):
    login_as(Role.LEARNER)
    note = "content-language-note"
    lesson = f"/lessons/{lessons[0].number}"
    assert note not in client.get(lesson).get_data(as_text=True)  # Chinese: nothing to say
    client.post("/language", data={"locale": "en", "next": "/"})
    assert note in client.get(lesson).get_data(as_text=True)
    assert note not in client.get("/password").get_data(as_text=True)  # no content there


def test_every_content_page_named_exists(app):
    from training.language.selection import CONTENT_PAGES

    assert CONTENT_PAGES - {rule.endpoint for rule in app.url_map.iter_rules()} == set()


def test_system_made_version_labels_are_rendered_and_hr_labels_kept(app, lessons):
    from training.course.models import NormVersion
    from training.course.versions import current_norm_version

    initial = current_norm_version()  # the committed norm, loaded by `content sync`
    assert initial.label == "初始版本"
    typed = NormVersion(source_sha256="a" * 64, label="2027 修订版")
    repository = NormVersion(source_sha256="b" * 64, label=f"仓库版本 {'b' * 12}")
    elsewhere = NormVersion(source_sha256="c" * 64, label=f"仓库版本 {'b' * 12}")  # typed so
    with app.test_request_context(headers={"Accept-Language": "en"}):
        forget_request_locale()
        assert initial.display_label == "Initial version"
        assert repository.display_label == f"Repository version {'b' * 12}"
        assert typed.display_label == "2027 修订版"  # what HR typed, as typed
        assert elsewhere.display_label == f"仓库版本 {'b' * 12}"
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        forget_request_locale()
        assert initial.display_label == "初始版本"


def test_an_english_quiz_marks_its_chinese_content_and_counts_in_english(client, login_as, lessons):
    from lxml import html as lxml_html

    login_as(Role.LEARNER)
    client.post("/language", data={"locale": "en", "next": "/"})
    response = client.post(f"/lessons/{lessons[0].number}/quiz")
    assert response.status_code == 302
    page = lxml_html.fromstring(client.get(response.headers["Location"]).get_data(as_text=True))
    assert page.get("lang") == "en"
    # Content (prompts and options other than true/false) carries its own language.
    prompts = page.xpath('//p[@class="prompt"]/strong')
    assert prompts
    assert all(p.get("lang") == "zh-CN" for p in prompts)
    for option in page.xpath('//label[@class="option"]/span'):
        inner = option.xpath("./span")
        assert (inner and inner[0].get("lang") == "zh-CN") or option.text in (
            "Correct",
            "Incorrect",
        )
    # The running count the page's script fills in is the English text with its placeholders.
    [form] = page.xpath('//form[@data-count="#answered-count"]')
    assert form.get("data-count-text") == "{answered} of {total} answered"


def test_an_english_lesson_page_marks_the_lesson_text_chinese(client, login_as, lessons):
    from lxml import html as lxml_html

    login_as(Role.LEARNER)
    client.post("/language", data={"locale": "en", "next": "/"})
    page = lxml_html.fromstring(client.get(f"/lessons/{lessons[0].number}").get_data(as_text=True))
    [article] = page.xpath('//article[contains(@class, "lesson")]')
    assert article.get("lang") == "zh-CN"
