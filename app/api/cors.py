"""Cross-origin access to the API (and nothing else) for the origins the configuration names.

``CORS_ORIGINS`` (``VITRINE_CORS_ORIGINS``, comma-separated) is empty by default: then no
response carries CORS headers and browsers keep other sites' scripts out, as before. Listed
origins may call ``/api/v1`` from a browser with a Bearer token: the preflight allows the
headers the API reads (``Authorization``, ``If-Match``...) and responses expose the ones it
sends (``ETag``, ``Retry-After``...). Credentials (cookies) are never allowed cross-origin: the
only cookie-authenticated operation, issuing a token, stays same-origin.
"""

from __future__ import annotations

import re

from flask import Flask
from flask.blueprints import BlueprintSetupState
from flask_cors import CORS

ALLOW_HEADERS = ("Authorization", "Content-Type", "If-Match", "If-None-Match",
                 "If-Modified-Since")
EXPOSE_HEADERS = ("ETag", "Last-Modified", "Link", "Location", "Retry-After",
                  "WWW-Authenticate")
METHODS = ("GET", "POST", "PATCH", "DELETE")
#: How long a browser may cache a preflight answer (seconds).
MAX_AGE = 600


def enable_cors(state: BlueprintSetupState) -> None:
    """Attach CORS to the app for the blueprint's URL prefix, if any origin is configured."""
    app = state.app
    if not isinstance(app, Flask):  # flask-cors hooks a Flask app, not the sans-io base
        raise TypeError(f"CORS needs a Flask app, not {type(app).__name__}")
    origins = list(app.config["CORS_ORIGINS"])
    if not origins:
        return
    prefix = re.escape(state.url_prefix or "")
    CORS(app, resources={rf"^{prefix}/.*": {}}, origins=origins,
         allow_headers=list(ALLOW_HEADERS), expose_headers=list(EXPOSE_HEADERS),
         methods=list(METHODS), supports_credentials=False, max_age=MAX_AGE)
