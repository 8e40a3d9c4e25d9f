"""Settings are checked and normalised once, when the app starts; a bad one stops it clearly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from training.app import create_app
from training.config import SettingsError

BASE = {"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"}
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("QUIZ_SIZE", "abc", "a whole number of at least 1"),
        ("QUIZ_SIZE", 0, "a whole number of at least 1"),
        ("QUIZ_SIZE", True, "a whole number"),
        ("QUIZ_PASS_MARK", 0, "a number in (0, 1]"),
        ("QUIZ_PASS_MARK", 1.5, "a number in (0, 1]"),
        ("QUIZ_MAX_ATTEMPTS", -2, "at least 1"),
        ("PRACTICE_DESIRED_RETENTION", 1, "a number in (0, 1)"),
        ("ONBOARDING_DAYS", -1, "at least 0"),
        ("BASE_URL", "training.example.com", "an http:// or https:// address"),
        ("SESSION_COOKIE_SECURE", "perhaps", "true or false"),
        ("BABEL_DEFAULT_TIMEZONE", "Mars/Olympus", "a time zone name"),
        ("LOG_LEVEL", "LOUD", "one of DEBUG"),
    ],
)
def test_a_bad_setting_stops_the_app_naming_it(name, value, says):
    with pytest.raises(SettingsError) as info:
        create_app(BASE | {name: value})
    message = str(info.value)
    assert f"TRAINING_{name}" in message
    assert says in message
    assert repr(value) in message


@pytest.mark.parametrize(
    ("name", "value", "normalised"),
    [
        ("QUIZ_SIZE", "7", 7),
        ("QUIZ_PASS_MARK", "0.75", 0.75),
        ("QUIZ_MAX_ATTEMPTS", 0, None),
        ("SESSION_COOKIE_SECURE", "false", False),
        ("BASE_URL", "https://training.example.com/", "https://training.example.com"),
        ("LOG_LEVEL", "debug", "DEBUG"),
    ],
)
def test_good_settings_are_normalised_once(name, value, normalised):
    assert create_app(BASE | {name: value}).config[name] == normalised


def test_a_bad_environment_setting_stops_the_command_with_one_clear_line(tmp_path):
    env = {**os.environ, "TRAINING_QUIZ_SIZE": "abc", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    result = subprocess.run(  # noqa: S603 - the project's own entry point
        [sys.executable, "-m", "flask", "--app", "wsgi", "routes"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "Cannot start: TRAINING_QUIZ_SIZE (or QUIZ_SIZE in instance/config.py) must be "
        "a whole number of at least 1, not 'abc'"
    )


LDAP = {"LDAP_URL": "ldaps://dc1.example.com", "LDAP_BASE_DN": "dc=example,dc=com"}


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("LDAP_URL", "http://dc1.example.com", "an ldap:// or ldaps:// address"),
        ("LDAP_URL", "ldap://user@dc1.example.com", "of a host (and port) only"),
        ("LDAP_URL", "ldap://dc1.example.com/dc=example", "of a host (and port) only"),
        ("LDAP_USER_FILTER", "employeeNumber={employee_no}", "an LDAP filter in parentheses"),
        ("LDAP_USER_FILTER", "(&(uid={employee_no})", "an LDAP filter in parentheses"),
        ("LDAP_USER_FILTER", "(uid=E1001)", "with {employee_no}"),
        ("LDAP_DISABLED_FILTER", "nsAccountLock=TRUE", "an LDAP filter in parentheses"),
        ("LDAP_NAME_ATTRIBUTE", "display name", "an LDAP attribute name"),
        ("LDAP_TIMEOUT", 0, "a whole number of at least 1"),
        ("LDAP_JIT_PROVISIONING", "sometimes", "true or false"),
        ("PASSWORD_LOGIN_ROLES", ["hr", "admin"], "a list of roles out of learner, manager, hr"),
    ],
)
def test_a_bad_directory_setting_stops_the_app_naming_it(name, value, says):
    with pytest.raises(SettingsError) as info:
        create_app(BASE | LDAP | {name: value})
    message = str(info.value)
    assert f"TRAINING_{name}" in message
    assert says in message


@pytest.mark.parametrize(
    ("settings", "says"),
    [
        ({"LDAP_BASE_DN": ""}, "TRAINING_LDAP_BASE_DN must say where people are searched"),
        ({"LDAP_EMPLOYEE_NO_ATTRIBUTE": ""}, "must name the attribute that holds the 工号"),
        ({"LDAP_BIND_DN": "cn=search,dc=example,dc=com"}, "without TRAINING_LDAP_BIND_PASSWORD"),
        ({"LDAP_START_TLS": True}, "ldaps:// is TLS from the start"),
        ({"LDAP_URL": "ldap://dc1.example.com"}, "would carry passwords in clear text"),
        ({"LDAP_URL": "", "PASSWORD_LOGIN_ROLES": ["hr"]}, "leaves out learner, manager"),
    ],
)
def test_directory_settings_that_do_not_fit_together_stop_the_app(settings, says):
    with pytest.raises(SettingsError, match="TRAINING_") as info:
        create_app(BASE | LDAP | settings)
    assert says in str(info.value)


@pytest.mark.parametrize(
    ("settings", "name", "normalised"),
    [
        ({"LDAP_URL": "ldaps://dc1.example.com:636/"}, "LDAP_URL", "ldaps://dc1.example.com:636"),
        ({"LDAP_URL": "ldap://dc1.example.com", "LDAP_START_TLS": "true"}, "LDAP_START_TLS", True),
        (
            {"LDAP_URL": "ldap://10.0.0.5", "LDAP_ALLOW_PLAINTEXT": True},
            "LDAP_URL",
            "ldap://10.0.0.5",
        ),
        ({"LDAP_URL": "ldap://127.0.0.1:3389"}, "LDAP_URL", "ldap://127.0.0.1:3389"),
        ({"PASSWORD_LOGIN_ROLES": "hr, manager"}, "PASSWORD_LOGIN_ROLES", ["manager", "hr"]),
        ({"PASSWORD_LOGIN_ROLES": []}, "PASSWORD_LOGIN_ROLES", []),
        ({"LDAP_DISABLED_FILTER": ""}, "LDAP_DISABLED_FILTER", ""),
    ],
)
def test_good_directory_settings_are_normalised(settings, name, normalised):
    assert create_app(BASE | LDAP | settings).config[name] == normalised


def test_without_a_directory_every_role_keeps_its_password_by_default():
    config = create_app(BASE).config
    assert config["LDAP_URL"] == ""
    assert config["PASSWORD_LOGIN_ROLES"] == ["learner", "manager", "hr"]


def test_the_settings_know_every_role():
    from training.auth.models import Role
    from training.config import ROLES

    assert tuple(role.value for role in Role) == ROLES


OIDC = {
    "OIDC_ISSUER": "https://sso.example.com/realms/staff",
    "OIDC_CLIENT_ID": "training",
    "OIDC_CLIENT_SECRET": "secret",
}


@pytest.mark.parametrize(
    ("settings", "says"),
    [
        ({"OIDC_ISSUER": "http://sso.example.com"}, "TRAINING_OIDC_ISSUER (or OIDC_ISSUER"),
        ({"OIDC_ISSUER": "https://sso.example.com/?realm=x"}, "without query"),
        ({"OIDC_SCOPES": "profile email"}, "openid among them"),
        ({"OIDC_CLAIM": "employee no"}, "a claim name"),
        ({"OIDC_MATCH_FIELD": "name"}, "TRAINING_OIDC_MATCH_FIELD"),
        ({"OIDC_CLIENT_SECRET": ""}, "TRAINING_OIDC_CLIENT_SECRET is empty"),
        (
            {"OIDC_JIT_PROVISIONING": True, "OIDC_CLAIM": "email", "OIDC_MATCH_FIELD": "email"},
            "needs TRAINING_OIDC_MATCH_FIELD=employee_no",
        ),
        ({"OIDC_ISSUER": "", "WECOM_CORP_ID": "ww1"}, "TRAINING_WECOM_AGENT_ID"),
        ({"OIDC_ISSUER": "", "FEISHU_APP_ID": "cli_1"}, "TRAINING_FEISHU_APP_SECRET is empty"),
    ],
)
def test_bad_identity_provider_settings_stop_the_app(settings, says):
    with pytest.raises(SettingsError) as info:
        create_app(BASE | OIDC | settings)
    assert says in str(info.value)


@pytest.mark.parametrize(
    ("settings", "name", "normalised"),
    [
        ({"OIDC_ISSUER": "https://sso.example.com/"}, "OIDC_ISSUER", "https://sso.example.com"),
        ({"OIDC_ISSUER": "http://127.0.0.1:8080"}, "OIDC_ISSUER", "http://127.0.0.1:8080"),
        ({"OIDC_SCOPES": " openid  profile "}, "OIDC_SCOPES", "openid profile"),
        # With an identity provider on, password login may be left to HR without a directory.
        ({"PASSWORD_LOGIN_ROLES": ["hr"]}, "PASSWORD_LOGIN_ROLES", ["hr"]),
    ],
)
def test_good_identity_provider_settings_are_normalised(settings, name, normalised):
    assert create_app(BASE | OIDC | settings).config[name] == normalised
