"""Security response headers (CSP without unsafe-inline/unsafe-eval, nosniff, referrer, HSTS)."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Placeholder until the security headers land (issue 6)."""
