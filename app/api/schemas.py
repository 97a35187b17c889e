"""The API's request bodies as Pydantic models: one definition validates the input and gives
the JSON Schema that the OpenAPI document publishes (:mod:`.openapi`), so the two cannot drift.

Types are strict where JSON has the type (``"yes"`` is not a boolean, ``"3"`` is not a stock
count); a price may be a JSON number or a decimal string, because JSON numbers are binary
floats and many clients send money as strings.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    WithJsonSchema,
)

from ..data.products import MAX_ATTRIBUTE, MAX_DESCRIPTION, MAX_NAME, MAX_PRICE, MAX_STOCK

MAX_ID = 2_147_483_647  # PostgreSQL integer (category ids)

#: No control characters in one-line text, and at least one visible character.
LINE_PATTERN = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
#: PostgreSQL text cannot hold NUL.
TEXT_PATTERN = r"^[^\x00]*$"
PRICE_PATTERN = r"^[0-9]{1,8}(\.[0-9]{1,2})?$"

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME,
                                        pattern=LINE_PATTERN)]
Description = Annotated[str, StringConstraints(max_length=MAX_DESCRIPTION, pattern=TEXT_PATTERN)]
Price = Annotated[
    Decimal,
    Field(ge=0, le=MAX_PRICE, decimal_places=2, allow_inf_nan=False),
    WithJsonSchema({
        "description": "Non-negative, at most two decimals; a decimal string or a number.",
        "anyOf": [
            {"type": "string", "pattern": PRICE_PATTERN, "maxLength": 11},
            {"type": "number", "minimum": 0, "maximum": float(MAX_PRICE)},
        ],
        "examples": ["12.50"],
    }),
]
Stock = Annotated[StrictInt, Field(ge=0, le=MAX_STOCK)]
CategoryId = Annotated[StrictInt, Field(ge=1, le=MAX_ID)]
AttributeValue = Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_ATTRIBUTE,
                                                  pattern=r"^[^\x00-\x1f\x7f]*$")]


class Attributes(BaseModel):
    """The attributes editors manage; an empty string or null removes one."""

    model_config = ConfigDict(extra="forbid", strict=True)

    brand: AttributeValue | None = None
    colour: AttributeValue | None = None
    material: AttributeValue | None = None
    size: AttributeValue | None = None


class ProductCreate(BaseModel):
    """``POST /products``."""

    model_config = ConfigDict(extra="forbid", title="ProductCreate")

    name: Name
    price: Price
    category_id: CategoryId
    description: Description = ""
    stock: Stock = 0
    is_active: StrictBool = True
    attributes: Attributes = Field(default_factory=Attributes)


class ProductUpdate(BaseModel):
    """``PATCH /products/{id}``: only the fields sent change.

    The fields default to None but are not nullable: an explicit ``null`` is refused (the
    default is never validated, a sent value always is).
    """

    model_config = ConfigDict(extra="forbid", title="ProductUpdate")

    name: Name = None  # type: ignore[assignment]
    price: Price = None  # type: ignore[assignment]
    category_id: CategoryId = None  # type: ignore[assignment]
    description: Description = None  # type: ignore[assignment]
    stock: Stock = None  # type: ignore[assignment]
    is_active: StrictBool = None  # type: ignore[assignment]
    attributes: Attributes = None  # type: ignore[assignment]

    def changes(self) -> dict:
        """The fields the client sent."""
        return self.model_dump(exclude_unset=True)


class TokenCreate(BaseModel):
    """``POST /tokens``."""

    model_config = ConfigDict(extra="forbid", title="TokenCreate")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    days: Annotated[StrictInt, Field(ge=1, le=365)] = 30
