"""Rows to the response models of :mod:`.responses`."""

from __future__ import annotations

from flask import url_for

from ..data import models as rows
from . import responses
from .tokens import token_status


def product_etag(product: rows.Product) -> str:
    """The product's entity tag: its version. Every write bumps it, so it is also what
    ``If-Match`` carries (quoted, as the ETag header gives it, or bare)."""
    return str(product.version)


def serialize_product(product: rows.Product) -> responses.Product:
    return responses.Product(
        id=product.id,
        slug=product.slug,
        name=product.name,
        description=product.description,
        price=product.price,
        stock=product.stock,
        in_stock=product.stock > 0,
        is_active=product.is_active,
        category_id=product.category_id,
        attributes=dict(product.attributes or {}),
        version=product.version,
        created_at=product.created_at,
        updated_at=product.updated_at,
        url=url_for("api.product_detail", ref=product.id),
    )


def serialize_category(category: rows.Category) -> responses.Category:
    return responses.Category(id=category.id, name=category.name, slug=category.slug,
                              parent_id=category.parent_id)


def serialize_token(token: rows.ApiToken) -> responses.Token:
    return responses.Token(
        id=token.id,
        name=token.name,
        status=token_status(token),
        created_at=token.created_at,
        expires_at=token.expires_at,
        revoked_at=token.revoked_at,
        last_used_at=token.last_used_at,
    )


def serialize_new_token(token: rows.ApiToken, raw: str) -> responses.NewToken:
    return responses.NewToken(token=raw, **dict(serialize_token(token)))
