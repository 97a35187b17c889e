"""Products and categories over JSON.

Reads are public (inactive products only for a token holder); writes need an editor's token
and go through :mod:`app.data.products`, the same write service (and the same validation,
strict for JSON) the editor uses, recording each change in the product's history with source
``api``. Updates are conditional: ``If-Match`` must carry the product's current ETag (its
version), else 428; a stale one gets 412 and nothing changes. A malformed ``If-Match`` (empty,
over-long, not entity tags) is a 400, and the precondition is evaluated only once the request is
otherwise valid (RFC 9110 13.2.1): a PATCH without a valid body is a 400 whatever it sends.
The API never merges: a stale ``If-Match`` is a 412 even when the fields do not overlap (the
editor's field-level merge is for people; a script re-reads and decides). Writes accept an
``Idempotency-Key`` (:mod:`.idempotency`), which also commits them.
"""

from __future__ import annotations

import re

from flask import Response, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from ..data import products as product_service
from ..data.bounds import MAX_PRODUCT_ID
from ..data.database import get_session
from ..data.models import Category, Product
from ..data.products.validation import MAX_SLUG
from ..web import parsing
from .auth import optional_bearer, require_editor_token
from .blueprint import bp
from .http import PATCH_TYPES, ApiError, conditional, json_response, read_json
from .idempotency import idempotent
from .responses import CategoryList
from .schemas import IF_MATCH_PATTERN, MAX_IF_MATCH
from .serializers import product_etag, serialize_category, serialize_product

SOURCE = "api"
NOT_FOUND = "No product with that id or slug."
INVALID = "Some fields need attention."


async def product_or_404(ref: str, *, include_inactive: bool) -> Product:
    """The product whose id (digits) or slug is ``ref``, freshly loaded, or a 404 (also for an
    inactive one unless ``include_inactive``: a token holder may read and edit hidden ones)."""
    session = await get_session()
    product = None
    product_id = parsing.ascii_digits(ref, len(str(MAX_PRODUCT_ID)))
    if product_id is not None and 0 < product_id <= MAX_PRODUCT_ID:
        product = await session.get(Product, product_id, populate_existing=True)
    if product is None and len(ref) <= MAX_SLUG and parsing.storable(ref):
        product = await session.scalar(select(Product).where(Product.slug == ref))
    if product is None or (not product.is_active and not include_inactive):
        raise ApiError(404, NOT_FOUND)
    return product


def _product_response(product: Product, status: int = 200) -> Response:
    response = json_response(serialize_product(product), status)
    response.set_etag(product_etag(product))
    response.last_modified = product.updated_at
    return response


@bp.get("/products/<ref>")
async def product_detail(ref: str) -> ResponseReturnValue:
    bearer = await optional_bearer()
    product = await product_or_404(ref, include_inactive=bearer is not None)
    response = json_response(serialize_product(product))
    return conditional(response, etag=product_etag(product), last_modified=product.updated_at)


@bp.get("/categories")
async def categories() -> ResponseReturnValue:
    session = await get_session()
    rows = (await session.scalars(select(Category).order_by(Category.name, Category.id))).all()
    return conditional(json_response(CategoryList(items=[serialize_category(c) for c in rows])))


@bp.post("/products")
@idempotent
async def create_product() -> ResponseReturnValue:
    bearer = await require_editor_token()
    session = await get_session()
    try:
        body = product_service.parse_create(read_json(), strict=True)
        product = await product_service.create_product(session, body, user_id=bearer.user_id,
                                                       source=SOURCE)
    except product_service.ProductValidationError as error:
        raise ApiError(422, INVALID, fields=error.errors) from None
    response = _product_response(product, 201)
    response.headers["Location"] = serialize_product(product).url
    return response


@bp.patch("/products/<ref>")
@idempotent
async def update_product(ref: str) -> ResponseReturnValue:
    bearer = await require_editor_token()
    product = await product_or_404(ref, include_inactive=True)
    product_id = product.id
    header = _if_match()
    session = await get_session()
    try:
        changes = product_service.parse_update(read_json(PATCH_TYPES), strict=True)
        # RFC 9110 13.2.1: the precondition is evaluated once the request is otherwise valid.
        expected = _expected_version(product, header, required=True)
        result = await product_service.update_product(
            session, product_id, changes, expected_version=expected,
            user_id=bearer.user_id, source=SOURCE)
    except product_service.ProductNotFound:
        raise ApiError(404, NOT_FOUND) from None
    except product_service.ProductValidationError as error:
        raise ApiError(422, INVALID, fields=error.errors) from None
    return await _finish(result)


@bp.delete("/products/<ref>")
@idempotent
async def delete_product(ref: str) -> ResponseReturnValue:
    """Soft delete: the product is deactivated (hidden from shoppers), its row and history kept."""
    bearer = await require_editor_token()
    product = await product_or_404(ref, include_inactive=True)
    product_id = product.id
    expected = _expected_version(product, _if_match(), required=False)
    session = await get_session()
    try:
        result = await product_service.deactivate_product(
            session, product_id, expected_version=expected, user_id=bearer.user_id,
            source=SOURCE)
    except product_service.ProductNotFound:
        raise ApiError(404, NOT_FOUND) from None
    return await _finish(result)


_IF_MATCH = re.compile(IF_MATCH_PATTERN)


def _if_match() -> str | None:
    """The ``If-Match`` header, or None if absent; 400 if it is empty, longer than
    :data:`MAX_IF_MATCH` or not a list of entity tags (malformed is not a failed
    precondition: the request itself is wrong, whatever the product's version)."""
    header = request.headers.get("If-Match")
    if header is None:
        return None
    if not header.strip() or len(header) > MAX_IF_MATCH or not _IF_MATCH.match(header):
        raise ApiError(400, f"If-Match must be the product's ETag (or `*`), at most "
                            f"{MAX_IF_MATCH} characters.", fields={"If-Match": "Not an ETag."})
    return header


def _expected_version(product: Product, header: str | None, *, required: bool) -> int | None:
    """The version ``If-Match`` names: the current one if it matches, else 412 (``*`` matches
    any, and then the write does not check the version)."""
    if header is None:
        if required:
            raise ApiError(428, "Send If-Match with the product's ETag (its version), as read "
                                "from GET, so a change made meanwhile is not overwritten.")
        return None
    if header.strip() == "*":
        return None
    offered = {_version_of(tag) for tag in header.split(",")}
    if product.version not in offered:
        raise _stale(product)
    return product.version


def _version_of(tag: str) -> int | None:
    """``"3"`` or ``3`` -> 3; weak tags never match (If-Match compares strongly)."""
    tag = tag.strip()
    if tag.startswith("W/"):
        return None
    tag = tag.strip('"')
    if tag.isascii() and tag.isdigit() and len(tag) <= 10:
        return int(tag)
    return None


def _stale(current: Product) -> ApiError:
    return ApiError(412, "The product changed since you read it; nothing was changed. "
                         "Read it again and retry.",
                    fields={}, headers={"ETag": f'"{product_etag(current)}"'})


async def _finish(result: product_service.UpdateResult) -> Response:
    if isinstance(result, product_service.Conflict):
        raise _stale(result.current)
    return _product_response(result.product)  # committed by @idempotent
