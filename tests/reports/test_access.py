"""Every report route is for HR only."""

from __future__ import annotations

import pytest

from training.auth.models import Role

ROUTES = [
    "/hr/",
    "/hr/employees",
    "/hr/employees/{user}",
    "/hr/attempts/{attempt}",
    "/hr/employees/export.csv",
    "/hr/employees/export.xlsx",
    "/hr/attempts/export.csv",
    "/hr/attempts/export.xlsx",
]


@pytest.fixture
def ids(lessons, records):
    other = records.employee(employee_no="OTHER1")
    attempt = records.attempt(other, lessons[0])
    return {"user": other.id, "attempt": attempt.id}


@pytest.mark.parametrize("route", ROUTES)
def test_anonymous_visitors_are_sent_to_login(client, ids, route):
    response = client.get(route.format(**ids))

    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("route", ROUTES)
def test_learners_are_refused(client, login_as, ids, route):
    login_as(Role.LEARNER)

    response = client.get(route.format(**ids))

    assert response.status_code == 403
    assert "OTHER1" not in response.get_data(as_text=True)


def test_a_learner_gets_nothing_for_their_own_or_another_id(
    client, login_as, ids, records, lessons
):
    me = login_as(Role.LEARNER)
    mine = records.attempt(me, lessons[0])

    for url in (
        f"/hr/employees/{ids['user']}",
        f"/hr/employees/{me.id}",
        f"/hr/attempts/{ids['attempt']}",
        f"/hr/attempts/{mine.id}",
    ):
        assert client.get(url).status_code == 403


@pytest.mark.parametrize("route", ["/hr/employees/99999", "/hr/attempts/99999"])
def test_unknown_ids_are_not_found(client, hr, route):
    assert client.get(route).status_code == 404


def test_nav_links_for_hr_only(client, hr):
    html = client.get("/").get_data(as_text=True)

    assert 'href="/hr/"' in html
    assert 'href="/hr/employees"' in html
