"""Rate limits on sign-in, search and the API: 429 with Retry-After in the client's format, and
one limit shared by every worker when the storage is Redis."""

from __future__ import annotations

import httpx
import pytest


@pytest.fixture
def limited_app(make_app):
    return make_app("testing", RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="3 per minute",
                    RATELIMIT_SEARCH="4 per minute", RATELIMIT_API="5 per minute",
                    REDIS_URL=None, WTF_CSRF_ENABLED=False)


def test_sign_in_attempts_are_limited_per_address(limited_app, sql):
    sql.user("ed@example.com", "correct horse battery")
    client = limited_app.test_client()
    statuses = [client.post("/auth/login", data={"email": "ed@example.com",
                                                 "password": f"wrong {i}"}).status_code
                for i in range(4)]
    assert 429 not in statuses[:3]
    assert statuses[3] == 429
    refused = client.post("/auth/login", data={"email": "ed@example.com",
                                               "password": "correct horse battery"})
    assert refused.status_code == 429
    assert refused.mimetype == "text/html"
    assert "Too many requests" in refused.get_data(as_text=True)
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    # Reading the sign-in form is not an attempt.
    assert client.get("/auth/login").status_code != 429


def test_search_limit_answers_page_fragment_and_stops_at_the_limit(limited_app):
    client = limited_app.test_client()
    for _ in range(4):
        assert client.get("/products?q=lamp").status_code == 200
    page = client.get("/products")
    assert page.status_code == 429 and "<html" in page.get_data(as_text=True)
    fragment = client.get("/products", headers={"HX-Request": "true"})
    assert fragment.status_code == 429
    assert "<html" not in fragment.get_data(as_text=True)
    assert "Too many requests" in fragment.get_data(as_text=True)
    assert fragment.headers["HX-Retarget"] == "#messages"
    assert int(fragment.headers["Retry-After"]) >= 1
    # Other pages are not search: not limited by it.
    assert client.get("/healthz").status_code == 200


def test_api_limit_is_json_with_retry_after(limited_app):
    client = limited_app.test_client()
    statuses = [client.get("/api/v1/categories").status_code for _ in range(5)]
    assert statuses == [200] * 5
    refused = client.get("/api/v1/products/1")
    assert refused.status_code == 429
    assert refused.json["status"] == 429 and refused.json["limit"] == "5 per 1 minute"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60


def test_limits_are_off_in_the_test_config_unless_asked(app):
    assert app.config["RATELIMIT_ENABLED"] is False
    assert "vitrine_limiter" not in app.extensions


@pytest.mark.live
def test_two_workers_share_one_limit_through_redis(database_url, tmp_path, redis_url,
                                                    redis_prefix):
    from tests.support.live import start_server

    server = start_server(
        database_url, tmp_path, app="tests.security.worker_app:create_worker_app()", workers=2,
        env={"VITRINE_RATELIMIT_ENABLED": "1", "REDIS_URL": redis_url,
             "VITRINE_RATELIMIT_KEY_PREFIX": redis_prefix,
             "VITRINE_RATELIMIT_API": "20 per minute"},
    )
    try:
        answers = []
        # A new connection each time, so the kernel spreads them over both workers. Which
        # worker accepts is the kernel's choice and can stay with one for a while, so the test
        # goes on (bounded) until each worker has refused at least once.
        while len(answers) < 400 and len({pid for status, pid in answers
                                           if status == 429}) < 2:
            with httpx.Client(base_url=server.url, timeout=10) as http:
                response = http.get("/api/v1/categories")
                answers.append((response.status_code, response.headers["X-Worker-Pid"]))
    finally:
        server.stop()
    served = [pid for status, pid in answers if status == 200]
    refused = [pid for status, pid in answers if status == 429]
    assert len(served) + len(refused) == len(answers), answers
    # One count for both: however many requests were made, only 20 were served in all. Two
    # separate counts would each have served up to 20.
    assert len(served) == 20, answers
    assert len(set(refused)) == 2, "each worker refused once the shared count was spent"


def test_signing_in_again_from_an_editor_row_counts_against_the_sign_in_limit(limited_app, sql):
    sql.user("ed@example.com", "correct horse battery")
    client = limited_app.test_client()
    for i in range(3):
        client.post("/auth/login", data={"email": "ed@example.com", "password": f"wrong {i}"})
    refused = client.post("/editor/products/1/resume", data={
        "email": "ed@example.com", "password": "correct horse battery", "name": "Lamp"})
    assert refused.status_code == 429
    assert client.get("/editor/products").status_code == 302  # still not signed in
