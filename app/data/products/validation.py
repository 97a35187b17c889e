"""Product input: the one rule set for the editor's forms, the JSON API and the write service.

Public names (``from app.data.products.validation import ...``, or from ``app.data.products``):

* :class:`ProductCreate`, :class:`ProductUpdate`, :class:`Attributes` - pydantic models. Their
  JSON Schema (``model_json_schema()``) is what the API publishes in OpenAPI.
* :func:`parse_create`, :func:`parse_update` - validate a mapping into a model, ``strict=True``
  for JSON bodies, ``strict=False`` for form strings; raise :class:`ProductValidationError`
  whose ``errors`` maps each field (``attributes.<key>`` for an attribute, the key itself for an
  unknown field) to one message for people.
* :func:`clean_slug`; the bounds ``MAX_NAME``, ``MAX_DESCRIPTION``, ``MAX_ATTRIBUTE``,
  ``MAX_SLUG``; ``ATTRIBUTE_KEYS``.

Why one module: the messages are part of the product ("Price cannot be negative." under the
field in the editor, the same text in the API's ``fields``), and three copies of the rules
(service cleaners, API schemas, WTForms validators) had started to disagree. The models are
validated once, at the edge; the write service takes the model as it is (a plain mapping is
parsed here first, lax).

Strict and lax differ only where JSON has the type: in strict mode ``stock`` and
``category_id`` must be JSON integers (``"3"`` is refused), in lax mode digit strings from a
form are accepted. In both modes ``is_active`` is a boolean, text is text, and a price is a
number or a decimal string (JSON numbers are binary floats; many clients send money as
strings). Strictness travels in the validation context (``{"strict": True}``), which the
parse functions set; ``model_validate_json`` is strict by default, a plain ``model_validate``
lax.

Values are normalised: names and attributes have their whitespace collapsed, descriptions are
trimmed, prices are quantised to cents, an empty attribute means "remove it".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from ..bounds import MAX_CATEGORY_ID, MAX_PRICE, MAX_STOCK
from ..revisions import ATTRIBUTE_KEYS
from .errors import ProductValidationError

__all__ = [
    "ATTRIBUTE_KEYS", "MAX_ATTRIBUTE", "MAX_DESCRIPTION", "MAX_NAME", "MAX_SLUG", "Attributes",
    "ProductCreate", "ProductUpdate", "clean_slug", "parse_create", "parse_update",
]

MAX_NAME = 200
MAX_DESCRIPTION = 10_000
MAX_ATTRIBUTE = 100
MAX_SLUG = 220

#: Control characters other than tab, newline and carriage return (whitespace, collapsed or
#: kept): PostgreSQL text cannot hold NUL, and the others are never meant. Lone surrogates
#: (JSON's "\ud800", never valid text) cannot be encoded for PostgreSQL either: refused with
#: them, whatever path the text came by (API, form, CLI).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_NO_CONTROL = r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
PRICE_PATTERN = r"^[0-9]{1,8}(\.[0-9]{1,2})?$"

_REQUIRED = {"name": "Enter a name.", "price": "Enter a price.",
             "category_id": "Choose a category."}
_UNKNOWN_ATTRIBUTE = f"Unknown attribute; use {', '.join(ATTRIBUTE_KEYS)}."
_NOT_ATTRIBUTES = "Attributes must be an object of brand, colour, material, size."


def _refuse(message: str) -> PydanticCustomError:
    # The message is the template; braces would be placeholders, and none of ours has any.
    return PydanticCustomError("product_field", message)


def _strict(info: ValidationInfo) -> bool:
    context = info.context if isinstance(info.context, Mapping) else {}
    return bool(context.get("strict", info.mode == "json"))


# -- the rules, one function per field ----------------------------------------------------------

def _name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _refuse("Enter a name.")
    if _CONTROL.search(value):
        raise _refuse("Name cannot contain control characters.")
    value = " ".join(value.split())
    if len(value) > MAX_NAME:
        raise _refuse(f"Name can be at most {MAX_NAME} characters.")
    return value


def _description(value: Any, info: ValidationInfo) -> str:
    if value is None and not _strict(info):
        return ""
    if not isinstance(value, str):
        raise _refuse("Description must be text.")
    if _CONTROL.search(value):
        raise _refuse("Description cannot contain control characters.")
    value = value.strip()
    if len(value) > MAX_DESCRIPTION:
        raise _refuse(f"Description can be at most {MAX_DESCRIPTION:,} characters.")
    return value


def _price(value: Any) -> Decimal:
    if isinstance(value, bool) or value is None or value == "":
        raise _refuse("Enter a price.")
    if not isinstance(value, str | int | float | Decimal):
        raise _refuse("Enter a price as a number, like 12.50.")
    try:
        price = Decimal(str(value).strip())
    except InvalidOperation:
        raise _refuse("Enter a price as a number, like 12.50.") from None
    if not price.is_finite():
        raise _refuse("Enter a price as a number, like 12.50.")
    if price < 0:
        raise _refuse("Price cannot be negative.")
    if price > MAX_PRICE:
        raise _refuse(f"Price cannot be more than {MAX_PRICE:,}.")
    if price != price.quantize(Decimal("0.01")):
        raise _refuse("Price can have at most two decimal places.")
    return price.quantize(Decimal("0.01"))


def _whole_number(value: Any, info: ValidationInfo) -> int | None:
    """An int from an int (either mode) or, lax, from digits or an integral float."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if _strict(info):
        return None
    if isinstance(value, str) and re.fullmatch(r"[+-]?\d{1,12}", value.strip()):
        return int(value.strip())
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _stock(value: Any, info: ValidationInfo) -> int:
    if value is None or value == "":
        raise _refuse("Enter a stock quantity.")
    stock = _whole_number(value, info)
    if stock is None:
        raise _refuse("Stock must be a whole number.")
    if stock < 0:
        raise _refuse("Stock cannot be negative.")
    if stock > MAX_STOCK:
        raise _refuse(f"Stock cannot be more than {MAX_STOCK:,}.")
    return stock


