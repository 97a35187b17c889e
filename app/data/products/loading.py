"""Loading one product: fresh for display, or locked for a change."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from ..bounds import MAX_PRODUCT_ID
from ..models import Product
from .errors import ProductNotFound

#: Loader options for a product shown with its category (``get_or_404(..., load=...)``).
WITH_CATEGORY = (selectinload(Product.category),)


async def get_product(session: AsyncSession, product_id: int) -> Product | None:
    """The product with its category loaded (fresh from the database), or None."""
    if not 1 <= product_id <= MAX_PRODUCT_ID:
        return None
    return await session.scalar(
        select(Product)
        .where(Product.id == product_id)
        .options(*WITH_CATEGORY)
        .execution_options(populate_existing=True)
    )


async def loaded_product(session: AsyncSession, product_id: int) -> Product:
    """:func:`get_product` for a row this transaction has just written (so it exists)."""
    product = await get_product(session, product_id)
    if product is None:
        raise ProductNotFound(product_id)
    return product


async def lock_product(session: AsyncSession, product_id: int) -> Product:
    """Lock the row for this transaction and load its latest committed values."""
    if not 1 <= product_id <= MAX_PRODUCT_ID:
        raise ProductNotFound(product_id)
    product = await session.scalar(
        select(Product)
        .where(Product.id == product_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if product is None:
        raise ProductNotFound(product_id)
    return product
