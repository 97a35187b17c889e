"""The listing query model the catalog, the editor and the API share: one set of bounds and
formats, each surface with its own policy for a bad value (400 with a message, JSON 400,
default)."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from app.api.http import ApiError
from app.api.listing import KNOWN, ApiListingQuery
from app.catalog.listing_query import MAX_SLUG, ListingQuery
from app.catalog.params import ParamError, parse_params
from app.editor.listing import EditorFilters


def test_a_category_slug_as_long_as_the_column_is_accepted_everywhere_one_longer_nowhere():
    longest, too_long = "c" * MAX_SLUG, "c" * (MAX_SLUG + 1)
    assert MAX_SLUG == 140  # categories.slug is varchar(140)
    assert parse_params(MultiDict([("category", longest)])).categories == (longest,)
    assert ApiListingQuery.parse(MultiDict([("category", longest)])).categories == (longest,)
    assert EditorFilters.from_args({"category": longest}).category == longest
    with pytest.raises(ParamError, match="at most 140 characters"):
        parse_params(MultiDict([("category", too_long)]))
    with pytest.raises(ApiError, match="at most 140 characters"):
        ApiListingQuery.parse(MultiDict([("category", too_long)]))
    assert EditorFilters.from_args({"category": too_long}).category == ""  # the editor: default


@pytest.mark.parametrize("price", ["1e3", "10.999", "1_000", "NaN", "-1"])
def test_one_price_format_refused_by_catalog_and_api_ignored_by_the_editor(price):
    with pytest.raises(ParamError):
        parse_params(MultiDict([("min_price", price)]))
    with pytest.raises(ApiError, match="min_price must be a price"):
        ApiListingQuery.parse(MultiDict([("min_price", price)]))
    filters = EditorFilters.from_args({"min_price": price, "brand": "Halden"})
    assert filters.min_price is None and filters.brand == "Halden"


def test_the_api_schema_documents_exactly_the_parameters_it_reads():
    schema = ApiListingQuery.model_json_schema()
    assert set(schema["properties"]) == KNOWN
    assert "stock" not in schema["properties"]  # the API's flag is in_stock
    assert schema["properties"]["sort"]["enum"] == [
        "relevance", "price_asc", "price_desc", "newest", "name"]
    assert set(ListingQuery.model_json_schema()["properties"]) == KNOWN - {
        "in_stock", "cursor"} | {"stock"}


def test_api_400_names_every_bad_parameter(client):
    response = client.get("/api/v1/products?min_price=abc&sort=cheapest&per_page=9999")
    assert response.status_code == 400
    fields = response.json["fields"]
    assert set(fields) == {"min_price", "sort", "per_page"}
    assert response.json["error"] == fields["min_price"]
    assert "sort must be one of" in fields["sort"]
