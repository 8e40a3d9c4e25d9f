"""Import a bank in the browser and the CLI: preview writes nothing, publish is all or
nothing and once, attempts keep what they showed, and `sync` never silently overwrites it."""

from __future__ import annotations

import copy
import dataclasses
import io
import shutil
import threading
from fractions import Fraction

import pytest
from sqlalchemy import func, select

from tests.banks.conftest import dump
from training.audit.models import AuditEvent
from training.auth.models import Role
from training.banks import formats, services
from training.banks.models import BankDraft, BankPublication, BankSource
from training.extensions import db
from training.quizzes.models import QuestionVersion, QuizQuestion
from training.quizzes.services import shown_questions
from training.revisions.sync import sync_course


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _edited(doc: dict) -> dict:
    """The bank with its first question reworded, its last dropped and one added."""
    doc = copy.deepcopy(doc)
    questions = doc["questions"]
    questions[0]["prompt"] = questions[0]["prompt"] + "(改)"
    dropped = questions.pop()
    extra = copy.deepcopy(questions[1])
    extra["id"] = questions[1]["id"] + "-bis"
    extra["scenario"] = "新情境:周一早会前,客户王经理来电。"
    questions.append(extra)
    return doc | {"_dropped": dropped["id"], "_first": questions[0]["id"], "_new": extra["id"]}


def _upload(client, lesson: str, data: bytes, filename: str):
    return client.post(
        "/hr/content/banks/",
        data={"lesson": lesson, "file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def _publish(client, location: str):
    page = client.get(location)
    assert page.status_code == 200
    base = page.get_data(as_text=True).split('name="base"')[1].split('value="')[1].split('"')[0]
    return client.post(location, data={"base": base})


@pytest.mark.parametrize("fmt", formats.FORMATS)
def test_browser_export_then_import_changes_nothing(app, client, login_as, lessons, fmt):
    login_as(Role.HR)
    response = client.get(f"/hr/content/banks/4.2/export.{fmt}")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    event = db.session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()))
    assert event.action == "export"
    assert event.details["what"] == "bank"
    preview = services.preview_import("4.2", response.data, f"x.{formats.EXTENSIONS[fmt]}")
    assert preview.problems == []
    assert not preview.changes_anything
    assert len(preview.unchanged) == len(preview.questions) >= 25


def test_whole_course_export_reads_for_each_lesson(app, client, login_as, lessons):
    login_as(Role.HR)
    data = client.get("/hr/content/banks/export.xlsx").data
    for lesson in lessons:
        preview = services.preview_import(lesson.number, data, "all.xlsx")
        assert preview.ok, (lesson.number, preview.problems)
        assert not preview.changes_anything, lesson.number


def test_upload_preview_publish(app, client, login_as, lessons, bank_yaml):
    hr = login_as(Role.HR)
    doc = _edited(bank_yaml("1.1"))
    first, dropped, new = doc.pop("_first"), doc.pop("_dropped"), doc.pop("_new")
    before_versions = _count(QuestionVersion)

    response = _upload(client, "1.1", dump(doc), "1.1.yaml")
    assert response.status_code == 302
    location = response.headers["Location"]
    page = client.get(location).get_data(as_text=True)
    assert "新增 1 题，修改 1 题" in page
    assert "停用 1 题" in page
    assert _count(BankPublication) == 0  # the preview wrote nothing but the draft

    response = _publish(client, location)
    assert response.status_code == 302
    db.session.rollback()
    rows = {q.qid: q for q in db.session.scalars(select(QuizQuestion))}
    assert rows[first].data["prompt"].endswith("(改)")
    assert rows[first].active
    assert rows[new].active
    assert not rows[dropped].active
    assert _count(QuestionVersion) == before_versions + 2
    publication = db.session.scalar(select(BankPublication))
    assert publication.source == BankSource.UPLOAD
    assert publication.actor_id == hr.id
    assert publication.changes == {"added": [new], "changed": [first], "retired": [dropped]}
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "bank.publish"))
    assert event.details["publication"] == publication.id
    assert _count(BankDraft) == 0


