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
