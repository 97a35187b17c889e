"""Rate limits (Flask-Limiter): Redis storage when REDIS_URL is set, memory otherwise."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Placeholder until rate limits land (issue 6)."""
