"""Security headers on pages, fragments, errors and the API."""

from __future__ import annotations

import pytest

from app.web.security import HSTS


@pytest.mark.parametrize("path,headers", [
    ("/products", {}),
    ("/products", {"HX-Request": "true"}),
    ("/no-such-page", {}),
    ("/api/v1/categories", {}),
    ("/api/v1/nope", {}),
])
def test_every_response_carries_the_security_headers(client, path, headers):
    response = client.get(path, headers=headers)
    csp = response.headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in response.headers  # not outside production


def test_hsts_and_secure_cookies_in_production(make_app):
    app = make_app("production", SECRET_KEY="s" * 40)
    response = app.test_client().get("/healthz")
    assert response.headers["Strict-Transport-Security"] == HSTS
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_templates_have_no_inline_scripts_handlers_or_styles():
    """What the CSP would block must not be in the templates in the first place."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "templates"
    offenders = []
    for template in root.rglob("*.html"):
        text = template.read_text()
        for pattern in (r"<script(?![^>]*\bsrc=)[^>]*>", r"\son[a-z]+\s*=", r"\sstyle\s*=",
                        r"\shx-on[:-]", r"js:", r"javascript:", r"\|\s*safe\b"):
            if re.search(pattern, text, re.IGNORECASE):
                offenders.append(f"{template.relative_to(root)}: {pattern}")
    assert offenders == []


def test_a_view_that_sets_its_own_security_header_keeps_it_and_gets_the_others(make_app):
    app = make_app()

    @app.get("/tightened")
    def tightened():
        return "ok", 200, {"x-frame-options": "SAMEORIGIN",
                           "Content-Security-Policy": "default-src 'none'"}

    response = app.test_client().get("/tightened")
    assert response.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]  # any case: its own
    assert response.headers.getlist("Content-Security-Policy") == ["default-src 'none'"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
