"""Optional error reporting: Sentry when ``SENTRY_DSN`` is set, nothing otherwise.

Without a DSN every unexpected exception is still logged with its traceback and request id and
announced by ``got_request_exception`` (:func:`app.web.errors.report_unexpected`); with one,
:mod:`.sentry` also sends it to Sentry.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> bool:
    """Start Sentry for ``app`` when ``SENTRY_DSN`` is set; return whether reporting is on."""
    dsn = app.config.get("SENTRY_DSN")
    if not dsn:
        return False
    # sentry-sdk is the optional ``sentry`` extra: imported only when a DSN asks for it.
    from .sentry import start_sentry

    start_sentry(app, dsn)
    return True
