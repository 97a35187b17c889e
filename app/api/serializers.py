"""Rows to JSON. Prices are strings with two decimals (JSON numbers are binary floats);
times are ISO 8601 in UTC."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import url_for

from ..data.models import ApiToken, Category, Product
from .tokens import token_status


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def product_etag(product: Product) -> str:
    """The product's entity tag: its version. Every write bumps it, so it is also what
    ``If-Match`` carries (quoted, as the ETag header gives it, or bare)."""
    return str(product.version)


def serialize_product(product: Product) -> dict[str, Any]:
    return {
        "id": product.id,
        "slug": product.slug,
        "name": product.name,
        "description": product.description,
        "price": f"{product.price:.2f}",
        "stock": product.stock,
        "in_stock": product.stock > 0,
        "is_active": product.is_active,
        "category_id": product.category_id,
        "attributes": dict(product.attributes or {}),
        "version": product.version,
        "created_at": iso(product.created_at),
        "updated_at": iso(product.updated_at),
        "url": url_for("api.product_detail", ref=product.id),
    }


def serialize_category(category: Category) -> dict[str, Any]:
    return {
        "id": category.id,
        "name": category.name,
        "slug": category.slug,
        "parent_id": category.parent_id,
    }


def serialize_token(token: ApiToken) -> dict[str, Any]:
    return {
        "id": token.id,
        "name": token.name,
        "status": token_status(token),
        "created_at": iso(token.created_at),
        "expires_at": iso(token.expires_at),
        "revoked_at": iso(token.revoked_at),
        "last_used_at": iso(token.last_used_at),
    }