def test_attempts_keep_the_versions_they_showed(
    app, client, login_as, lessons, bank_yaml, start_quiz
):
    learner = login_as()
    attempt = start_quiz("1.1")
    shown = {item.question.id: item.question.prompt for item in shown_questions(attempt)}
    doc = bank_yaml("1.1")
    for question in doc["questions"]:
        question["prompt"] += "(新版)"
    preview = services.preview_import("1.1", dump(doc), "1.1.yaml")
    services.publish(preview, actor=None)
    db.session.commit()
    db.session.expire_all()
    again = {item.question.id: item.question.prompt for item in shown_questions(attempt)}
    assert again == shown
    assert learner.id


def test_problems_block_and_write_nothing(app, client, login_as, lessons, bank_yaml):
    login_as(Role.HR)
    doc = bank_yaml("1.1")
    doc["questions"][0]["cites"] = ["9.9.9"]
    doc["questions"][1]["id"] = "l42-phone-three-rings"  # lesson 4.2's
    doc["questions"][2]["options"][0]["feedback"] = ""
    doc["questions"] = doc["questions"][:9] + [doc["questions"][9]]
    response = _upload(client, "1.1", dump(doc), "bad.yaml")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "9.9.9" in page
    assert "第 4.2 课" in page
    assert "feedback" in page
    assert 'name="base"' not in page  # no publish button
    preview = services.preview_import("1.1", dump(doc), "bad.yaml")
    with pytest.raises(services.PublishRefused):
        services.publish(preview, actor=None)
    db.session.rollback()
    assert _count(BankPublication) == 0


def test_too_small_a_bank_is_refused_by_the_cue_rules(app, lessons, bank_yaml):
    doc = bank_yaml("1.1")
    doc["questions"] = doc["questions"][:6]
    preview = services.preview_import("1.1", dump(doc), "small.yaml")
    assert any("graded items" in message for _, message in preview.problems)
    assert not preview.ok


def test_wrong_lesson_and_unknown_format(app, lessons, bank_yaml):
    doc = bank_yaml("1.2")
    preview = services.preview_import("1.1", dump(doc), "1.2.yaml")
    assert any("第 1.2 课" in message for _, message in preview.problems)
    assert not services.preview_import("1.1", b"x", "bank.pdf").ok


def test_double_submit_publishes_once(app, client, login_as, lessons, bank_yaml):
    login_as(Role.HR)
    doc = _edited(bank_yaml("1.1"))
    for key in ("_first", "_dropped", "_new"):
        doc.pop(key)
    location = _upload(client, "1.1", dump(doc), "1.1.yaml").headers["Location"]
    page = client.get(location).get_data(as_text=True)
    base = page.split('name="base"')[1].split('value="')[1].split('"')[0]
    assert client.post(location, data={"base": base}).status_code == 302
    second = client.post(location, data={"base": base}, follow_redirects=True)
    assert "已发布或已过期" in second.get_data(as_text=True)
    db.session.rollback()
    assert _count(BankPublication) == 1


def test_concurrent_publishes_of_one_draft_write_once(app, make_app, login_as, lessons, bank_yaml):
    from tests.app.test_access_policy import _login

    hr = login_as(Role.HR)
    doc = _edited(bank_yaml("1.1"))
    for key in ("_first", "_dropped", "_new"):
        doc.pop(key)
    preview = services.preview_import("1.1", dump(doc), "1.1.yaml")
    draft = services.store_draft(hr, "1.1", "yaml", "1.1.yaml", dump(doc))
    db.session.commit()
    token, base = draft.token, preview.base_digest
    db.session.rollback()
    other = make_app()
    clients = [_login(other, hr), _login(other, hr)]
    barrier = threading.Barrier(2)
    codes: list[int] = []

    def post(client):
        barrier.wait()
        codes.append(
            client.post(f"/hr/content/banks/drafts/{token}", data={"base": base}).status_code
        )

    threads = [threading.Thread(target=post, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db.session.rollback()
    assert codes == [302, 302]
    assert _count(BankPublication) == 1
    assert (
        db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "bank.publish")
        )
        == 1
    )


