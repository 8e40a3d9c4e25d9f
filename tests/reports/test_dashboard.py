"""The HR dashboard: counts, completion by department as SVG, overdue list, quiz insight."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from training.extensions import db
from training.quizzes.models import QuizQuestion
from training.reports.insight import quiz_insight


def test_dashboard_counts_statuses_of_active_employees(
    client, hr, lessons, records, today, yesterday
):
    done = records.employee(department="销售部", due=today)
    records.complete(done, lessons)
    started = records.employee(department="销售部", due=today)
    records.read(started, lessons[0])
    records.employee(department="技术部", due=today + timedelta(days=3))
    records.employee(name="逾期乙", employee_no="L001", department="技术部", due=yesterday)
    records.employee(department="技术部", active=False)

    html = client.get("/hr/").get_data(as_text=True)

    def count(key):
        return int(re.search(rf'data-count="{key}">(\d+)<', html).group(1))

    # HR's own account was never assigned the course: it is not counted.
    assert count("total") == 4
    assert count("completed") == 1
    assert count("in_progress") == 1
    assert count("not_started") == 1
    assert count("overdue") == 1


def test_dashboard_draws_a_bar_per_department_with_text_labels(client, hr, lessons, records):
    for department in ("销售部", "技术部", "客服部"):
        records.employee(department=department)
    records.complete(records.employee(department="销售部"), lessons)

    html = client.get("/hr/").get_data(as_text=True)

    chart = html[html.index('<ul class="bar-chart"') : html.index("</figure>")]
    assert 'aria-label="各部门培训完成率"' in chart
    assert chart.count('class="bar-row"') == 3  # HR (人事行政部, not assigned) is not a trainee
    assert chart.count('<rect class="bar" width=') == 3
    # Labels and figures are HTML text (they keep their size on a phone), not SVG <text>.
    assert "<text" not in chart
    for department in ("销售部", "技术部", "客服部"):
        assert f'<span class="bar-label">{department}</span>' in chart
    assert '<span class="bar-value">50%（1/2）</span>' in chart
    assert '<rect class="bar" width="50.0"' in chart
    assert "<table" in html[html.index("</figure>") :]  # the data table


def test_dashboard_lists_overdue_employees_with_days_and_links(client, hr, lessons, records, today):
    late = records.employee(
        name="迟到丙", employee_no="L100", department="仓储部", due=today - timedelta(days=3)
    )
    records.read(late, lessons[0])
    records.employee(name="准时丁", due=today)

    html = client.get("/hr/").get_data(as_text=True)

    section = html[html.index('id="overdue-title"') : html.index('id="insight-title"')]
    assert "迟到丙" in section
    assert "L100" in section
    assert "仓储部" in section
    assert f'href="/hr/employees/{late.id}"' in section
    assert (today - timedelta(days=3)).isoformat() in section
    assert '<td class="num">3</td>' in section
    assert "准时丁" not in section


def test_quiz_insight_puts_the_worst_question_first(app, lessons, records):
    lesson = lessons[0]
    first = records.employee()
    wrong_first = records.attempt(first, lesson, correct=[False])
    records.attempt(first, lesson, correct=False)  # a retry does not count
    second = records.employee()
    records.attempt(second, lesson, correct=True)

    insight = quiz_insight(limit=100)

    worst = insight.questions[0]
    missed = wrong_first.draw["questions"][0]["id"]
    assert worst.qid == missed
    assert insight.attempts == 2
    rates = [q.tally.rate for q in insight.questions]
    assert rates == sorted(rates)
    assert worst.tally.correct < worst.tally.total
    assert all(q.tally.total <= 2 for q in insight.questions)
    clause_rates = [c.tally.rate for c in insight.clauses]
    assert clause_rates == sorted(clause_rates)
    assert insight.clauses[0].clause in worst.cites


def test_dashboard_shows_insight_with_clause_links(client, hr, lessons, records):
    records.attempt(records.employee(), lessons[0], correct=False)

    html = client.get("/hr/").get_data(as_text=True)

    section = html[html.index('id="insight-title"') :]
    assert "0%" in section
    assert re.search(r'href="/lessons/[\d.]+#s-[\d.]+"', section)


def test_quiz_insight_ignores_answers_to_an_earlier_version_of_a_question(app, lessons, records):
    attempt = records.attempt(records.employee(), lessons[0], correct=False)
    edited = attempt.draw["questions"][0]["id"]
    question = db.session.scalar(select(QuizQuestion).where(QuizQuestion.qid == edited))
    question.content_hash = "0" * 64  # the bank now holds another version of it
    db.session.commit()

    insight = quiz_insight(limit=100)

    listed = {q.qid for q in insight.questions}
    assert edited not in listed
    assert {q["id"] for q in attempt.draw["questions"]} - {edited} == listed


def test_dashboard_insight_is_cached_for_the_configured_time(app, lessons, cached_statistics):
    from training.reports.insight import cached_insight

    assert cached_insight() is cached_insight()
    app.config["INSIGHT_CACHE_SECONDS"] = 0
    assert cached_insight() is not cached_insight()


def test_dashboard_statements_do_not_grow_with_the_company(
    client, hr, lessons, records, today, count_queries
):
    def statements() -> int:
        client.get("/hr/")  # the insight is computed (tests compute it in the request)
        with count_queries() as seen:
            assert client.get("/hr/").status_code == 200
        return len(seen)

    records.employee(department="销售部", due=today - timedelta(days=2))
    few = statements()
    for n in range(30):
        user = records.employee(department=f"部门{n % 4}", due=today - timedelta(days=n % 5))
        if n % 3 == 0:
            records.read(user, lessons[0])
    assert statements() == few
