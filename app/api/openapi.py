"""The OpenAPI 3.1 document, served at ``/api/v1/openapi.json``.

Request bodies come from the Pydantic models that validate them (:mod:`.schemas`); responses,
parameters and status codes are written out here next to each other so a reader can check them
against the views. ``tests/api/test_openapi_schemathesis.py`` sends generated requests to every
operation and fails on a server error or on any response the document does not describe.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.typing import ResponseReturnValue
from pydantic import BaseModel

from . import bp
from .http import conditional, json_response
from .schemas import ProductCreate, ProductUpdate, TokenCreate

JSON = "application/json"
REF = "#/components/schemas/{model}"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _error(description: str, *headers: str) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description,
                                "content": {JSON: {"schema": _ref("Error")}}}
    if headers:
        response["headers"] = {name: {"$ref": f"#/components/headers/{name}"} for name in headers}
    return response


ERRORS = {
    "400": _error("Malformed JSON (or a missing CSRF token for session requests)."),
    "401": _error("Missing, invalid, expired or revoked token.", "WWW-Authenticate"),
    "403": _error("The caller's role may not do this."),
    "404": _error("No such product (inactive products are visible to token holders only)."),
    "412": _error("If-Match does not name the current version; nothing changed.", "ETag"),
    "413": _error("The body is larger than the server accepts."),
    "415": _error("The body is not JSON."),
    "422": _error("Valid JSON with invalid fields; `fields` names each one."),
    "428": _error("If-Match is required."),
    "429": _error("Rate limit reached; retry after `Retry-After` seconds.", "Retry-After"),
}


def _errors(*codes: int) -> dict[str, Any]:
    return {str(code): ERRORS[str(code)] for code in codes}


def _ok(description: str, schema: str | None, *headers: str) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description}
    if schema:
        response["content"] = {JSON: {"schema": _ref(schema)}}
    if headers:
        response["headers"] = {name: {"$ref": f"#/components/headers/{name}"} for name in headers}
    return response


NOT_MODIFIED = {"description": "The client's copy (If-None-Match / If-Modified-Since) is current.",
                "headers": {"ETag": {"$ref": "#/components/headers/ETag"}}}
BEARER = [{"bearerAuth": []}]
BEARER_OPTIONAL = [{}, {"bearerAuth": []}]

PRODUCT_REF_PARAM = {
    "name": "ref", "in": "path", "required": True,
    "description": "The product's id or slug.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 220,
               "pattern": "^[A-Za-z0-9._~-]+$"},
}
IF_MATCH = {
    "name": "If-Match", "in": "header", "required": True,
    "description": "The product's ETag from GET (its version, quoted or bare), or `*`.",
    "schema": {"type": "string", "maxLength": 200},
}
IF_MATCH_OPTIONAL = IF_MATCH | {"required": False}


def _list_parameters() -> list[dict[str, Any]]:
    from .listing import openapi_parameters

    return openapi_parameters()


def _paths() -> dict[str, Any]:
    body = {"required": True}
    return {
        "/products": {
            "get": {
                "operationId": "listProducts",
                "summary": "Search and filter active products (the shopper catalog's filters).",
                "parameters": _list_parameters(),
                "responses": {
                    "200": _ok("One page of products, with `next` when there are more.",
                               "ProductPage", "ETag"),
                    "304": NOT_MODIFIED,
                    "400": _error("A parameter is not valid; the message says which."),
                    **_errors(401, 429),
                },
                "security": BEARER_OPTIONAL,
            },
            "post": {
                "operationId": "createProduct",
                "summary": "Create a product (recorded in its history with source `api`).",
                "requestBody": body | {"content": {JSON: {"schema": _ref("ProductCreate")}}},
                "responses": {
                    "201": _ok("Created.", "Product", "ETag", "Location", "Last-Modified"),
                    **_errors(400, 401, 403, 413, 415, 422, 429),
                },
                "security": BEARER,
            },
        },
        "/products/{ref}": {
            "get": {
                "operationId": "getProduct",
                "summary": "One product by id or slug.",
                "parameters": [PRODUCT_REF_PARAM],
                "responses": {
                    "200": _ok("The product.", "Product", "ETag", "Last-Modified"),
                    "304": NOT_MODIFIED,
                    **_errors(401, 404, 429),
                },
                "security": BEARER_OPTIONAL,
            },
            "patch": {
                "operationId": "updateProduct",
                "summary": "Change some fields, if the product is still at the version in "
                           "If-Match.",
                "parameters": [PRODUCT_REF_PARAM, IF_MATCH],
                "requestBody": body | {"content": {
                    JSON: {"schema": _ref("ProductUpdate")},
                    "application/merge-patch+json": {"schema": _ref("ProductUpdate")},
                }},
                "responses": {
                    "200": _ok("The product after the change.", "Product", "ETag",
                               "Last-Modified"),
                    **_errors(400, 401, 403, 404, 412, 413, 415, 422, 428, 429),
                },
                "security": BEARER,
            },
            "delete": {
                "operationId": "deleteProduct",
                "summary": "Soft delete: deactivate the product (kept with its history).",
                "parameters": [PRODUCT_REF_PARAM, IF_MATCH_OPTIONAL],
                "responses": {
                    "200": _ok("The product, now inactive.", "Product", "ETag",
                               "Last-Modified"),
                    **_errors(401, 403, 404, 412, 429),
                },
                "security": BEARER,
            },
        },
        "/categories": {
            "get": {
                "operationId": "listCategories",
                "summary": "Every category (one level of sub-categories via parent_id).",
                "responses": {
                    "200": _ok("The categories, by name.", "CategoryList", "ETag"),
                    "304": NOT_MODIFIED,
                    **_errors(401, 429),
                },
                "security": BEARER_OPTIONAL,
            },
        },
        "/tokens": {
            "get": {
                "operationId": "listTokens",
                "summary": "The caller's API tokens (never the secrets).",
                "responses": {"200": _ok("The tokens (with X-CSRFToken for a session caller).",
                                         "TokenList"),
                              **_errors(401, 403, 429)},
                "security": [{"bearerAuth": []}, {"sessionCookie": []}],
            },
            "post": {
                "operationId": "createToken",
                "summary": "Issue a token to the signed-in editor (session cookie and "
                           "X-CSRFToken header); the secret is in this response only.",
                "requestBody": body | {"content": {JSON: {"schema": _ref("TokenCreate")}}},
                "responses": {
                    "201": _ok("The new token, with its secret.", "NewToken", "Location"),
                    **_errors(400, 401, 403, 413, 415, 422, 429),
                },
                "security": [{"sessionCookie": []}],
            },
        },
        "/tokens/{token_id}": {
            "delete": {
                "operationId": "revokeToken",
                "summary": "Revoke one of the caller's tokens.",
                "parameters": [{"name": "token_id", "in": "path", "required": True,
                                "schema": {"type": "integer", "minimum": 1,
                                           "maximum": 2147483647}}],
                "responses": {"204": {"description": "Revoked."},
                              **_errors(400, 401, 403, 404, 429)},
                "security": [{"bearerAuth": []}, {"sessionCookie": []}],
            },
        },
    }


def _model_schemas(*models: type[BaseModel]) -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    for model in models:
        schema = model.model_json_schema(ref_template=REF)
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    for schema in schemas.values():  # "default": null on non-nullable PATCH fields misleads
        for prop in schema.get("properties", {}).values():
            if prop.get("default", 0) is None and "anyOf" not in prop:
                prop.pop("default")
    return schemas


TIMESTAMP = {"type": "string", "format": "date-time"}
NULLABLE_TIMESTAMP = {"type": ["string", "null"], "format": "date-time"}


def _response_schemas() -> dict[str, Any]:
    attribute = {"type": "string"}
    product = {
        "type": "object",
        "required": ["id", "slug", "name", "description", "price", "stock", "in_stock",
                     "is_active", "category_id", "attributes", "version", "created_at",
                     "updated_at", "url"],
        "properties": {
            "id": {"type": "integer", "minimum": 1},
            "slug": {"type": "string"},
            "name": {"type": "string"},
            "description": {"type": "string"},
            "price": {"type": "string", "pattern": r"^[0-9]+\.[0-9]{2}$"},
            "stock": {"type": "integer", "minimum": 0},
            "in_stock": {"type": "boolean"},
            "is_active": {"type": "boolean"},
            "category_id": {"type": "integer"},
            "attributes": {"type": "object", "additionalProperties": attribute},
            "version": {"type": "integer", "minimum": 1},
            "created_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
            "url": {"type": "string"},
        },
        "additionalProperties": False,
    }
    category = {
        "type": "object",
        "required": ["id", "name", "slug", "parent_id"],
        "properties": {"id": {"type": "integer"}, "name": {"type": "string"},
                       "slug": {"type": "string"}, "parent_id": {"type": ["integer", "null"]}},
        "additionalProperties": False,
    }
    token = {
        "type": "object",
        "required": ["id", "name", "status", "created_at", "expires_at", "revoked_at",
                     "last_used_at"],
        "properties": {
            "id": {"type": "integer"}, "name": {"type": "string"},
            "status": {"enum": ["active", "expired", "revoked"]},
            "created_at": TIMESTAMP, "expires_at": TIMESTAMP,
            "revoked_at": NULLABLE_TIMESTAMP, "last_used_at": NULLABLE_TIMESTAMP,
        },
    }
    from .listing import page_schema

    return {
        "Product": product,
        "ProductPage": page_schema(),
        "Category": category,
        "CategoryList": {"type": "object", "required": ["items"],
                         "properties": {"items": {"type": "array", "items": _ref("Category")}}},
        "Token": token,
        "TokenList": {"type": "object", "required": ["items"],
                      "properties": {"items": {"type": "array", "items": _ref("Token")}}},
        "NewToken": {"allOf": [_ref("Token"), {
            "type": "object", "required": ["token"],
            "properties": {"token": {"type": "string", "pattern": "^vit_"}}}]},
        "Error": {
            "type": "object",
            "required": ["error", "status"],
            "properties": {
                "error": {"type": "string"},
                "status": {"type": "integer"},
                "fields": {"type": "object", "additionalProperties": {"type": "string"}},
                "limit": {"type": "string"},
            },
        },
    }


def build_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Vitrine API",
            "version": "1.0.0",
            "description": (
                "The Vitrine catalog for scripts and integrations. Reads are public; changes "
                "need an editor's token (`Authorization: Bearer vit_...`), issued at "
                "`POST /tokens` to a signed-in editor or with `flask --app app tokens create`."
                " Every change is recorded in the product's history with source `api`. "
                "Requests are rate limited per client address (429 with `Retry-After`)."
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "paths": _paths(),
        "components": {
            "schemas": _model_schemas(ProductCreate, ProductUpdate, TokenCreate)
            | _response_schemas(),
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer",
                               "description": "An API token (`vit_...`)."},
                "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "session",
                                  "description": "A signed-in editor's session (token "
                                                 "issuing only; needs X-CSRFToken)."},
            },
            "headers": {
                "ETag": {"schema": {"type": "string"}},
                "Last-Modified": {"schema": {"type": "string"}},
                "Location": {"schema": {"type": "string"}},
                "Retry-After": {"schema": {"type": "string", "pattern": "^[0-9]+$"}},
                "WWW-Authenticate": {"schema": {"type": "string"}},
            },
        },
    }


@bp.get("/openapi.json")
async def openapi_document() -> ResponseReturnValue:
    document = current_app.extensions.get("vitrine_openapi")
    if document is None:
        document = current_app.extensions["vitrine_openapi"] = build_document()
    return conditional(json_response(document))
