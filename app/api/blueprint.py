"""The API's blueprint and what applies to every API request: its rate limit, no CSRF check,
CORS for the configured origins, and :class:`~.http.ApiError` rendered as JSON.

It lives apart from the package's ``__init__`` so the view modules can import it without
importing the package that imports them (imports only run downwards).
"""

from __future__ import annotations

from flask import Blueprint, Response

from ..extensions import csrf
from ..web.limits import limit_blueprint
from .cors import enable_cors
from .http import ApiError

bp = Blueprint("api", __name__)
limit_blueprint(bp, "RATELIMIT_API", scope="api")
# Bearer-authenticated views do not use cookies, so cross-site requests cannot ride on them;
# the one session-authenticated write (issuing a token) checks CSRF itself.
csrf.exempt(bp)
bp.record_once(enable_cors)


@bp.errorhandler(ApiError)
def handle_api_error(error: ApiError) -> Response:
    return error.response()
