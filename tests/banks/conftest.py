"""Helpers for bank import tests: the committed bank of a lesson as a YAML file to edit."""

from __future__ import annotations

import pytest
import yaml

from tests.quizzes.conftest import start_quiz  # noqa: F401 - fixture
from training.banks import formats, services


@pytest.fixture
def bank_yaml():
    """Return the bank in force of a lesson as a YAML mapping, ready to edit and dump."""

    def load(number: str) -> dict:
        lesson = next(item for item in services.active_lessons() if item.number == number)
        data = formats.write("yaml", services.export_banks([lesson], include_withdrawn=True))
        return yaml.safe_load(data.decode("utf-8"))

    return load


def dump(doc: dict) -> bytes:
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False).encode("utf-8")
