"""The API's own request models: the token request body and the path and header parameters.

Product bodies are the data layer's :class:`~app.data.products.validation.ProductCreate` and
:class:`~app.data.products.validation.ProductUpdate` (one rule set for the API and the editor);
the product list's query is :class:`app.api.listing.ApiListingQuery`. Every model here is
what the OpenAPI document publishes for its operation (:mod:`.openapi`), and the views hold
the values to the same bounds.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints

from ..data.bounds import MAX_INT
from ..data.products.validation import MAX_SLUG
from .tokens import DEFAULT_TOKEN_DAYS, MAX_NAME_LENGTH, MAX_TOKEN_DAYS


class TokenCreate(BaseModel):
    """``POST /tokens``."""

    model_config = ConfigDict(extra="forbid", title="TokenCreate")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                           max_length=MAX_NAME_LENGTH)]
    days: Annotated[StrictInt, Field(ge=1, le=MAX_TOKEN_DAYS)] = DEFAULT_TOKEN_DAYS


class ProductRef(BaseModel):
    """``/products/{ref}``: a product id or slug (anything else is a 404)."""

    ref: str = Field(min_length=1, max_length=MAX_SLUG, pattern="^[A-Za-z0-9._~-]+$",
                     description="The product's id or slug.")


class TokenRef(BaseModel):
    """``/tokens/{token_id}``."""

    token_id: int = Field(ge=1, le=MAX_INT)


#: ``Idempotency-Key`` (kept here, below the views, so the document and the check agree).
IDEMPOTENCY_KEY = (
    "Makes a retry safe: a key of your choosing, unique per change (e.g. a UUID, as a quoted "
    "sf-string or bare). The same key with the same request replays the first response "
    "(`Idempotent-Replayed: true`) without changing anything again; with a different request "
    "it is a 422; while the first request is still running, a 409. Kept for 24 hours by "
    "default. Only successful changes are stored.")
MAX_IDEMPOTENCY_KEY = 255
IDEMPOTENCY_KEY_PATTERN = r'^("[\x20\x21\x23-\x5b\x5d-\x7e]{1,255}"|[\x21\x23-\x7e]{1,255})$'

IF_MATCH = "The product's ETag from GET (its version, quoted or bare), or `*`."
MAX_IF_MATCH = 200
#: A list of entity tags (RFC 9110 8.8.3), or ``*``; anything else (also empty) is a 400.
_ENTITY_TAG = r'(W/)?("[\x21\x23-\x7e]*"|[\x21\x23-\x7e]+)'
IF_MATCH_PATTERN = rf"^\s*{_ENTITY_TAG}(\s*,\s*{_ENTITY_TAG})*\s*$"


class IfMatch(BaseModel):
    """A change that must not overwrite one made meanwhile (``PATCH``: 428 without it)."""

    if_match: str = Field(alias="If-Match", min_length=1, max_length=MAX_IF_MATCH,
                          pattern=IF_MATCH_PATTERN, description=IF_MATCH)


class IfMatchOptional(BaseModel):
    """``DELETE``: checked when sent."""

    if_match: str | None = Field(None, alias="If-Match", min_length=1,
                                 max_length=MAX_IF_MATCH, pattern=IF_MATCH_PATTERN,
                                 description=IF_MATCH)


class IdempotencyKey(BaseModel):
    """A write that may be retried safely (:mod:`app.api.idempotency`)."""

    idempotency_key: str | None = Field(None, alias="Idempotency-Key", min_length=1,
                                        max_length=MAX_IDEMPOTENCY_KEY + 2,
                                        pattern=IDEMPOTENCY_KEY_PATTERN,
                                        description=IDEMPOTENCY_KEY)


class IfMatchIdempotent(IfMatch, IdempotencyKey):
    """``PATCH``: If-Match, and optionally an Idempotency-Key."""


class IfMatchOptionalIdempotent(IfMatchOptional, IdempotencyKey):
    """``DELETE``: If-Match when sent, and optionally an Idempotency-Key."""
