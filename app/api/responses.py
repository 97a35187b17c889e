"""The API's response bodies and headers as Pydantic models.

The views build these models (:mod:`.serializers`) and :func:`.http.json_response` dumps them,
and the OpenAPI document publishes their serialization schema (:mod:`.openapi`): what is sent
and what is documented come from one class, so they cannot drift. The class names are the
names of the document's ``components/schemas``.

Prices are strings with two decimals (JSON numbers are binary floats); times are ISO 8601
with their UTC offset, as :meth:`datetime.isoformat` writes them.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

from .tokens import TokenStatus

Money = Annotated[
    Decimal,
    PlainSerializer(lambda value: f"{value:.2f}", return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^[0-9]+\.[0-9]{2}$"}, mode="serialization"),
]
Timestamp = Annotated[
    datetime,
    PlainSerializer(lambda value: value.isoformat(), return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}, mode="serialization"),
]
NullableTimestamp = Annotated[
    datetime | None,
    PlainSerializer(lambda value: value.isoformat() if value is not None else None,
                    return_type=str | None),
    WithJsonSchema({"type": ["string", "null"], "format": "date-time"}, mode="serialization"),
]
Link = Annotated[str | None, WithJsonSchema({"type": ["string", "null"]},
                                            mode="serialization")]

_CLOSED = ConfigDict(extra="forbid")


class Product(BaseModel):
    """A product as the API shows it."""

    model_config = _CLOSED

    id: int = Field(ge=1)
    slug: str
    name: str
    description: str
    price: Money
    stock: int = Field(ge=0)
    in_stock: bool
    is_active: bool
    category_id: int
    attributes: dict[str, str]
    version: int = Field(ge=1)
    created_at: Timestamp
    updated_at: Timestamp
    url: str


class ProductPage(BaseModel):
    """One page of ``GET /products``."""

    model_config = _CLOSED

    items: list[Product]
    page: int | None = Field(ge=1, description="null when the page was reached through a "
                                                "cursor.")
    per_page: int = Field(ge=1)
    total: int = Field(ge=0)
    total_exact: bool = Field(description="false: `total` is an estimate (large result sets).")
    next: Link
    prev: Link


class Category(BaseModel):
    model_config = _CLOSED

    id: int
    name: str
    slug: str
    parent_id: int | None


class CategoryList(BaseModel):
    model_config = _CLOSED

    items: list[Category]


class Token(BaseModel):
    """An API token without its secret."""

    model_config = _CLOSED

    id: int
    name: str
    status: TokenStatus
    created_at: Timestamp
    expires_at: Timestamp
    revoked_at: NullableTimestamp
    last_used_at: NullableTimestamp


class TokenList(BaseModel):
    model_config = _CLOSED

    items: list[Token]


class NewToken(Token):
    """A token just issued, with its secret (shown in this response only)."""

    token: str = Field(pattern="^vit_")


class Error(BaseModel):
    """Every refusal: the message, the status, and per-field messages for invalid input
    (``fields``) or the limit reached (``limit``, on 429). Absent keys are left out."""

    error: str
    status: int
    fields: dict[str, str] | None = None
    limit: str | None = None


class ResponseHeaders(BaseModel):
    """The response headers the document describes (``components/headers``), by name."""

    etag: str = Field(alias="ETag")
    last_modified: str = Field(alias="Last-Modified")
    location: str = Field(alias="Location")
    retry_after: str = Field(alias="Retry-After", pattern="^[0-9]+$")
    idempotent_replayed: str = Field(alias="Idempotent-Replayed", pattern="^true$",
                                     description="This is the stored response of an earlier "
                                                 "request with the same Idempotency-Key; "
                                                 "nothing was changed again.")
    www_authenticate: str = Field(alias="WWW-Authenticate")
    csrf_token: str = Field(alias="X-CSRFToken", description="A session caller's CSRF token "
                                                             "for its next POST or DELETE.")
