"""A real OpenID Provider (oidc-provider) for the sign-in tests, and apps that use it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.oidc.provider import OpenIdProvider


def pytest_configure(config):
    config.addinivalue_line("markers", "oidc(**settings): OIDC_* and other settings for the app")


@pytest.fixture(scope="session")
def openid_provider() -> Iterator[OpenIdProvider]:
    """One provider per test run (per xdist worker). Missing node or oidc-provider fails the
    tests: it never skips them."""
    try:
        server = OpenIdProvider.start()
    except RuntimeError as error:
        pytest.fail(str(error), pytrace=False)
    yield server
    server.stop()


@pytest.fixture
def provider(openid_provider) -> Iterator[OpenIdProvider]:
    yield openid_provider
    openid_provider.set_clock(0)
    openid_provider.publish_foreign_key(False)
    openid_provider.set_accounts({})


@pytest.fixture
def app(make_app, provider, request):
    marker = request.node.get_closest_marker("oidc")
    app = make_app(**provider.settings(**(marker.kwargs if marker else {})))
    with app.app_context():
        yield app