def test_a_preview_made_before_another_publication_is_refused(
    app, client, login_as, lessons, bank_yaml
):
    login_as(Role.HR)
    one = _edited(bank_yaml("1.1"))
    two = copy.deepcopy(one)
    two["questions"][0]["prompt"] += "(另一版)"
    for doc in (one, two):
        for key in ("_first", "_dropped", "_new"):
            doc.pop(key)
    first = _upload(client, "1.1", dump(one), "one.yaml").headers["Location"]
    second = _upload(client, "1.1", dump(two), "two.yaml").headers["Location"]
    page = client.get(second).get_data(as_text=True)
    stale = page.split('name="base"')[1].split('value="')[1].split('"')[0]
    assert _publish(client, first).status_code == 302
    response = client.post(second, data={"base": stale}, follow_redirects=True)
    assert "已被他人修改" in response.get_data(as_text=True)
    db.session.rollback()
    assert _count(BankPublication) == 1
    assert _publish(client, second).status_code == 302  # the new preview shows the new base
    db.session.rollback()
    assert _count(BankPublication) == 2


def test_sync_keeps_a_published_bank_until_the_repository_catches_up(
    app, lessons, bank_yaml, tmp_path, runner
):
    doc = _edited(bank_yaml("1.1"))
    first = doc.pop("_first")
    for key in ("_dropped", "_new"):
        doc.pop(key)
    services.publish(services.preview_import("1.1", dump(doc), "1.1.yaml"), actor=None)
    db.session.commit()

    report = sync_course(app.config["CONTENT_DIR"], app.config["QUIZ_DIR"])
    db.session.commit()
    assert [kept.lesson for kept in report.kept] == ["1.1"]
    assert "stays in force" in report.kept[0].describe()
    row = db.session.scalar(select(QuizQuestion).where(QuizQuestion.qid == first))
    assert row.data["prompt"].endswith("(改)")

    # The team writes the banks in force back and commits them: the repository rules again.
    quizzes = tmp_path / "quizzes"
    shutil.copytree(app.config["QUIZ_DIR"], quizzes)
    result = runner.invoke(args=["content", "export-banks", "--out", str(quizzes)])
    assert result.exit_code == 0, result.output
    assert "written" in result.output
    assert "1.1.yaml" in result.output
    report = sync_course(app.config["CONTENT_DIR"], quizzes)
    db.session.commit()
    assert report.kept == []
    latest = services.latest_publications()["1.1"]
    assert latest.source == BankSource.REPOSITORY
    # From now on an edit of the file is loaded.
    text = (quizzes / "1.1.yaml").read_text("utf-8").replace("(改)", "(仓库再改)")
    (quizzes / "1.1.yaml").write_text(text, "utf-8")
    sync_course(app.config["CONTENT_DIR"], quizzes)
    db.session.commit()
    row = db.session.scalar(select(QuizQuestion).where(QuizQuestion.qid == first))
    assert row.data["prompt"].endswith("(仓库再改)")


def test_sync_repository_wins_on_request(app, lessons, bank_yaml, runner):
    doc = _edited(bank_yaml("1.1"))
    first = doc.pop("_first")
    for key in ("_dropped", "_new"):
        doc.pop(key)
    services.publish(services.preview_import("1.1", dump(doc), "1.1.yaml"), actor=None)
    db.session.commit()
    result = runner.invoke(args=["content", "sync"])
    assert "lesson 1.1: the bank published" in result.output
    result = runner.invoke(args=["content", "sync", "--repository-wins", "1.1"])
    assert result.exit_code == 0, result.output
    assert "quizzes/1.1.yaml is in force again" in result.output
    db.session.expire_all()
    row = db.session.scalar(select(QuizQuestion).where(QuizQuestion.qid == first))
    assert not row.data["prompt"].endswith("(改)")
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "bank.repository"))


