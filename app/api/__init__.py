"""The JSON API under ``/api/v1``: products and categories to read, products to change with an
editor's Bearer token, tokens, and the OpenAPI document at ``/api/v1/openapi.json``.

Importing the package registers every route on :data:`bp` (the app registers it).

Module map: :mod:`.blueprint` (the blueprint, its limit, CORS and error handler), :mod:`.views`
(products, categories), :mod:`.listing` (the product list, on the catalog's query layer),
:mod:`.token_views` and :mod:`.tokens` (API tokens), :mod:`.auth` (Bearer identity),
:mod:`.http` (JSON bodies, errors, conditional GETs), :mod:`.schemas` (request models),
:mod:`.responses` (response models) and :mod:`.serializers` (rows to them), :mod:`.openapi`
(the operations table) and :mod:`.spec` (the document generated from it), :mod:`.cors`
(cross-origin access), :mod:`.cli` (``flask tokens``).
"""

from . import listing, openapi, token_views, views  # noqa: F401 - they register the routes
from .blueprint import bp

__all__ = ["bp"]
