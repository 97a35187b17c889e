"""Flask-WTF forms of the editor. Field checks reuse the product service's own cleaners
(:func:`app.data.products.clean_field`), so a field shows exactly the message the service would
give, and the service stays the last word (e.g. whether a category still exists).

CSRF is checked for every state-changing request by the app-wide ``CSRFProtect`` (header from
htmx, hidden field from plain forms), so the forms themselves do not check it a second time.
"""

from __future__ import annotations

from typing import Any

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
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from ..data.models import ROLES
from ..data.products import ATTRIBUTE_KEYS, clean_field
from ..data.users import MIN_PASSWORD_LENGTH


def as_choices(pairs: Any) -> list[SelectChoice]:
    """``[(value, label), ...]`` as WTForms select choices (values sent as strings)."""
    return [SelectChoice(str(value), label) for value, label in pairs]


class NoCsrfForm(FlaskForm):
    class Meta:
        csrf = False  # CSRFProtect already refused the request if the token was wrong


class Cleans:
    """A validator that runs the product service's cleaner for ``name``."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, form: FlaskForm, field: Field) -> None:
        try:
            clean_field(self.name, field.data)
        except ValueError as error:
            raise ValidationError(str(error)) from None


def _category_coerce(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class ProductRowForm(NoCsrfForm):
    """One table row in edit mode (create uses it too)."""

    name = StringField("Name", validators=[Cleans("name")])
    price = StringField("Price", validators=[Cleans("price")])
    stock = StringField("Stock", default="0", validators=[Cleans("stock")])
    category_id = SelectField("Category", coerce=_category_coerce, validate_choice=False,
                              validators=[Cleans("category_id")])
    is_active = BooleanField("Active", default=True)
    brand = StringField("Brand", validators=[Cleans("attributes.brand")])
    colour = StringField("Colour", validators=[Cleans("attributes.colour")])
    material = StringField("Material", validators=[Cleans("attributes.material")])
    size = StringField("Size", validators=[Cleans("attributes.size")])

    def product_data(self) -> dict[str, Any]:
        """The service's input mapping (see app.data.products)."""
        return {
            "name": self.name.data,
            "price": self.price.data,
            "stock": self.stock.data,
            "category_id": self.category_id.data,
            "is_active": bool(self.is_active.data),
            "attributes": {key: getattr(self, key).data or None for key in ATTRIBUTE_KEYS},
        }

    def add_service_errors(self, errors: dict[str, str]) -> None:
        for key, message in errors.items():
            name = key.removeprefix("attributes.")
            field = getattr(self, name, None)
            if isinstance(field, Field):
                field.errors = [*field.errors, message]


class StockForm(NoCsrfForm):
    stock = StringField("Stock", validators=[Cleans("stock")])


class BulkForm(NoCsrfForm):
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
    name = StringField("Name", validators=[
        InputRequired("Enter a name."),
        Length(max=120, message="Name can be at most 120 characters."),
    ])
    parent_id = SelectField("Parent", coerce=_category_coerce, validate_choice=False,
                            validators=[Optional()])


class UserCreateForm(NoCsrfForm):
    email = EmailField("Email", validators=[
        InputRequired("Enter an email address."),
        Length(max=254, message="The email can be at most 254 characters.")])
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