def _category_id(value: Any, info: ValidationInfo) -> int:
    category_id = _whole_number(value, info)
    if category_id is None or not 1 <= category_id <= MAX_CATEGORY_ID:
        raise _refuse("Choose a category.")
    return category_id


def _is_active(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise _refuse("Must be true or false.")


def _attribute(value: Any, info: ValidationInfo) -> str | None:
    label = (info.field_name or "attribute").capitalize()
    if value is None:
        return None
    if not isinstance(value, str):
        raise _refuse(f"{label} must be text.")
    if _CONTROL.search(value):
        raise _refuse(f"{label} cannot contain control characters.")
    value = " ".join(value.split())
    if len(value) > MAX_ATTRIBUTE:
        raise _refuse(f"{label} can be at most {MAX_ATTRIBUTE} characters.")
    return value or None


def clean_slug(value: Any) -> str:
    """A slug given at creation: lowercase words joined by single dashes, at most 220."""
    if not isinstance(value, str) or not _SLUG.fullmatch(value) or len(value) > MAX_SLUG:
        raise ProductValidationError(
            {"slug": f"Use lowercase letters, digits and single dashes (at most {MAX_SLUG})."})
    return value


# -- the JSON Schema each rule publishes (what strict mode accepts) ------------------------------

NAME = PlainValidator(_name)
NAME_SCHEMA = WithJsonSchema({
    "type": "string", "minLength": 1, "maxLength": MAX_NAME,
    "pattern": rf"^{_NO_CONTROL}*[^\s\x00-\x1f\x7f]{_NO_CONTROL}*$",
    "description": "Whitespace is collapsed; at least one visible character.",
})
DESCRIPTION = PlainValidator(_description)
DESCRIPTION_SCHEMA = WithJsonSchema({
    "type": "string", "maxLength": MAX_DESCRIPTION, "pattern": rf"^{_NO_CONTROL}*$"})
PRICE = PlainValidator(_price)
PRICE_SCHEMA = WithJsonSchema({
    "description": "Non-negative, at most two decimals; a decimal string or a number.",
    "anyOf": [
        {"type": "string", "pattern": PRICE_PATTERN, "maxLength": 11},
        {"type": "number", "minimum": 0, "maximum": float(MAX_PRICE)},
    ],
    "examples": ["12.50"],
})
STOCK = PlainValidator(_stock)
STOCK_SCHEMA = WithJsonSchema({"type": "integer", "minimum": 0, "maximum": MAX_STOCK})
CATEGORY_ID = PlainValidator(_category_id)
CATEGORY_ID_SCHEMA = WithJsonSchema({"type": "integer", "minimum": 1,
                                     "maximum": MAX_CATEGORY_ID})
IS_ACTIVE = PlainValidator(_is_active)
IS_ACTIVE_SCHEMA = WithJsonSchema({"type": "boolean"})
ATTRIBUTE = PlainValidator(_attribute)
ATTRIBUTE_SCHEMA = WithJsonSchema({
    "anyOf": [{"type": "string", "maxLength": MAX_ATTRIBUTE, "pattern": rf"^{_NO_CONTROL}*$"},
              {"type": "null"}]})


# -- the models ---------------------------------------------------------------------------------

class Attributes(BaseModel):
    """The attributes editors manage; an empty string or null removes one. In an update, keys
    not sent are kept (merge, not replace)."""

    model_config = ConfigDict(extra="forbid", title="Attributes")

    brand: Annotated[str | None, ATTRIBUTE, ATTRIBUTE_SCHEMA] = None
    colour: Annotated[str | None, ATTRIBUTE, ATTRIBUTE_SCHEMA] = None
    material: Annotated[str | None, ATTRIBUTE, ATTRIBUTE_SCHEMA] = None
    size: Annotated[str | None, ATTRIBUTE, ATTRIBUTE_SCHEMA] = None

    def sent(self) -> dict[str, str | None]:
        """The attributes the client gave (None: remove it)."""
        return {key: getattr(self, key) for key in ATTRIBUTE_KEYS if key in self.model_fields_set}


class ProductCreate(BaseModel):
    """A new product (``POST /products``, the editor's new row). Name, price and category are
    required; the rest has defaults."""

    model_config = ConfigDict(extra="forbid", title="ProductCreate")

    name: Annotated[str, NAME, NAME_SCHEMA]
    price: Annotated[Decimal, PRICE, PRICE_SCHEMA]
    category_id: Annotated[int, CATEGORY_ID, CATEGORY_ID_SCHEMA]
    description: Annotated[str, DESCRIPTION, DESCRIPTION_SCHEMA] = ""
    stock: Annotated[int, STOCK, STOCK_SCHEMA] = 0
    is_active: Annotated[bool, IS_ACTIVE, IS_ACTIVE_SCHEMA] = True
    attributes: Attributes = Field(default_factory=Attributes)

    def values(self) -> dict[str, Any]:
        """Every field, with all four attributes (None where not set)."""
        values = self.model_dump(exclude={"attributes"})
        values["attributes"] = {key: getattr(self.attributes, key) for key in ATTRIBUTE_KEYS}
        return values


class ProductUpdate(BaseModel):
    """A change (``PATCH /products/{id}``, a row form, a single-field edit): only the fields
    sent change.

    The fields default to None but are not nullable: an explicit ``null`` is refused (the
    default is never validated, a sent value always is).
    """

    model_config = ConfigDict(extra="forbid", title="ProductUpdate")

    name: Annotated[str | None, NAME, NAME_SCHEMA] = None
    price: Annotated[Decimal | None, PRICE, PRICE_SCHEMA] = None
    category_id: Annotated[int | None, CATEGORY_ID, CATEGORY_ID_SCHEMA] = None
    description: Annotated[str | None, DESCRIPTION, DESCRIPTION_SCHEMA] = None
    stock: Annotated[int | None, STOCK, STOCK_SCHEMA] = None
    is_active: Annotated[bool | None, IS_ACTIVE, IS_ACTIVE_SCHEMA] = None
    attributes: Attributes = Field(default_factory=Attributes)

    def values(self) -> dict[str, Any]:
        """The fields sent, cleaned; ``attributes`` holds only the keys sent."""
        values = self.model_dump(exclude_unset=True, exclude={"attributes"})
        if "attributes" in self.model_fields_set:
            values["attributes"] = self.attributes.sent()
        return values


# -- parsing ------------------------------------------------------------------------------------

M = TypeVar("M", bound=BaseModel)


def parse_create(data: Mapping[str, Any], *, strict: bool) -> ProductCreate:
    """``data`` as a :class:`ProductCreate`, or :class:`ProductValidationError`."""
    return _parse(ProductCreate, data, strict=strict)


def parse_update(data: Mapping[str, Any], *, strict: bool) -> ProductUpdate:
    """``data`` as a :class:`ProductUpdate`, or :class:`ProductValidationError`."""
    return _parse(ProductUpdate, data, strict=strict)


def _parse(model: type[M], data: Mapping[str, Any], *, strict: bool) -> M:
    try:
        return model.model_validate(data, context={"strict": strict})
    except ValidationError as error:
        raise ProductValidationError(field_errors(error)) from None


def field_errors(error: ValidationError) -> dict[str, str]:
    """``{"field": "message"}`` (first message per field; ``attributes.<key>`` nested)."""
    errors: dict[str, str] = {}
    for item in error.errors(include_url=False, include_input=False):
        location = tuple(str(part) for part in item["loc"])
        key = ".".join(location) or "body"
        errors.setdefault(key, _message(location, item["type"], item["msg"]))
    return errors


def _message(location: tuple[str, ...], kind: str, default: str) -> str:
    """Pydantic's own refusals (a missing or unknown key, a non-object), in our words."""
    if kind == "missing" and len(location) == 1:
        return _REQUIRED.get(location[0], default)
    if kind == "extra_forbidden" and location:
        return _UNKNOWN_ATTRIBUTE if location[0] == "attributes" else "Unknown field."
    if kind in ("model_type", "model_attributes_type") and location == ("attributes",):
        return _NOT_ATTRIBUTES
    return default
