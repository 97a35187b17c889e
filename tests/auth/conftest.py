import pytest


@pytest.fixture(autouse=True)
def _fresh_login_throttle(app):
    from app.auth.throttle import get_throttle

    with app.app_context():
        throttle = get_throttle()
    app.run_blocking(throttle.reset())
