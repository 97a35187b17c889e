"""Security response headers, added to every response.

* ``Content-Security-Policy``: scripts, styles, images and requests from our own origin only, no
  ``unsafe-inline`` and no ``unsafe-eval``. htmx 4 runs under it because the templates use no
  ``hx-on:`` attributes and no ``js:`` values (the only htmx features that evaluate code), and
  ``includeIndicatorCSS`` is off (htmx would otherwise inject a ``<style>``). ``frame-ancestors
  'none'`` (and the legacy ``X-Frame-Options: DENY``) stop clickjacking.
* ``X-Content-Type-Options: nosniff``: a JSON or text response is never run as a script.
* ``Referrer-Policy``: other sites see our origin at most, never a search URL.
* ``Strict-Transport-Security`` in production only (``SECURITY_HSTS``): a development server on
  plain http must stay reachable.

Each header is set only when the response has none, so a view can still tighten its own.
A query string that is not UTF-8 is refused here with 400, before any view reads it.
"""

from __future__ import annotations

from flask import Flask, Response, abort, request

HSTS = "max-age=31536000; includeSubDomains"


def init_app(app: Flask) -> None:
    """Add the headers to every response of ``app`` (configurable through ``app.config``)."""
    config = app.config  # defaults: app.config.DEFAULT_CSP and the other settings there

    headers = {
        "Content-Security-Policy": config["CONTENT_SECURITY_POLICY"],
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": config["REFERRER_POLICY"],
        "Cross-Origin-Opener-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    }
    if config["SECURITY_HSTS"]:
        headers["Strict-Transport-Security"] = HSTS

    wanted = [(name.lower(), name, value) for name, value in headers.items()]

    def add_security_headers(response: Response) -> Response:
        # (Headers.setdefault would scan every header once per name: the names present are
        # read once instead.)
        present = {name.lower() for name, _value in response.headers.items()}
        for lowered, name, value in wanted:
            if lowered not in present:
                response.headers.add(name, value)
        return response

    app.after_request(add_security_headers)
    app.before_request(refuse_undecodable_query)


def refuse_undecodable_query() -> None:
    """400 for a query string that is not UTF-8: Werkzeug's ``request.args`` would raise
    ``UnicodeDecodeError`` in whichever view reads it first, which is a 500."""
    try:
        request.query_string.decode("utf-8")
    except UnicodeDecodeError:
        abort(400, "The address is not valid UTF-8.")
