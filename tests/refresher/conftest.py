"""The reports' fixtures: employees with recorded learning, an HR login."""

from tests.reports.conftest import hr, records  # noqa: F401 - fixtures used by these tests
