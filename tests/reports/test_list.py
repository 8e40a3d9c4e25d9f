"""The employee list: filters, search, sorting, pages and a fixed number of queries."""

from __future__ import annotations

import re
from datetime import date, timedelta


def _numbers(html: str) -> list[str]:
    """Return the 工号 of the listed rows in order."""
    body = html[html.index("<tbody>") : html.index("</tbody>")] if "<tbody>" in html else ""
    return re.findall(r"<tr data-user=\"\d+\"[^>]*>\s*<td>([^<]+)</td>", body)


def test_list_shows_screen_columns_and_links_each_row(client, hr, records, lessons):
    user = records.employee(employee_no="E500", name="王五", department="销售部")

    html = client.get("/hr/employees?q=E500").get_data(as_text=True)

    for header in ("工号", "姓名", "部门", "岗位", "入职日期", "状态", "完成课数", "截止日期"):
        assert f">{header}" in html
    assert f'href="/hr/employees/{user.id}">王五</a>' in html
    assert _numbers(html) == ["E500"]


def test_filters_search_and_keep_their_values(client, hr, records, lessons, today):
    records.employee(employee_no="S1", name="张三", department="销售部", hire_date=date(2026, 1, 5))
    records.employee(
        employee_no="S2",
        name="李四",
        department="销售部",
        hire_date=date(2026, 2, 5),
        due=today - timedelta(days=1),
    )
    records.employee(
        employee_no="T1", name="Zhang Wei", department="技术部", hire_date=date(2026, 1, 7)
    )
    records.employee(employee_no="T2", name="Gone", department="技术部", active=False)

    def listed(query):
        return set(_numbers(client.get("/hr/employees?" + query).get_data(as_text=True)))

    assert listed("department=销售部") == {"S1", "S2"}
    assert listed("status=overdue") == {"S2"}
    assert listed("status=已逾期") == {"S2"}
    assert listed("hired_from=2026-01-06&hired_to=2026-01-31") == {"T1"}
    assert listed("q=ZHANG") == {"T1"}
    assert listed("q=张") == {"S1"}
    assert listed("department=技术部") == {"T1"}
    assert listed("department=技术部&include_inactive=y") == {"T1", "T2"}

    html = client.get(
        "/hr/employees?department=销售部&q=李&status=overdue"
        "&hired_from=2026-02-01&include_inactive=y"
    ).get_data(as_text=True)
    assert '<option selected value="销售部">' in html
    assert '<option selected value="overdue">' in html
    assert 'value="李"' in html
    assert 'value="2026-02-01"' in html
    assert re.search(
        r'<input[^>]*checked[^>]*name="include_inactive"|'
        r'<input[^>]*name="include_inactive"[^>]*checked',
        html,
    )


def test_bad_dates_are_reported_and_ignored(client, hr, records):
    response = client.get("/hr/employees?hired_from=2026-13-40")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'aria-invalid="true"' in html
    assert "HR001" in html  # the filter was ignored


def test_sort_by_each_key_both_ways(client, hr, records, lessons, today):
    hr_no = "HR001"
    a = records.employee(
        employee_no="B2",
        name="B",
        department="b部",
        hire_date=date(2026, 1, 2),
        due=today + timedelta(days=2),
    )
    records.employee(
        employee_no="A3",
        name="C",
        department="a部",
        hire_date=date(2026, 1, 3),
        due=today + timedelta(days=1),
    )
    c = records.employee(employee_no="C1", name="A", department="c部", hire_date=date(2026, 1, 1))
    records.complete(c, lessons[:2])
    records.read(a, lessons[0])

    def order(sort, direction="asc"):
        return _numbers(
            # include_staff: HR's own account (not assigned the course) is listed too.
            client.get(f"/hr/employees?sort={sort}&dir={direction}&include_staff=y").get_data(
                as_text=True
            )
        )

    assert order("employee_no") == ["A3", "B2", "C1", hr_no]
    assert order("employee_no", "desc") == [hr_no, "C1", "B2", "A3"]
    assert order("name") == ["C1", "B2", "A3", hr_no]
    assert order("department") == ["A3", "B2", "C1", hr_no]
    # Empty values go last in both directions.
    assert order("hire_date") == ["C1", "B2", "A3", hr_no]
    assert order("hire_date", "desc") == ["A3", "B2", "C1", hr_no]
    assert order("due_date") == ["A3", "B2", "C1", hr_no]
    assert order("due_date", "desc") == ["B2", "A3", "C1", hr_no]
    assert order("progress", "desc") == ["C1", "B2", "A3", hr_no]
    assert order("bogus") == order("employee_no")


def test_pages_and_page_sizes(client, hr, records):
    for n in range(12):
        records.employee(employee_no=f"P{n:02d}")

    first = client.get("/hr/employees?per_page=5").get_data(as_text=True)
    third = client.get("/hr/employees?per_page=5&page=3").get_data(as_text=True)
    beyond = client.get("/hr/employees?per_page=5&page=99").get_data(as_text=True)
    huge = client.get("/hr/employees?per_page=5000").get_data(as_text=True)

    # HR's own account is not a trainee: left out unless asked for.
    assert _numbers(first) == ["P00", "P01", "P02", "P03", "P04"]
    assert "共 12 人" in first
    assert "第 1 / 3 页" in first
    assert 'rel="next" href="/hr/employees?per_page=5&amp;page=2"' in first
    assert _numbers(third) == ["P10", "P11"]
    assert _numbers(beyond) == _numbers(third)
    assert len(_numbers(huge)) == 12
    assert 'value="200" selected' in huge


def test_page_size_does_not_change_the_number_of_queries(
    client, hr, records, lessons, count_queries
):
    for n in range(220):
        user = records.employee(employee_no=f"Q{n:03d}", department=f"部门{n % 7}")
        if n % 3 == 0:
            records.read(user, lessons[n % len(lessons)])

    counts = {}
    for size in (10, 200):
        with count_queries() as statements:
            response = client.get(f"/hr/employees?per_page={size}&sort=progress&dir=desc")
        assert response.status_code == 200
        assert len(_numbers(response.get_data(as_text=True))) == size
        counts[size] = len(statements)

    assert counts[10] == counts[200]
    # Session and user lookups, plus the departments, the count and the page.
    assert counts[10] <= 8
    for n in range(220, 260):
        records.employee(employee_no=f"Q{n:03d}", department=f"部门{n % 11}")
    with count_queries() as statements:
        client.get("/hr/employees?per_page=10&sort=progress&dir=desc")
    assert len(statements) == counts[10]  # nor does the size of the company


def test_unknown_query_parameters_never_reach_links(client, hr, lessons):
    response = client.get("/hr/employees?fmt=pdf&endpoint=x&_external=1&_scheme=javascript")
    assert response.status_code == 200
    assert "javascript:" not in response.get_data(as_text=True)
