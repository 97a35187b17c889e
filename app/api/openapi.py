"""The OpenAPI 3.1 document, served at ``/api/v1/openapi.json``.

:data:`OPERATIONS` is the table of the API's operations: for each, the models its view reads
(path, query and header parameters, body) and writes (the response model per status code),
with the headers it sends. :func:`.spec.build_document` makes the document from it, so every
schema in it is the JSON Schema of a model the views use. ``tests/api/test_openapi.py`` checks
that the table and the URL map name the same operations, and
``tests/api/test_openapi_schemathesis.py`` sends generated requests to every operation and
fails on a server error or on any response the document does not describe.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, url_for
from flask.typing import ResponseReturnValue

from ..data.products.validation import ProductCreate, ProductUpdate
from . import responses
from .blueprint import bp
from .http import PATCH_TYPES, conditional, json_response
from .listing import ApiListingQuery
from .schemas import (
    IdempotencyKey,
    IfMatchIdempotent,
    IfMatchOptionalIdempotent,
    ProductRef,
    TokenCreate,
    TokenRef,
)
from .spec import Operation, Reply, Security, build_document

ERRORS = {
    400: Reply("Malformed JSON, a malformed (empty, over-long or garbled) If-Match, or a "
               "missing CSRF token for session requests.", responses.Error),
    401: Reply("Missing, invalid, expired or revoked token.", responses.Error,
               ("WWW-Authenticate",)),
    403: Reply("The caller's role may not do this.", responses.Error),
    404: Reply("No such product (inactive products are visible to token holders only).",
               responses.Error),
    409: Reply("A request with the same Idempotency-Key is still being processed; nothing was "
               "changed by this one. Retry later to get its outcome.", responses.Error,
               ("Retry-After",)),
    412: Reply("If-Match does not name the current version; nothing changed. The API never "
               "merges a stale change field by field (the editor's screens do, for people): "
               "re-read, decide, and send the new ETag. Preconditions are evaluated last "
               "(RFC 9110 13.2.1): a request that is otherwise invalid gets its 4xx instead.",
               responses.Error, ("ETag",)),
    413: Reply("The body is larger than the server accepts.", responses.Error),
    415: Reply("The body is not JSON.", responses.Error),
    422: Reply("Valid JSON with invalid fields; `fields` names each one. Also: an "
               "Idempotency-Key already used for a different request.", responses.Error),
    428: Reply("If-Match is required (checked after the body, like 412).", responses.Error),
    429: Reply("Rate limit reached; retry after `Retry-After` seconds.", responses.Error,
               ("Retry-After",)),
}


def _errors(*codes: int) -> dict[int, Reply]:
    return {code: ERRORS[code] for code in codes}


NOT_MODIFIED = Reply("The client's copy (If-None-Match / If-Modified-Since) is current.",
                     headers=("ETag",))
PRODUCT_HEADERS = ("ETag", "Last-Modified")
BEARER: Security = [{"bearerAuth": []}]
BEARER_OPTIONAL: Security = [{}, {"bearerAuth": []}]
BEARER_OR_SESSION: Security = [{"bearerAuth": []}, {"sessionCookie": []}]

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "GET", "/products", "api.list_products", "listProducts",
        "Search and filter active products (the shopper catalog's filters).",
        query=ApiListingQuery, security=BEARER_OPTIONAL,
        responses={200: Reply("One page of products, with `next` when there are more.",
                              responses.ProductPage, ("ETag",)),
                   304: NOT_MODIFIED,
                   400: Reply("A parameter is not valid; the message says which.",
                              responses.Error),
                   **_errors(401, 429)}),
    Operation(
        "POST", "/products", "api.create_product", "createProduct",
        "Create a product (recorded in its history with source `api`).",
        body=ProductCreate, headers=IdempotencyKey, security=BEARER,
        responses={201: Reply("Created (or, with `Idempotent-Replayed`, created by an earlier "
                              "request with the same Idempotency-Key).", responses.Product,
                              ("ETag", "Location", "Last-Modified", "Idempotent-Replayed")),
                   **_errors(400, 401, 403, 409, 413, 415, 422, 429)}),
    Operation(
        "GET", "/products/{ref}", "api.product_detail", "getProduct",
        "One product by id or slug.",
        path_params=ProductRef, security=BEARER_OPTIONAL,
        responses={200: Reply("The product.", responses.Product, PRODUCT_HEADERS),
                   304: NOT_MODIFIED, **_errors(401, 404, 429)}),
    Operation(
        "PATCH", "/products/{ref}", "api.update_product", "updateProduct",
        "Change some fields, if the product is still at the version in If-Match.",
        path_params=ProductRef, headers=IfMatchIdempotent, body=ProductUpdate,
        body_types=PATCH_TYPES, security=BEARER,
        responses={200: Reply("The product after the change.", responses.Product,
                              (*PRODUCT_HEADERS, "Idempotent-Replayed")),
                   **_errors(400, 401, 403, 404, 409, 412, 413, 415, 422, 428, 429)}),
    Operation(
        "DELETE", "/products/{ref}", "api.delete_product", "deleteProduct",
        "Soft delete: deactivate the product (kept with its history).",
        path_params=ProductRef, headers=IfMatchOptionalIdempotent, security=BEARER,
        responses={200: Reply("The product, now inactive.", responses.Product,
                              (*PRODUCT_HEADERS, "Idempotent-Replayed")),
                   **_errors(400, 401, 403, 404, 409, 412, 422, 429)}),
    Operation(
        "GET", "/categories", "api.categories", "listCategories",
        "Every category (one level of sub-categories via parent_id).",
        security=BEARER_OPTIONAL,
        responses={200: Reply("The categories, by name.", responses.CategoryList, ("ETag",)),
                   304: NOT_MODIFIED, **_errors(401, 429)}),
    Operation(
        "GET", "/tokens", "api.tokens_index", "listTokens",
        "The caller's API tokens (never the secrets).",
        security=BEARER_OR_SESSION,
        responses={200: Reply("The tokens (with X-CSRFToken for a session caller).",
                              responses.TokenList, ("X-CSRFToken",)),
                   **_errors(401, 403, 429)}),
    Operation(
        "POST", "/tokens", "api.tokens_create", "createToken",
        "Issue a token to the signed-in editor (session cookie and X-CSRFToken header); the "
        "secret is in this response only.",
        body=TokenCreate, security=[{"sessionCookie": []}],
        responses={201: Reply("The new token, with its secret.", responses.NewToken,
                              ("Location",)),
                   **_errors(400, 401, 403, 413, 415, 422, 429)}),
    Operation(
        "DELETE", "/tokens/{token_id}", "api.tokens_revoke", "revokeToken",
        "Revoke one of the caller's tokens.",
        path_params=TokenRef, security=BEARER_OR_SESSION,
        responses={204: Reply("Revoked."), **_errors(400, 401, 403, 404, 429)}),
)

INFO = {
    "title": "Vitrine API",
    "version": "1.0.0",
    "description": (
        "The Vitrine catalog for scripts and integrations. Reads are public; changes need an "
        "editor's token (`Authorization: Bearer vit_...`), issued at `POST /tokens` to a "
        "signed-in editor or with `flask --app app tokens create`. Every change is recorded "
        "in the product's history with source `api`. Changes are conditional: `If-Match` "
        "with the product's ETag, 412 when it changed meanwhile (strict HTTP semantics, no "
        "field-level merge). Every POST, PATCH and DELETE of a product accepts an "
        "`Idempotency-Key` header (the IETF httpapi idempotency-key draft): a retry with the "
        "same key and body gets the first response again and changes nothing twice. Requests "
        "are rate limited per client address (429 with `Retry-After`)."
    ),
}
SECURITY_SCHEMES = {
    "bearerAuth": {"type": "http", "scheme": "bearer",
                   "description": "An API token (`vit_...`)."},
    "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "session",
                      "description": "A signed-in editor's session (token issuing only; "
                                     "needs X-CSRFToken)."},
}


def document() -> dict[str, Any]:
    return build_document(info=INFO, servers=[{"url": "/api/v1"}], operations=OPERATIONS,
                          headers=responses.ResponseHeaders, security_schemes=SECURITY_SCHEMES)


@bp.get("/openapi.json")
async def openapi_document() -> ResponseReturnValue:
    """The document, built once per app; its server is where this request found the API
    (``/shop/api/v1`` behind a ``/shop`` prefix)."""
    cached = current_app.extensions.get("vitrine_openapi")
    if cached is None:
        cached = current_app.extensions["vitrine_openapi"] = document()
    base = url_for("api.openapi_document").rsplit("/", 1)[0]
    return conditional(json_response(cached | {"servers": [{"url": base}]}))
