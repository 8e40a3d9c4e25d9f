"""A real slapd for the directory sign-in tests, and apps configured to use it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.auth.slapd import Slapd


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "directory(**settings): LDAP_* and other settings for the test's app"
    )


@pytest.fixture(scope="session")
def slapd() -> Iterator[Slapd]:
    """One slapd per test run (per xdist worker). Missing slapd fails the tests: it never
    skips them, so a machine without it cannot pass the suite by leaving them out."""
    try:
        server = Slapd.start()
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)
    yield server
    server.stop()
