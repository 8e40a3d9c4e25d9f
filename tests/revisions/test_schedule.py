"""生效日期 works: a scheduled revision changes nothing before its day and everything on it, once;
an editorial change retrains nobody; the retraining notice goes out when the revision takes effect.
"""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import func, select, update

from tests.revisions.conftest import TODAY
from training.audit.models import AuditEvent
from training.auth.models import Role
from training.course.completion import complete_user_ids, progress_for
from training.course.models import Lesson, NormVersion, VersionStatus
from training.course.versions import current_norm_version
from training.extensions import db
from training.notifications.models import Notification
from training.revisions import schedule

ONE_CLAUSE = ("一般不得超过三声", "一般不得超过两声")
LATER = (TODAY + timedelta(days=10)).isoformat()


def _import(runner, path, *extra, effective=LATER):
    result = runner.invoke(
        args=["content", "import-norm", str(path), "--label", "2027 修订"]
        + ["--effective", effective, "--publish", *extra]
    )
    db.session.rollback()
    return result


def _lessons_in_force():
    return {
        (lesson.number, lesson.id, lesson.content_hash)
        for lesson in db.session.scalars(select(Lesson).where(Lesson.active.is_(True)))
    }


def _publish_events(version: NormVersion) -> int:
    """Count the publish events of this version (the synced course has one of its own)."""
    details = db.session.scalars(
        select(AuditEvent.details).where(AuditEvent.action == "norm.publish")
    )
    return sum(1 for d in details if d.get("version") == version.source_sha256)


def _arrive(version_id: int) -> None:
    """Let the effective day come: move the scheduled date to today."""
    db.session.execute(
        update(NormVersion).where(NormVersion.id == version_id).values(effective_date=TODAY)
    )
    db.session.commit()
    schedule.forget_next_date()


def test_a_scheduled_revision_changes_nothing_before_its_day_and_everything_on_it(
    runner, lessons, revised, create_user, complete_lessons
):
    learner = create_user(name="全完成", email="done@example.com")
    complete_lessons(learner, [lesson.number for lesson in lessons])
    before = current_norm_version()
    in_force = _lessons_in_force()

    result = _import(runner, revised(ONE_CLAUSE))
    assert result.exit_code == 0, result.output
    assert f"to take effect on {LATER}" in result.output
    waiting = schedule.scheduled_version()
    assert waiting.status == VersionStatus.SCHEDULED
    # Nothing of it is in force: version, lessons, completion, certificates, notices.
    assert current_norm_version().id == before.id
    assert _lessons_in_force() == in_force
    assert learner.id in complete_user_ids()
    assert schedule.activate_due(TODAY) is None
    assert schedule.activate_due(TODAY + timedelta(days=9)) is None
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 0

    on_the_day = TODAY + timedelta(days=10)
    assert schedule.activate_due(on_the_day).id == waiting.id
    db.session.rollback()
    assert current_norm_version().id == waiting.id
    assert learner.id not in complete_user_ids()
    [notice] = db.session.scalars(select(Notification)).all()
    assert notice.kind == "retraining"
    assert "4.2" in notice.body_text
    assert schedule.activate_due(on_the_day) is None  # once
    assert _publish_events(waiting) == 1


def test_two_workers_on_the_day_publish_it_once(app, runner, lessons, revised):
    assert _import(runner, revised(ONE_CLAUSE)).exit_code == 0
    waiting = schedule.scheduled_version()
    _arrive(waiting.id)
    start = threading.Barrier(2)
    results, errors = [], []

    def run():
        with app.app_context():
            try:
                start.wait()
                results.append(schedule.activate_due(TODAY))
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    assert sum(result is not None for result in results) == 1
    db.session.rollback()
    assert _publish_events(waiting) == 1
    assert current_norm_version().id == waiting.id


def test_the_first_request_on_the_day_makes_it_take_effect(
    app, client, runner, lessons, revised, login_as
):
    assert _import(runner, revised(ONE_CLAUSE)).exit_code == 0
    waiting = schedule.scheduled_version()
    login_as(Role.LEARNER)
    client.get("/")
    db.session.rollback()
    assert current_norm_version().id != waiting.id  # not its day yet
    _arrive(waiting.id)
    assert client.get("/").status_code == 200
    db.session.rollback()
    assert current_norm_version().id == waiting.id
    client.get("/")
    assert _publish_events(waiting) == 1


def test_notify_send_makes_it_take_effect(app, runner, lessons, revised):
    assert _import(runner, revised(ONE_CLAUSE)).exit_code == 0
    waiting = schedule.scheduled_version()
    _arrive(waiting.id)
    result = runner.invoke(args=["notify", "send"])
    assert "Traceback" not in result.output
    db.session.rollback()
    assert current_norm_version().id == waiting.id


def test_hr_sees_it_waiting_and_cancels_it(app, client, runner, lessons, revised, login_as):
    hr = login_as(Role.HR)
    assert _import(runner, revised(ONE_CLAUSE)).exit_code == 0
    waiting = schedule.scheduled_version()
    page = client.get("/hr/norm/").get_data(as_text=True)
    assert f'data-scheduled="{waiting.id}"' in page
    assert "待生效" in page
    assert client.post(f"/hr/norm/versions/{waiting.id}/cancel").status_code == 302
    db.session.rollback()
    assert db.session.get(NormVersion, waiting.id).status == VersionStatus.CANCELLED
    _arrive(waiting.id)
    assert schedule.activate_due(TODAY) is None
    actions = list(db.session.scalars(select(AuditEvent.action)))
    assert "norm.schedule" in actions
    assert "norm.cancel" in actions
    # The same file can be scheduled again after a cancellation.
    assert _import(runner, revised(ONE_CLAUSE)).exit_code == 0
    assert schedule.scheduled_version().id == waiting.id
    assert hr.id


