"""Products and categories over JSON.

Reads are public (inactive products only for a token holder); writes need an editor's token
and go through :mod:`app.data.products`, the same write service the editor uses, recording
each change in the product's history with source ``api``. Updates are conditional: ``If-Match``
must carry the product's current ETag (its version), else 428; a stale one gets 412 and
nothing changes.
"""

from __future__ import annotations

from flask import request
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from ..data import products as product_service
from ..data.database import get_session
from ..data.models import Category, Product
from . import bp
from .auth import optional_bearer, require_editor_token
from .http import PATCH_TYPES, ApiError, conditional, json_response, read_json, validate
from .schemas import ProductCreate, ProductUpdate
from .serializers import product_etag, serialize_category, serialize_product

SOURCE = "api"


async def find_product(ref: str, *, include_inactive: bool) -> Product | None:
    """The product whose id (digits) or slug is ``ref``."""
    session = await get_session()
    product = None
    if ref.isascii() and ref.isdigit() and 0 < int(ref) <= 2**63 - 1:
        product = await session.get(Product, int(ref), populate_existing=True)
    if product is None and len(ref) <= 220:
        product = await session.scalar(select(Product).where(Product.slug == ref))
    if product is None or (not product.is_active and not include_inactive):
        return None
    return product


def _not_found() -> ApiError:
    return ApiError(404, "No product with that id or slug.")


def _product_response(product: Product, status: int = 200) -> ResponseReturnValue:
    response = json_response(serialize_product(product), status)
    response.set_etag(product_etag(product))
    response.last_modified = product.updated_at
    return response


@bp.get("/products/<ref>")
async def product_detail(ref: str) -> ResponseReturnValue:
    bearer = await optional_bearer()
    product = await find_product(ref, include_inactive=bearer is not None)
    if product is None:
        raise _not_found()
    response = json_response(serialize_product(product))
    return conditional(response, etag=product_etag(product), last_modified=product.updated_at)


@bp.get("/categories")
async def categories() -> ResponseReturnValue:
    session = await get_session()
    rows = (await session.scalars(select(Category).order_by(Category.name, Category.id))).all()
    return conditional(json_response({"items": [serialize_category(c) for c in rows]}))


@bp.post("/products")
async def create_product() -> ResponseReturnValue:
    bearer = await require_editor_token()
    body = validate(ProductCreate, read_json())
    session = await get_session()
    try:
        product = await product_service.create_product(
            session, body.model_dump(exclude_unset=True), user_id=bearer.user_id,
            source=SOURCE)
    except product_service.ProductValidationError as error:
        raise ApiError(422, "Some fields need attention.", fields=error.errors) from None
    await session.commit()
    response = _product_response(product, 201)
    response.headers["Location"] = serialize_product(product)["url"]
    return response


@bp.patch("/products/<ref>")
async def update_product(ref: str) -> ResponseReturnValue:
    bearer = await require_editor_token()
    product = await _editable(ref)
    product_id = product.id
    expected = _expected_version(product, required=True)
    changes = validate(ProductUpdate, read_json(PATCH_TYPES)).changes()
    session = await get_session()
    try:
        result = await product_service.update_product(
            session, product_id, changes, expected_version=expected,
            user_id=bearer.user_id, source=SOURCE)
    except product_service.ProductNotFound:
        raise _not_found() from None
    except product_service.ProductValidationError as error:
        raise ApiError(422, "Some fields need attention.", fields=error.errors) from None
    return await _finish(result)


@bp.delete("/products/<ref>")
async def delete_product(ref: str) -> ResponseReturnValue:
    """Soft delete: the product is deactivated (hidden from shoppers), its row and history kept."""
    bearer = await require_editor_token()
    product = await _editable(ref)
    product_id = product.id
    expected = _expected_version(product, required=False)
    session = await get_session()
    try:
        result = await product_service.deactivate_product(
            session, product_id, expected_version=expected, user_id=bearer.user_id,
            source=SOURCE)
    except product_service.ProductNotFound:
        raise _not_found() from None
    return await _finish(result)


async def _editable(ref: str) -> Product:
    """The product to change, active or not (a token holder may edit hidden products)."""
    product = await find_product(ref, include_inactive=True)
    if product is None:
        raise _not_found()
    return product


def _expected_version(product: Product, *, required: bool) -> int | None:
    """The version ``If-Match`` names: the current one if it matches, else 412 (``*`` matches
    any, and then the write does not check the version)."""
    header = request.headers.get("If-Match")
    if header is None or not header.strip():
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


async def _finish(result: product_service.UpdateResult) -> ResponseReturnValue:
    if isinstance(result, product_service.Conflict):
        raise _stale(result.current)
    await (await get_session()).commit()
    return _product_response(result.product)
