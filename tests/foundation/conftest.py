import pytest

from tests.support.probe_app import create_probe_app


@pytest.fixture(scope="module")
def probe_app(app):
    """The app plus probe views, on the same (already migrated) test database."""
    application = create_probe_app(DATABASE_URL=app.config["DATABASE_URL"])
    yield application
    application.close()


@pytest.fixture
def probe_client(probe_app):
    return probe_app.test_client()