def test_a_revision_plan_keeps_the_published_bank(app, lessons, bank_yaml):
    from training.quizzes.bank import load_banks

    doc = _edited(bank_yaml("1.1"))
    new = doc.pop("_new")
    for key in ("_dropped", "_first"):
        doc.pop(key)
    services.publish(services.preview_import("1.1", dump(doc), "1.1.yaml"), actor=None)
    db.session.commit()
    authored, _ = load_banks(app.config["QUIZ_DIR"])
    overlaid = services.overlay_authored(authored)
    assert new in {q.id for q in overlaid["1.1"].questions}
    assert overlaid["1.2"] is authored["1.2"]


def test_a_question_without_an_id_never_takes_the_id_of_one_in_the_database(
    app, lessons, bank_yaml
):
    doc = bank_yaml("1.1")
    questions = doc["questions"]
    target = next(q for q in questions if q["kind"] in ("single", "multiple"))
    base = formats.new_id("1.1", target)  # what the target is named when it comes without id
    other = next(q for q in questions if q is not target)
    other["id"] = base  # a different question already holds that id
    services.publish(services.preview_import("1.1", dump(doc), "renamed.yaml"), actor=None)
    db.session.commit()

    lesson = next(item for item in lessons if item.number == "1.1")
    in_force = services.questions_in_force([lesson])[lesson.id]
    assert base in {q.id for q in in_force}
    upload = [
        dataclasses.replace(q, id="") if q.id == target["id"] else q
        for q in in_force
        if q.id != base
    ]
    data = formats.write("gift", [("1.1", "", upload, None)])
    preview = services.preview_import("1.1", data, "no-ids.gift.txt")
    ids = [q.id for q in preview.questions]
    assert base not in ids
    assert base + "-2" in ids
    assert base not in {new.id for _, new in preview.changed}


def test_cli_import_previews_then_publishes(app, lessons, bank_yaml, runner, tmp_path):
    doc = _edited(bank_yaml("1.1"))
    for key in ("_first", "_dropped", "_new"):
        doc.pop(key)
    path = tmp_path / "1.1.yaml"
    path.write_bytes(dump(doc))
    result = runner.invoke(args=["content", "import-bank", str(path), "--lesson", "1.1"])
    assert result.exit_code == 0, result.output
    assert "1 added, 1 changed" in result.output
    assert "Preview only" in result.output
    assert _count(BankPublication) == 0
    result = runner.invoke(
        args=["content", "import-bank", str(path), "--lesson", "1.1", "--publish"]
    )
    assert result.exit_code == 0, result.output
    assert _count(BankPublication) == 1
    bad = tmp_path / "bad.yaml"
    bad.write_text("lesson: '1.1'\nquestions: [\n", "utf-8")
    result = runner.invoke(args=["content", "import-bank", str(bad), "--lesson", "1.1"])
    assert result.exit_code == 1
    assert "problem" in result.output


def _cli_docs(bank_yaml) -> tuple[dict, dict]:
    one = _edited(bank_yaml("1.1"))
    for key in ("_first", "_dropped", "_new"):
        one.pop(key)
    two = copy.deepcopy(one)
    two["questions"][0]["prompt"] += "(另一版)"
    return one, two


def test_cli_publish_is_refused_when_someone_published_after_its_preview(
    app, lessons, bank_yaml, runner, tmp_path, monkeypatch
):
    mine, theirs = _cli_docs(bank_yaml)
    path = tmp_path / "mine.yaml"
    path.write_bytes(dump(mine))
    preview_import = services.preview_import

    def preview_then_someone_publishes(*args, **kwargs):
        preview = preview_import(*args, **kwargs)
        other = preview_import("1.1", dump(theirs), "theirs.yaml")
        services.publish(other, actor=None)
        db.session.commit()
        return preview

    monkeypatch.setattr(services, "preview_import", preview_then_someone_publishes)
    result = runner.invoke(
        args=["content", "import-bank", str(path), "--lesson", "1.1", "--publish"]
    )
    assert result.exit_code == 1, result.output
    assert "已被他人修改" in result.output
    db.session.rollback()
    assert [p.filename for p in db.session.scalars(select(BankPublication))] == ["theirs.yaml"]