def test_a_second_schedule_waits_for_the_first(runner, lessons, revised):
    assert _import(runner, revised(ONE_CLAUSE)).exit_code == 0
    other = revised(("一般不得超过三声", "一般不得超过四声"), name="other.txt")
    result = _import(runner, other)
    assert result.exit_code == 1
    assert "已有预约的版本" in result.output


def test_an_editorial_change_retrains_nobody_and_shows_its_reason(
    client, runner, lessons, revised, create_user, complete_lessons, login_as
):
    learner = create_user(name="全完成")
    complete_lessons(learner, [lesson.number for lesson in lessons])
    old_42 = next(lesson for lesson in lessons if lesson.number == "4.2")
    result = _import(
        runner,
        revised(ONE_CLAUSE),
        "--editorial",
        "4.2=只改了数字的写法",
        effective=TODAY.isoformat(),
    )
    assert result.exit_code == 0, result.output
    assert "0 employees must retrain" in result.output
    new_42 = db.session.scalar(
        select(Lesson).where(Lesson.active.is_(True), Lesson.number == "4.2")
    )
    assert new_42.id == old_42.id  # the same row, read and passed as before
    assert "两声" in new_42.body_html
    assert learner.id in complete_user_ids()
    assert progress_for(learner.id).status(new_42) == "completed"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "norm.editorial"))
    assert event.details["lesson"] == "4.2"
    assert event.details["reason"] == "只改了数字的写法"
    login_as(Role.HR)
    version = current_norm_version()
    page = client.get(f"/hr/norm/versions/{version.id}").get_data(as_text=True)
    assert "只改了数字的写法" in page
    assert "data-editorial" in page


def test_an_editorial_decision_needs_a_reason_and_a_changed_lesson(runner, lessons, revised):
    result = _import(
        runner, revised(ONE_CLAUSE), "--editorial", "3.2=理由", effective=TODAY.isoformat()
    )
    assert result.exit_code == 1
    assert "第 3.2 课的内容没有变化" in result.output
    result = _import(
        runner, revised(ONE_CLAUSE), "--editorial", "4.2=", effective=TODAY.isoformat()
    )
    assert result.exit_code == 2  # click: bad parameter


def test_a_material_change_sends_the_retraining_notice_at_once(
    runner, lessons, revised, create_user, complete_lessons
):
    learner = create_user(name="全完成", email="done@example.com")
    complete_lessons(learner, [lesson.number for lesson in lessons])
    assert _import(runner, revised(ONE_CLAUSE), effective=TODAY.isoformat()).exit_code == 0
    [notice] = db.session.scalars(select(Notification)).all()
    assert notice.kind == "retraining"
    assert notice.address == "done@example.com"
    due = (TODAY + timedelta(days=14)).isoformat()
    assert f"请在 {due} 前重新学习" in notice.subject
    assert "4.2 外部服务的方式" in notice.body_text


def _upload(client, path, effective):
    with path.open("rb") as handle:
        response = client.post(
            "/hr/norm/import",
            data={"file": (handle, "revised.txt"), "label": "2027 修订", "effective": effective},
            content_type="multipart/form-data",
        )
    assert response.status_code == 302, response.get_data(as_text=True)
    preview_url = response.headers["Location"]
    upload_id = preview_url.split("/import/")[1].split("?")[0]
    return preview_url, upload_id


def test_hr_marks_a_change_editorial_in_the_browser_form(
    client, login_as, lessons, revised, create_user, complete_lessons
):
    learner = create_user(name="全完成")
    complete_lessons(learner, [lesson.number for lesson in lessons])
    login_as(Role.HR)
    preview_url, upload_id = _upload(client, revised(ONE_CLAUSE), TODAY.isoformat())
    page = client.get(preview_url).get_data(as_text=True)
    assert 'data-decision="4.2"' in page
    base = str(current_norm_version().id)
    form = {"label": "2027 修订", "effective": TODAY.isoformat(), "base": base}
    missing = client.post(
        f"/hr/norm/import/{upload_id}/publish",
        data=form | {"change-4.2": "editorial"},
        follow_redirects=True,
    )
    assert "请写明理由" in missing.get_data(as_text=True)
    db.session.rollback()
    assert current_norm_version().id == int(base)
    done = client.post(
        f"/hr/norm/import/{upload_id}/publish",
        data=form | {"change-4.2": "editorial", "reason-4.2": "数字写法统一"},
        follow_redirects=True,
    )
    assert "1 课仅措辞修改，0 人需复训" in done.get_data(as_text=True)
    db.session.rollback()
    assert learner.id in complete_user_ids()


def test_hr_schedules_in_the_browser_form(client, login_as, lessons, revised):
    login_as(Role.HR)
    preview_url, upload_id = _upload(client, revised(ONE_CLAUSE), LATER)
    page = client.get(preview_url).get_data(as_text=True)
    assert "data-scheduled" in page
    assert "确认预约" in page
    before = current_norm_version().id
    done = client.post(
        f"/hr/norm/import/{upload_id}/publish",
        data={"label": "2027 修订", "effective": LATER, "base": str(before)},
        follow_redirects=True,
    )
    text = done.get_data(as_text=True)
    assert f"已预约「2027 修订」于 {LATER} 生效" in text
    assert 'data-status="scheduled"' in text
    db.session.rollback()
    assert current_norm_version().id == before
