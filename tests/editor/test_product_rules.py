"""The product rules (app/data/products/validation.py) that the editor's forms, the JSON API and
the write service share: one set of messages, strict for JSON, lax for form strings, and a
published JSON Schema that admits what the rules accept."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from werkzeug.datastructures import MultiDict

from app.data.products import (
    ProductCreate,
    ProductUpdate,
    ProductValidationError,
    parse_create,
    parse_update,
)

LAMP = {"name": "Lamp", "price": "12.50", "category_id": 3}


def errors_of(parse, data, *, strict):
    with pytest.raises(ProductValidationError) as error:
        parse(data, strict=strict)
    return error.value.errors


@pytest.mark.parametrize(("field", "value", "message"), [
    ("stock", "3", "Stock must be a whole number."),
    ("category_id", "3", "Choose a category."),
])
def test_json_needs_json_integers_where_a_form_sends_digits(field, value, message):
    assert errors_of(parse_create, {**LAMP, field: value}, strict=True) == {field: message}
    assert getattr(parse_create({**LAMP, field: value}, strict=False), field) == 3


@pytest.mark.parametrize(("data", "errors"), [
    ({"name": "   "}, {"name": "Enter a name."}),
    ({"price": "1.005"}, {"price": "Price can have at most two decimal places."}),
    ({"price": True}, {"price": "Enter a price."}),
    ({"stock": -1}, {"stock": "Stock cannot be negative."}),
    ({"is_active": "yes"}, {"is_active": "Must be true or false."}),
    ({"attributes": {"weight": "2kg"}},
     {"attributes.weight": "Unknown attribute; use brand, colour, material, size."}),
    ({"attributes": None},
     {"attributes": "Attributes must be an object of brand, colour, material, size."}),
    ({"colour": "red"}, {"colour": "Unknown field."}),
    ({"name": None}, {"name": "Enter a name."}),
])
def test_both_modes_refuse_with_the_same_message(data, errors):
    for strict in (True, False):
        assert errors_of(parse_update, data, strict=strict) == errors


@pytest.mark.parametrize("text", ["a\x00b", "a\ud800b"])
def test_text_postgresql_cannot_store_is_refused_on_every_path(text):
    """NUL and a lone surrogate (JSON's "\\ud800") would fail inside PostgreSQL: the rules
    refuse them for any caller, not only at the API's JSON boundary."""
    for strict in (True, False):
        assert errors_of(parse_update, {"name": text}, strict=strict) == {
            "name": "Name cannot contain control characters."}
        assert errors_of(parse_update, {"attributes": {"brand": text}}, strict=strict) == {
            "attributes.brand": "Brand cannot contain control characters."}


def test_creation_names_every_missing_required_field():
    assert errors_of(parse_create, {}, strict=True) == {
        "name": "Enter a name.", "price": "Enter a price.", "category_id": "Choose a category."}


def test_values_are_normalised_and_an_update_keeps_what_was_not_sent():
    created = parse_create({**LAMP, "name": "  Brass \t Lamp ", "price": 12.5,
                            "attributes": {"brand": " Halden ", "colour": ""}}, strict=True)
    assert created.values() == {
        "name": "Brass Lamp", "price": Decimal("12.50"), "category_id": 3, "description": "",
        "stock": 0, "is_active": True,
        "attributes": {"brand": "Halden", "colour": None, "material": None, "size": None}}
    change = parse_update({"stock": 4, "attributes": {"size": "XL"}}, strict=True)
    assert change.values() == {"stock": 4, "attributes": {"size": "XL"}}


def test_the_published_schema_admits_what_the_rules_accept():
    schema = ProductCreate.model_json_schema()
    properties = schema["properties"]
    assert schema["required"] == ["name", "price", "category_id"]
    assert schema["additionalProperties"] is False
    assert properties["stock"]["type"] == "integer" and properties["is_active"]["type"] == "boolean"
    name_pattern = properties["name"]["pattern"]
    assert re.match(name_pattern, "Brass\tLamp") and parse_create(
        {**LAMP, "name": "Brass\tLamp"}, strict=True).name == "Brass Lamp"
    assert not re.match(name_pattern, "   ") and not re.match(name_pattern, "a\x00b")
    price_as_text = properties["price"]["anyOf"][0]["pattern"]
    assert re.match(price_as_text, "99999999.99") and not re.match(price_as_text, "1.005")
    assert "required" not in ProductUpdate.model_json_schema()  # a change sends any subset


def test_the_row_form_shows_the_rules_messages_under_its_fields(app):
    from app.editor.forms import ProductRowForm

    with app.test_request_context():
        form = ProductRowForm(formdata=MultiDict({
            "name": "", "price": "-1", "stock": "2.5", "category_id": "", "brand": "b" * 101}))
        assert form.validate_update() is None
        assert form.errors == {
            "name": ["Enter a name."], "price": ["Price cannot be negative."],
            "stock": ["Stock must be a whole number."], "category_id": ["Choose a category."],
            "brand": ["Brand can be at most 100 characters."]}
        form = ProductRowForm(formdata=MultiDict({
            "name": "Lamp", "price": "3", "stock": "7", "category_id": "2", "is_active": "y"}))
        created = form.validate_create()
        assert created is not None and (created.stock, created.category_id) == (7, 2)
