"""The document generator on a small table: models become components, fields parameters."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field

from app.api.spec import Operation, Reply, build_document


class Colour(BaseModel):
    name: str


class Item(BaseModel):
    id: int
    colour: Colour


class ItemChange(BaseModel):
    label: str = None  # type: ignore[assignment]  # a field that may be left out, never null


class Query(BaseModel):
    tag: list[str] = Field(default_factory=list, max_length=3, description="Repeat for several.")
    limit: int | None = Field(None, ge=1)


class Headers(BaseModel):
    etag: str = Field(alias="ETag")


class Precondition(BaseModel):
    if_match: str = Field(alias="If-Match")


def build(*operations: Operation) -> dict:
    return build_document(info={"title": "t", "version": "1"}, servers=[{"url": "/v1"}],
                          operations=operations, headers=Headers, security_schemes={})


def test_models_become_components_and_fields_parameters():
    doc = build(Operation("GET", "/items", "x.items", "listItems", "List.",
                          query=Query, headers=Precondition, security=[{}],
                          responses={200: Reply("OK.", Item, ("ETag",))}),
                Operation("PATCH", "/items/{id}", "x.change", "changeItem", "Change.",
                          body=ItemChange, body_types=("application/merge-patch+json",),
                          security=[], responses={204: Reply("Done.")}))
    operation = doc["paths"]["/items"]["get"]
    tag, limit, if_match = operation["parameters"]
    assert tag == {"name": "tag", "in": "query", "required": False, "explode": True,
                   "description": "Repeat for several.",
                   "schema": {"type": "array", "items": {"type": "string"}, "maxItems": 3}}
    assert limit["schema"] == {"type": "integer", "minimum": 1}  # absent, never null
    assert if_match["name"] == "If-Match" and if_match["required"] is True
    ok = operation["responses"]["200"]
    assert ok["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Item"}
    assert ok["headers"] == {"ETag": {"$ref": "#/components/headers/ETag"}}
    schemas = doc["components"]["schemas"]
    assert schemas["Item"]["properties"]["colour"] == {"$ref": "#/components/schemas/Colour"}
    assert "Colour" in schemas and "ItemChange" in schemas
    assert "default" not in schemas["ItemChange"]["properties"]["label"]
    body = doc["paths"]["/items/{id}"]["patch"]["requestBody"]
    assert list(body["content"]) == ["application/merge-patch+json"]
    assert doc["components"]["headers"] == {"ETag": {"schema": {"type": "string"}}}


def test_a_response_header_missing_from_the_headers_model_is_refused():
    with pytest.raises(ValueError, match="Retry-After"):
        build(Operation("GET", "/items", "x.items", "listItems", "List.", security=[],
                        responses={429: Reply("Slow down.", headers=("Retry-After",))}))