def test_cli_publish_against_the_base_an_earlier_preview_printed(
    app, lessons, bank_yaml, runner, tmp_path
):
    mine, theirs = _cli_docs(bank_yaml)
    path = tmp_path / "mine.yaml"
    path.write_bytes(dump(mine))
    result = runner.invoke(args=["content", "import-bank", str(path), "--lesson", "1.1"])
    assert result.exit_code == 0, result.output
    base = next(line.split()[1] for line in result.output.splitlines() if line.startswith("base "))
    services.publish(services.preview_import("1.1", dump(theirs), "theirs.yaml"), actor=None)
    db.session.commit()
    args = ["content", "import-bank", str(path), "--lesson", "1.1", "--publish"]
    result = runner.invoke(args=[*args, "--base", base])
    assert result.exit_code == 1, result.output
    assert "已被他人修改" in result.output
    assert _count(BankPublication) == 1
    result = runner.invoke(args=["content", "import-bank", str(path), "--lesson", "1.1"])
    base = next(line.split()[1] for line in result.output.splitlines() if line.startswith("base "))
    result = runner.invoke(args=[*args, "--base", base])
    assert result.exit_code == 0, result.output
    assert _count(BankPublication) == 2


@pytest.mark.parametrize("fmt", formats.FORMATS)
def test_cli_export_bank(app, lessons, runner, tmp_path, fmt):
    out = tmp_path / f"bank.{fmt}"
    result = runner.invoke(
        args=["content", "export-bank", "--lesson", "4.2", "--format", fmt, "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert services.preview_import("4.2", out.read_bytes(), out.name, fmt).ok
    result = runner.invoke(args=["content", "export-bank", "--format", fmt, "--out", str(out)])
    assert "14 lesson(s)" in result.output


def test_bank_page_lists_every_lesson_and_its_source(app, client, login_as, lessons, bank_yaml):
    login_as(Role.HR)
    page = client.get("/hr/content/banks/").get_data(as_text=True)
    assert page.count('data-source="repository"') == len(lessons)
    doc = bank_yaml("1.1")
    doc["questions"][0]["prompt"] += "(改)"
    services.publish(services.preview_import("1.1", dump(doc), "web.yaml"), actor=None)
    db.session.commit()
    page = client.get("/hr/content/banks/").get_data(as_text=True)
    assert page.count('data-source="upload"') == 1
    assert "web.yaml" in page
    template = client.get("/hr/content/banks/template.xlsx")
    assert template.status_code == 200
    assert template.data[:2] == b"PK"


def test_upload_errors_are_shown_on_the_form(app, client, login_as, lessons):
    login_as(Role.HR)
    response = _upload(client, "1.1", b"", "x.yaml")
    assert response.status_code == 400
    assert "文件是空的" in response.get_data(as_text=True)
    response = _upload(client, "1.1", b"data", "x.pdf")
    assert response.status_code == 400
    assert "无法识别" in response.get_data(as_text=True)
    response = _upload(client, "9.9", b"data", "x.yaml")
    assert response.status_code == 400


def test_another_hrs_draft_is_not_found(app, client, login_as, create_user, lessons, bank_yaml):
    owner = create_user(role=Role.HR)
    draft = services.store_draft(owner, "1.1", "yaml", "x.yaml", dump(bank_yaml("1.1")))
    db.session.commit()
    login_as(Role.HR)
    assert client.get(f"/hr/content/banks/drafts/{draft.token}").status_code == 404
    response = client.post(f"/hr/content/banks/drafts/{draft.token}", data={"base": "x"})
    assert response.status_code == 302
    assert _count(BankPublication) == 0


def test_each_user_keeps_only_their_newest_drafts(app, create_user, lessons):
    hr, other = create_user(role=Role.HR), create_user(role=Role.HR)
    theirs = services.store_draft(other, "1.1", "yaml", "theirs.yaml", b"x")
    tokens = [
        services.store_draft(hr, "1.1", "yaml", f"{n}.yaml", b"x").token
        for n in range(services.DRAFTS_PER_USER + 2)
    ]
    db.session.commit()
    mine = db.session.scalars(select(BankDraft.token).where(BankDraft.user_id == hr.id))
    assert set(mine) == set(tokens[2:])
    assert services.load_draft(tokens[0], hr) is None
    assert services.load_draft(tokens[-1], hr) is not None
    assert services.load_draft(theirs.token, other) is not None


def _published_edit(lesson: str, bank_yaml, **extra) -> str:
    """Publish the lesson's bank with its first question reworded; return that question's id."""
    doc = _edited(bank_yaml(lesson))
    first = doc.pop("_first")
    for key in ("_dropped", "_new"):
        doc.pop(key)
    services.publish(
        services.preview_import(lesson, dump(doc | extra), f"{lesson}.yaml"), actor=None
    )
    db.session.commit()
    return first


def test_a_new_norm_in_the_repository_keeps_published_banks_and_honours_repository_wins(
    app, lessons, bank_yaml, tmp_path, runner
):
    kept_id = _published_edit("1.1", bank_yaml)
    won_id = _published_edit("1.2", bank_yaml)
    content = tmp_path / "content"
    shutil.copytree(app.config["CONTENT_DIR"], content)
    source = next((content / "source").glob("*.txt"))
    text = source.read_text("utf-8")
    assert "一般不得超过三声" in text
    source.write_text(text.replace("一般不得超过三声", "一般不得超过两声", 1), "utf-8")
    app.config["CONTENT_DIR"] = str(content)
    result = runner.invoke(args=["content", "sync", "--repository-wins", "1.2"])
    assert result.exit_code == 0, result.output
    assert "(new version)" in result.output
    assert "lesson 1.1: the bank published" in result.output
    assert "quizzes/1.2.yaml is in force again" in result.output
    db.session.expire_all()
    prompt = {
        row.qid: row.data["prompt"]
        for row in db.session.scalars(
            select(QuizQuestion).where(
                QuizQuestion.qid.in_([kept_id, won_id]), QuizQuestion.active.is_(True)
            )
        )
    }
    assert prompt[kept_id].endswith("(改)")
    assert not prompt[won_id].endswith("(改)")


def test_a_pass_mark_change_alone_keeps_the_published_bank_and_says_so(
    app, lessons, bank_yaml, runner
):
    doc = bank_yaml("1.1")
    assert "pass_mark" not in doc
    services.publish(
        services.preview_import("1.1", dump(doc | {"pass_mark": 0.6}), "1.1.yaml"), actor=None
    )
    db.session.commit()
    result = runner.invoke(args=["content", "sync"])
    assert result.exit_code == 0, result.output
    assert "same questions but pass mark differs from the published 3/5" in result.output
    db.session.expire_all()
    lesson = next(item for item in services.active_lessons() if item.number == "1.1")
    assert services.pass_mark_of(lesson) == Fraction(3, 5)
    # Asked for, the file's (default) pass mark rules again, and the audit says what it replaced.
    result = runner.invoke(args=["content", "sync", "--repository-wins", "1.1"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert services.pass_mark_of(lesson) is None
    assert services.latest_publications()["1.1"].pass_mark is None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "bank.repository"))
    assert event.details["replaced_pass_mark"] == "3/5"
    assert event.details["pass_mark"] is None


def test_a_revision_plan_drops_the_published_bank_of_a_lesson_the_new_norm_lacks(
    app, lessons, bank_yaml
):
    from training.quizzes.bank import load_banks

    _published_edit("1.1", bank_yaml)
    authored, _ = load_banks(app.config["QUIZ_DIR"])
    others = [lesson.number for lesson in lessons if lesson.number != "1.1"]
    overlaid = services.overlay_authored({k: v for k, v in authored.items() if k != "1.1"}, others)
    assert "1.1" not in overlaid
