"""Every route with hostile values in its path and query, as every role: nothing answers 500.

Ids beyond 64 bits, zero and negative ids, control characters, very long strings, path
tricks and markup go into every path parameter and into the query parameters the pages read.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from tests.app.test_access_policy import ROUTES, _login, world  # noqa: F401 - fixture
from training.auth.views import safe_next

INTS = ["0", "-1", str(2**63), str(2**64 + 5), "9" * 40]
TEXTS = [
    "\x00",
    "\r\n",
    "%0D%0ASet-Cookie:x=1",
    "a" * 5000,
    "../../etc/passwd",
    "<script>1</script>",
]
# No NUL here: it is refused before any view runs (see the test below), which would hide
# what the views do with the rest.
QUERY = {
    "next": "\r\n/evil",
    "q": "x" * 5000,
    "status": "\x01\x7f",
    "department": "<b>\u2028</b>",
    "page": str(2**70),
    "lesson": "-1",
    "version": str(2**64),
    "sort": "'; DROP TABLE users; --",
    "label": "\u202e" * 100,
    "effective": "2026-13-45",
}
PARAM = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def _hostile_urls(rule: str) -> list[str]:
    """The rule with each hostile value in one parameter at a time (the others plausible)."""
    params = PARAM.findall(rule)
    urls = []
    for index, (converter, _) in enumerate(params):
        for value in INTS if converter == "int" else TEXTS:
            parts = PARAM.split(rule)  # text, converter, name, text, converter, name, … text
            out = [parts[0]]
            for position in range(len(params)):
                kind = parts[1 + 3 * position]
                if position == index:
                    out.append(quote(value, safe=""))
                else:
                    out.append("1" if kind == "int" else "x")
                out.append(parts[3 + 3 * position])
            urls.append("".join(out))
    return urls or [rule]


def _query() -> str:
    return "&".join(f"{k}={quote(v, safe='')}" for k, v in QUERY.items())


@pytest.mark.parametrize(
    ("endpoint", "rule", "method"),
    [r for r in ROUTES if r[0] != "static"],
    ids=[f"{m} {r}" for e, r, m in ROUTES if e != "static"],
)
def test_no_hostile_value_gets_a_500(app, world, endpoint, rule, method):  # noqa: F811
    clients = {
        "anonymous": app.test_client(),
        "learner": _login(app, world["learner"]),
        "manager": _login(app, world["manager"]),
        "hr": _login(app, world["hr"]),
    }
    for who, client in clients.items():
        for url in _hostile_urls(rule):
            for target in (url, f"{url}?{_query()}"):
                response = client.open(target, method=method, data=dict(QUERY))
                response.close()
                assert response.status_code < 500, (who, method, target[:200])


def test_the_login_form_refuses_a_next_with_control_characters(client, create_user):
    user = create_user()
    for target in ("%0D%0A", "/%0D%0ALocation:%20http://evil", "/\\evil.example", "//[::1"):
        response = client.post(
            f"/login?next={target}",
            data={"employee_no": user.employee_no, "password": "Correct-Horse-42"},
        )
        assert response.status_code == 302, target
        assert response.headers["Location"] == "/", target
        client.post("/logout")


@pytest.mark.parametrize(
    "target",
    ["\r\n/x", "/a\x00b", "/\\evil.example", "//evil.example", "https://evil.example/", "/" * 3000],
)
def test_safe_next_refuses_what_is_not_a_plain_path(app, target):
    with app.test_request_context():
        assert safe_next(target) == "/"


def test_safe_next_keeps_a_plain_path(app):
    with app.test_request_context():
        assert safe_next("/lessons/4.2?x=1") == "/lessons/4.2?x=1"


@pytest.mark.parametrize("value", [str(2**63), str(2**64), "9" * 30])
def test_an_id_beyond_64_bits_is_not_found(client, login_as, value):
    from training.auth.models import Role

    login_as(Role.HR)
    for path in (f"/quiz/{value}", f"/hr/employees/{value}", f"/hr/norm/versions/{value}"):
        assert client.get(path).status_code == 404, path


def test_a_nul_character_anywhere_is_a_bad_request(app, client, login_as):
    from training.auth.models import Role

    login_as(Role.HR)
    assert client.get("/hr/employees?department=%00").status_code == 400
    assert client.get("/lessons/4%002").status_code == 400
    assert client.post("/hr/employees/new", data={"name": "a\x00b"}).status_code == 400


def test_hsts_only_over_https(app, client):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    secure = client.get("/login", base_url="https://training.example")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")
