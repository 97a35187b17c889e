"""The JSON API under ``/api/v1``: products and categories to read, products to change with an
editor's Bearer token, tokens, and the OpenAPI document at ``/api/v1/openapi.json``.

Module map: :mod:`.views` (products, categories), :mod:`.listing` (the product list, on the
catalog's query layer), :mod:`.token_views` and :mod:`.tokens` (API tokens), :mod:`.auth`
(Bearer identity), :mod:`.http` (JSON bodies, errors, conditional GETs), :mod:`.schemas`
(request bodies), :mod:`.serializers`, :mod:`.openapi`, :mod:`.cli` (``flask tokens``).
"""

from flask import Blueprint

from ..extensions import csrf

bp = Blueprint("api", __name__)
# Bearer-authenticated views do not use cookies, so cross-site requests cannot ride on them;
# the one session-authenticated write (issuing a token) checks CSRF itself.
csrf.exempt(bp)

from . import listing, openapi, token_views, views  # noqa: E402,F401
from .http import ApiError  # noqa: E402


@bp.errorhandler(ApiError)
def handle_api_error(error: ApiError):
    return error.response()
