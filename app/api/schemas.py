"""The API's request bodies as Pydantic models: one definition validates the input and gives
the JSON Schema that the OpenAPI document publishes (:mod:`.openapi`), so the two cannot drift.

Types are strict where JSON has the type (``"yes"`` is not a boolean, ``"3"`` is not a stock
count); a price may be a JSON number or a decimal string, because JSON numbers are binary
floats and many clients send money as strings.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StringConstraints

MAX_PRICE = Decimal("99999999.99")  # Numeric(10, 2)
MAX_STOCK = 2_147_483_647  # PostgreSQL integer
MAX_ID = 2_147_483_647

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=220)]
Description = Annotated[str, StringConstraints(max_length=10_000)]
Price = Annotated[Decimal, Field(ge=0, le=MAX_PRICE, decimal_places=2, allow_inf_nan=False,
                                 description="Non-negative, at most two decimals.",
                                 examples=["12.50"])]
Stock = Annotated[StrictInt, Field(ge=0, le=MAX_STOCK)]
CategoryId = Annotated[StrictInt, Field(ge=1, le=MAX_ID)]
AttributeValue = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]


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
    slug: Slug | None = Field(default=None, description="Made from the name when omitted.")
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
