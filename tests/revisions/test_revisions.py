"""A revised norm: preview writes nothing, publishing flags exactly the changed lessons."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from tests.revisions.conftest import EFFECTIVE, TODAY
from training.assignments.services import current_assignments
from training.auth.models import Role
from training.course.completion import progress_for
from training.course.models import Lesson, LessonArchive, NormVersion
from training.course.versions import current_norm_version
from training.extensions import db
from training.practice.store import available_questions
from training.quizzes.items import question_from_dict
from training.quizzes.models import QuestionHold, QuizQuestion
from training.quizzes.services import start_attempt
from training.revisions.services import retrain_rows

ONE_CLAUSE = ("一般不得超过三声", "一般不得超过两声")
REMOVE_3_4_7 = ("3.4.7工作不努力、背后讲别人坏话,影响了公司效益和内部团结。", "")
# Swap 2.4 and 2.5: both move, neither changes.
SWAP_24_25 = None


def _counts():
    return (
        db.session.scalar(select(func.count()).select_from(NormVersion)),
        db.session.scalar(select(func.count()).select_from(Lesson)),
        db.session.scalar(select(func.count()).select_from(LessonArchive)),
    )


def _swap_text(seed: str) -> tuple[str, str]:
    start, middle, end = (
        seed.index("2.4不良外部服务的影响"),
        seed.index("2.5良好的外部服务的影响"),
        seed.index("3、服务的要求"),
    )
    bad, good = seed[start:middle], seed[middle:end]
    swapped = good.replace("2.5", "2.4") + bad.replace("2.4", "2.5")
    return seed[start:end], swapped


def test_preview_writes_nothing(runner, lessons, revised):
    before = _counts()
    result = runner.invoke(
        args=[
            "content",
            "import-norm",
            str(revised(ONE_CLAUSE)),
            "--label",
            "2027 修订",
            "--effective",
            EFFECTIVE,
        ]
    )
    assert result.exit_code == 0, result.output
    assert "changed 4.2.1.2" in result.output
    assert "[-三-]{+两+}" in result.output
    assert "lesson 4.2 外部服务的方式: content changed" in result.output
    assert "nothing was written" in result.output
    db.session.rollback()
    assert _counts() == before


def test_one_clause_revision_flags_exactly_its_lesson_and_completers(
    runner, lessons, revised, create_user, complete_lessons
):
    everyone = [lesson.number for lesson in lessons]
    done_all = create_user(name="全完成")
    done_some = create_user(name="部分完成")
    untouched = create_user(name="未开始")
    complete_lessons(done_all, everyone)
    complete_lessons(done_some, ["3.3"])
    old_42 = next(lesson for lesson in lessons if lesson.number == "4.2")

    result = runner.invoke(
        args=[
            "content",
            "import-norm",
            str(revised(ONE_CLAUSE)),
            "--label",
            "2027 修订",
            "--effective",
            EFFECTIVE,
            "--publish",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "1 lessons changed, 1 employees must retrain" in result.output
    db.session.rollback()

    version = current_norm_version()
    assert version.label == "2027 修订"
    assert version.changes["changed"] == ["4.2.1.2"]
    new_42 = db.session.scalar(
        select(Lesson).where(Lesson.active.is_(True), Lesson.number == "4.2")
    )
    assert new_42.id != old_42.id
    assert new_42.supersedes_id == old_42.id
    assert "两" in new_42.revision_html

    progress = progress_for(done_all.id)
    statuses = {lesson.number: progress.status(lesson) for lesson in progress.lessons}
    assert statuses.pop("4.2") == "retrain"
    assert set(statuses.values()) == {"completed"}
    assert progress_for(done_some.id).status(new_42) == "not_started"
    assert progress_for(untouched.id).status(new_42) == "not_started"

    rows = retrain_rows()
    assert [(row.user.id, row.lessons) for row in rows] == [(done_all.id, ["4.2"])]
    due = current_assignments([done_all.id, done_some.id])
    assert due[done_all.id].due_date == TODAY + timedelta(days=14)
    assert done_some.id not in due
    # the old version and its lessons are kept, read-only
    versions = db.session.scalars(select(NormVersion).order_by(NormVersion.id)).all()
    assert [v.status for v in versions] == ["superseded", "published"]
    archived = db.session.scalars(
        select(LessonArchive).where(LessonArchive.version_id == versions[0].id)
    ).all()
    assert len(archived) == 14
    assert "三声" in next(a for a in archived if a.number == "4.2").body_html


def test_renumber_only_revision_flags_nobody(
    runner, lessons, revised, seed_text, create_user, complete_lessons
):
    learner = create_user()
    complete_lessons(learner, ["2.4", "2.5"])
    ids = {lesson.number: lesson.id for lesson in lessons}
    path = revised(_swap_text(seed_text))
    result = runner.invoke(
        args=[
            "content",
            "import-norm",
            str(path),
            "--label",
            "调序",
            "--effective",
            EFFECTIVE,
            "--publish",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "0 lessons changed, 0 employees must retrain" in result.output
    db.session.rollback()
    active = {
        lesson.number: lesson.id
        for lesson in db.session.scalars(select(Lesson).where(Lesson.active.is_(True)))
    }
    assert active["2.4"] == ids["2.5"]
    assert active["2.5"] == ids["2.4"]
    progress = progress_for(learner.id)
    assert {
        progress.status(lesson) for lesson in progress.lessons if lesson.number in ("2.4", "2.5")
    } == {"completed"}
    assert retrain_rows() == []


def test_removed_clause_holds_the_items_citing_it(runner, lessons, revised):
    before = {
        row.qid for row in db.session.scalars(select(QuizQuestion).where(QuizQuestion.drawable()))
    }
    result = runner.invoke(
        args=[
            "content",
            "import-norm",
            str(revised(REMOVE_3_4_7)),
            "--label",
            "删条款",
            "--effective",
            EFFECTIVE,
            "--publish",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "held until reviewed: quizzes/3.4.yaml" in result.output
    db.session.rollback()
    held = set(db.session.scalars(select(QuestionHold.qid)))
    citing = {q for q in before if "3.4.7" in _question(q).cites}
    assert citing
    assert held == citing
    assert all(
        db.session.scalar(select(QuizQuestion).where(QuizQuestion.qid == q)).withheld for q in held
    )
    hold = db.session.scalars(select(QuestionHold)).first()
    assert {"clause": "3.4.7", "change": "removed", "new_number": None} in hold.clauses


def test_bad_revision_file_is_refused(runner, lessons, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    result = runner.invoke(
        args=["content", "import-norm", str(empty), "--label", "x", "--effective", EFFECTIVE]
    )
    assert result.exit_code == 1
    assert "empty.txt" in result.output


def _question(qid: str):
    row = db.session.scalar(select(QuizQuestion).where(QuizQuestion.qid == qid))
    return question_from_dict(row.data)


def _publish_one_clause(runner, revised):
    result = runner.invoke(
        args=[
            "content",
            "import-norm",
            str(revised(ONE_CLAUSE)),
            "--label",
            "v2",
            "--effective",
            EFFECTIVE,
            "--publish",
        ]
    )
    assert result.exit_code == 0, result.output
    db.session.rollback()
    return result


def test_items_citing_a_changed_clause_are_withheld_from_every_draw(
    app, runner, lessons, revised, create_user
):
    _publish_one_clause(runner, revised)
    held = set(db.session.scalars(select(QuestionHold.qid)))
    assert held
    assert all("4.2.1.2" in _question(qid).cites for qid in held)
    assert not any(_question(qid).generated for qid in held)  # rebuilt from the new text
    lesson = db.session.scalar(select(Lesson).where(Lesson.active, Lesson.number == "4.2"))
    learner = create_user()
    drawn = set()
    for _ in range(12):
        drawn |= {q["id"] for q in start_attempt(learner.id, lesson).draw["questions"]}
    assert drawn
    assert not drawn & held
    practice = {a.row.qid for a in available_questions(learner.id, [lesson])}
    assert practice
    assert not practice & held


def test_sync_leaves_a_newer_published_version_alone(runner, lessons, revised):
    runner.invoke(
        args=[
            "content",
            "import-norm",
            str(revised(ONE_CLAUSE)),
            "--label",
            "v2",
            "--effective",
            EFFECTIVE,
            "--publish",
        ]
    )
    result = runner.invoke(args=["content", "sync"])
    assert result.exit_code == 0, result.output
    assert "newer version" in result.output
    db.session.rollback()
    assert current_norm_version().label == "v2"


def test_hr_upload_preview_publish(
    client, login_as, lessons, revised, create_user, complete_lessons
):
    learner = create_user(name="复训人")
    complete_lessons(learner, [lesson.number for lesson in lessons])
    login_as(Role.HR)
    path = revised(ONE_CLAUSE)
    with path.open("rb") as handle:
        response = client.post(
            "/hr/norm/import",
            data={"file": (handle, "revised.txt"), "label": "2027 修订", "effective": EFFECTIVE},
            content_type="multipart/form-data",
        )
    assert response.status_code == 302, response.get_data(as_text=True)
    preview_url = response.headers["Location"]
    before = _counts()
    page = client.get(preview_url).get_data(as_text=True)
    assert 'data-kind="changed"' in page
    assert "<del>三</del><ins>两</ins>" in page
    assert 'data-lesson="4.2" data-changed="yes"' in page
    db.session.rollback()
    assert _counts() == before  # the preview wrote nothing
    upload_id = preview_url.split("/import/")[1].split("?")[0]
    base = str(current_norm_version().id)
    stale = client.post(
        f"/hr/norm/import/{upload_id}/publish",
        data={"label": "2027 修订", "effective": EFFECTIVE, "base": "999"},
    )
    assert stale.status_code == 302
    assert "/hr/norm/import/" in stale.headers["Location"]  # back to a fresh preview
    db.session.rollback()
    assert _counts() == before
    response = client.post(
        f"/hr/norm/import/{upload_id}/publish",
        data={"label": "2027 修订", "effective": EFFECTIVE, "base": base},
    )
    assert response.status_code == 302
    db.session.rollback()
    assert current_norm_version().label == "2027 修订"
    page = client.get(f"/hr/norm/versions/{current_norm_version().id}").get_data(as_text=True)
    assert 'data-state="retrain"' in page
    assert "复训人" in page


def test_learner_cannot_reach_revision_pages(client, login_as, lessons):
    login_as()
    for url in ("/hr/norm/", "/hr/norm/import", "/hr/norm/review", "/hr/norm/versions/1"):
        assert client.get(url).status_code == 403, url


def test_content_check_warns_about_held_items(runner, lessons, revised):
    _publish_one_clause(runner, revised)
    result = runner.invoke(args=["content", "check"])
    assert result.exit_code == 0, result.output
    assert "warning: quizzes/4.2.yaml: l42-" in result.output
    assert "4.2.1.2" in result.output
    assert "/hr/norm/review" in result.output


def test_certificate_of_a_superseded_version_says_so(
    client, login_as, runner, lessons, revised, complete_lessons
):
    from training.course.certificates import issue_certificate_if_complete

    learner = login_as()
    complete_lessons(learner, [lesson.number for lesson in lessons])
    issue_certificate_if_complete(learner.id)
    db.session.commit()
    page = client.get("/certificate").get_data(as_text=True)
    assert "data-superseded" not in page
    runner.invoke(
        args=[
            "content",
            "import-norm",
            str(revised(ONE_CLAUSE)),
            "--label",
            "v2",
            "--effective",
            EFFECTIVE,
            "--publish",
        ]
    )
    page = client.get("/certificate").get_data(as_text=True)
    assert 'data-superseded="yes"' in page
    home = client.get("/").get_data(as_text=True)
    assert "本次修订" in home
    assert 'data-status="retrain"' in home


NEW_LESSON = (
    "3、服务的要求",
    "2.6服务的持续改进2.6.1各部门应定期回顾服务中的问题,持续改进。3、服务的要求",
)


def test_a_new_lesson_sends_only_those_who_had_completed_back_to_training(
    runner, lessons, revised, create_user, complete_lessons
):
    everyone = [lesson.number for lesson in lessons]
    finished = create_user(name="已结业")
    partial = create_user(name="未结业")
    complete_lessons(finished, everyone)
    complete_lessons(partial, ["2.1"])
    from training.assignments.services import assign

    assign([partial], date(2026, 1, 15), reason="hire")
    db.session.commit()

    result = runner.invoke(
        args=[
            "content",
            "import-norm",
            str(revised(NEW_LESSON)),
            "--label",
            "加一课",
            "--effective",
            EFFECTIVE,
            "--publish",
        ]
    )
    assert result.exit_code == 0, result.output
    db.session.rollback()
    rows = retrain_rows()
    assert [(row.user.id, row.lessons) for row in rows] == [(finished.id, ["2.6"])]
    due = current_assignments([finished.id, partial.id])
    assert due[finished.id].due_date == TODAY + timedelta(days=14)
    assert due[partial.id].due_date == date(2026, 1, 15)  # their own, earlier due date stands


def test_republishing_the_text_of_an_earlier_version_is_refused(
    runner, lessons, revised, seed_text, tmp_path
):
    runner.invoke(
        args=[
            "content",
            "import-norm",
            str(revised(ONE_CLAUSE)),
            "--label",
            "v2",
            "--effective",
            EFFECTIVE,
            "--publish",
        ]
    )
    original = tmp_path / "original.txt"
    original.write_text(seed_text, "utf-8")
    result = runner.invoke(
        args=[
            "content",
            "import-norm",
            str(original),
            "--label",
            "回退",
            "--effective",
            EFFECTIVE,
            "--publish",
        ]
    )
    assert result.exit_code == 1
    assert "完全相同" in result.output


def test_employee_history_shows_both_versions(
    client, login_as, runner, lessons, revised, seed_text, create_user, complete_lessons
):
    from training.course.certificates import issue_certificate_if_complete

    learner = create_user(name="两版本")
    complete_lessons(learner, [lesson.number for lesson in lessons])
    issue_certificate_if_complete(learner.id)
    db.session.commit()
    first = current_norm_version().source_sha256
    runner.invoke(
        args=[
            "content",
            "import-norm",
            str(revised(_swap_text(seed_text))),
            "--label",
            "调序",
            "--effective",
            EFFECTIVE,
            "--publish",
        ]
    )
    db.session.rollback()
    second = current_norm_version().source_sha256
    assert first != second
    login_as(Role.HR)
    page = client.get(f"/hr/employees/{learner.id}").get_data(as_text=True)
    assert first[:12] in page
    assert second[:12] in page


def test_version_report_exports_csv_and_xlsx(
    client, login_as, runner, lessons, revised, create_user, complete_lessons
):
    import io

    from openpyxl import load_workbook

    from training.audit.models import AuditEvent

    learner = create_user(name="=HYPERLINK(1)")
    complete_lessons(learner, [lesson.number for lesson in lessons])
    runner.invoke(
        args=[
            "content",
            "import-norm",
            str(revised(ONE_CLAUSE)),
            "--label",
            "v2",
            "--effective",
            EFFECTIVE,
            "--publish",
        ]
    )
    db.session.rollback()
    version_id = current_norm_version().id
    login_as(Role.HR)
    text = client.get(f"/hr/norm/versions/{version_id}/export.csv").get_data(as_text=True)
    assert text.startswith("\ufeff工号,姓名,部门,状态,需复训课程,截止日期")
    assert "'=HYPERLINK(1)" in text
    assert "需复训" in text
    data = client.get(f"/hr/norm/versions/{version_id}/export.xlsx").get_data()
    sheet = load_workbook(io.BytesIO(data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("工号", "姓名", "部门", "状态", "需复训课程", "截止日期")
    assert rows[1][1] == "'=HYPERLINK(1)"
    assert rows[1][4] == "4.2"
    db.session.rollback()
    exports = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export")).all()
    assert [e.details["format"] for e in exports] == ["csv", "xlsx"]
