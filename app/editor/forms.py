"""Flask-WTF forms of the editor. Product fields are checked by the product rules themselves
(:mod:`app.data.products.validation`): a form hands its values to :func:`parse_update` /
:func:`parse_create` (lax: form strings) and shows each message under its field, so the editor
shows exactly what the service and the API would say, and the service stays the last word
(e.g. whether a category still exists).

CSRF is checked for every state-changing request by the app-wide ``CSRFProtect`` (header from
htmx, hidden field from plain forms), so the forms themselves do not check it a second time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    Field,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from ..data.models import ROLES
from ..data.products import (
    ATTRIBUTE_KEYS,
    ProductCreate,
    ProductUpdate,
    ProductValidationError,
    parse_create,
    parse_update,
)
from ..data.users import MAX_EMAIL, MIN_PASSWORD_LENGTH

P = TypeVar("P", ProductCreate, ProductUpdate)


def as_choices(pairs: Any) -> list[SelectChoice]:
    """``[(value, label), ...]`` as WTForms select choices (values sent as strings)."""
    return [SelectChoice(str(value), label) for value, label in pairs]


class NoCsrfForm(FlaskForm):
    """A form without its own CSRF field (see the module docstring)."""

    class Meta:
        csrf = False  # CSRFProtect already refused the request if the token was wrong


class ProductFieldsForm(NoCsrfForm):
    """A form of product fields, validated by the product rules (see the module docstring)."""

    def product_data(self) -> dict[str, Any]:
        """The raw values, keyed as the product rules expect."""
        raise NotImplementedError

    def validate_update(self) -> ProductUpdate | None:
        """The values as a change, or None with each message under its field."""
        return self._parsed(parse_update)

    def validate_create(self) -> ProductCreate | None:
        """The values as a new product, or None with each message under its field."""
        return self._parsed(parse_create)

    def _parsed(self, parse: Callable[..., P]) -> P | None:
        valid = self.validate()
        try:
            parsed = parse(self.product_data(), strict=False)
        except ProductValidationError as error:
            self.add_product_errors(error.errors)
            return None
        return parsed if valid else None

    def add_product_errors(self, errors: Mapping[str, str]) -> None:
        """Show the product rules' (or the service's) messages under their fields."""
        for key, message in errors.items():
            field = getattr(self, key.removeprefix("attributes."), None)
            if isinstance(field, Field):
                field.errors = [*field.errors, message]


def _category_coerce(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class ProductRowForm(ProductFieldsForm):
    """One table row in edit mode (create uses it too)."""

    name = StringField("Name")
    price = StringField("Price")
    stock = StringField("Stock", default="0")
    category_id = SelectField("Category", coerce=_category_coerce, validate_choice=False)
    is_active = BooleanField("Active", default=True)
    brand = StringField("Brand")
    colour = StringField("Colour")
    material = StringField("Material")
    size = StringField("Size")

    def product_data(self) -> dict[str, Any]:
        return {
            "name": self.name.data,
            "price": self.price.data,
            "stock": self.stock.data,
            "category_id": self.category_id.data,
            "is_active": bool(self.is_active.data),
            "attributes": {key: getattr(self, key).data or None for key in ATTRIBUTE_KEYS},
        }


class StockForm(ProductFieldsForm):
    """The stock cell of a row."""

    stock = StringField("Stock")

    def product_data(self) -> dict[str, Any]:
        return {"stock": self.stock.data}


class BulkForm(NoCsrfForm):
    """A bulk action; :data:`ACTIONS` also feeds the form's ``<select>`` in the template."""

    ACTIONS = {
        "activate": "Activate",
        "deactivate": "Deactivate",
        "set_category": "Move to category",
        "price_percent": "Change price by %",
        "price_amount": "Change price by amount",
    }
    action = SelectField("Action", choices=as_choices(ACTIONS.items()),
                         validators=[InputRequired("Choose an action.")])
    category_id = SelectField("Category", coerce=_category_coerce, validate_choice=False,
                              validators=[Optional()])
    value = StringField("By", validators=[Optional(), Length(max=20)])
    scope = RadioField("Apply to", choices=as_choices([
        ("selected", "Selected rows"), ("filter", "All products matching the filter")]),
                       default="selected")


class CategoryForm(NoCsrfForm):
    """A category's name and parent; :mod:`app.data.categories` checks them."""

    name = StringField("Name")
    parent_id = SelectField("Parent", coerce=_category_coerce, validate_choice=False)


class UserCreateForm(NoCsrfForm):
    email = EmailField("Email", validators=[
        InputRequired("Enter an email address."),
        Length(max=MAX_EMAIL, message=f"The email can be at most {MAX_EMAIL} characters.")])
    password = PasswordField("Password", validators=[
        InputRequired("Enter a password."),
        Length(min=MIN_PASSWORD_LENGTH, max=1024,
               message=f"The password must be at least {MIN_PASSWORD_LENGTH} characters.")])
    role = SelectField("Role", choices=as_choices((r, r.capitalize()) for r in ROLES),
                       default="editor")


class RoleForm(NoCsrfForm):
    role = SelectField("Role", choices=as_choices((r, r.capitalize()) for r in ROLES),
                       validators=[InputRequired("Choose a role.")])


__all__ = ["BulkForm", "CategoryForm", "ProductRowForm", "RoleForm",
           "StockForm", "UserCreateForm"]
