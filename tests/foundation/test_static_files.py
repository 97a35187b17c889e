"""Static URLs carry their content hash and are cached for a year; others only briefly."""

from __future__ import annotations

import hashlib
import re

import pytest

IMMUTABLE = "public, max-age=31536000, immutable"


def file_hash(name: str) -> str:
    with open(f"static/{name}", "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()[:12]


@pytest.mark.parametrize("prefix", ["", "/shop"], ids=["root", "under-a-prefix"])
def test_pages_link_hashed_static_urls_cached_for_a_year(client, prefix):
    base = f"http://localhost{prefix}"
    html = client.get("/products", base_url=base).get_data(as_text=True)
    expected = f"{prefix}/static/css/app.css?v={file_hash('css/app.css')}"
    assert f'href="{expected}"' in html
    scripts = re.findall(r'src="([^"]+)"', html)
    assert scripts and all("?v=" in src and src.startswith(f"{prefix}/static/")
                           for src in scripts)
    response = client.get(expected.removeprefix(prefix), base_url=base)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == IMMUTABLE


@pytest.mark.parametrize("query", ["", "?v=000000000000"], ids=["no-hash", "old-hash"])
def test_other_static_urls_get_a_short_max_age(client, query):
    response = client.get(f"/static/css/app.css{query}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=300"


def test_the_short_max_age_is_a_setting(make_app):
    client = make_app(STATIC_MAX_AGE=0).test_client()
    assert client.get("/static/css/app.css").headers["Cache-Control"] == "no-cache"
