"""CORS: only ``/api/v1``, only for the configured origins, never with credentials."""

from __future__ import annotations

import pytest

from app import create_app

ALLOWED = "https://shop.example"


@pytest.fixture(scope="module")
def cors_client(app):
    """An app configured as ``VITRINE_CORS_ORIGINS=https://shop.example,https://b.example``
    (the session ``app`` fixture has migrated the database it shares)."""
    application = create_app("testing", CORS_ORIGINS=[ALLOWED, "https://b.example"])
    yield application.test_client()
    application.close()


def preflight(client, url: str, origin: str):
    return client.options(url, headers={
        "Origin": origin,
        "Access-Control-Request-Method": "PATCH",
        "Access-Control-Request-Headers": "Authorization, If-Match, Content-Type",
    })


def cors_headers(response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.lower().startswith("access-control")}


def test_preflight_from_an_allowed_origin_allows_the_api_headers(cors_client):
    response = preflight(cors_client, "/api/v1/products/1", ALLOWED)
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    methods = {m.strip() for m in response.headers["Access-Control-Allow-Methods"].split(",")}
    assert {"GET", "PATCH", "DELETE", "POST"} <= methods
    allowed = {h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"]
               .split(",")}
    assert {"authorization", "if-match", "content-type"} <= allowed
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert "Origin" in response.headers.get("Vary", "")


def test_a_cross_origin_read_exposes_the_validators(cors_client, catalog):
    response = cors_client.get(f"/api/v1/products/{catalog['lamp']}", headers={"Origin": ALLOWED})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    exposed = {h.strip() for h in response.headers["Access-Control-Expose-Headers"].split(",")}
    assert {"ETag", "Last-Modified", "Retry-After", "Location"} <= exposed


def test_an_api_error_carries_cors_headers_too(cors_client):
    """A script on an allowed origin must be able to read why it was refused."""
    response = cors_client.get("/api/v1/products/no-such-product", headers={"Origin": ALLOWED})
    assert response.status_code == 404
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED


def test_another_origin_gets_no_cors_headers(cors_client):
    response = preflight(cors_client, "/api/v1/products/1", "https://evil.example")
    assert cors_headers(response) == {}
    response = cors_client.get("/api/v1/categories", headers={"Origin": "https://evil.example"})
    assert response.status_code == 200
    assert cors_headers(response) == {}


@pytest.mark.parametrize("url", ["/", "/auth/login", "/editor/"])
def test_pages_never_get_cors_headers(cors_client, url):
    assert cors_headers(preflight(cors_client, url, ALLOWED)) == {}
    assert cors_headers(cors_client.get(url, headers={"Origin": ALLOWED})) == {}


def test_without_configured_origins_the_api_sends_no_cors_headers(client):
    assert cors_headers(preflight(client, "/api/v1/products/1", ALLOWED)) == {}
    assert cors_headers(client.get("/api/v1/categories", headers={"Origin": ALLOWED})) == {}
