"""Product images in the database: stored bytes (content-addressed), each product's images, and
their changes recorded in the product's history.

Every change to a product's images (added, removed, reordered, alt text changed) is a change
of the product like any other: it locks the product row, bumps its ``version`` (so an editor
whose form was opened before it gets the usual field-level merge, and an API client with an
old ``If-Match`` a 412), and records a revision with source ``images`` whose one field,
``images``, holds the alt texts in order before and after (``["Front", "Side"]`` ->
``["Side", "Front"]`` is a reorder). Image changes carry no expected version: editors adding
images at once do not conflict, and a reorder names every image it orders (a list that no
longer matches is :class:`ImagesChanged`, nothing written). The history page shows them;
restoring a version restores product fields, never images.

The bytes (``image_blobs``) are written with ``INSERT ... ON CONFLICT`` keyed by their
SHA-256: storing the same file twice, or a retried variants job, writes no new bytes (an old
blob is only touched, see ``_STORE``). A removal deletes no blob (another image may share it);
the periodic purge deletes blobs no image references any more (:mod:`app.jobs.purge`).

Functions flush, never commit: the caller owns the transaction.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from .live_actor import act_as
from .models import Product, ProductImage
from .products.loading import lock_product
from .revisions import record_revision

#: The history field of image changes (its values: the alt texts in order).
FIELD = "images"
SOURCE = "images"
ALT_MAX = 250
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

#: A blob stored again is *touched* (its ``created_at`` renewed) when it is older than
#: :data:`TOUCH_AFTER`: the purge deletes only unreferenced blobs older than its grace period
#: (:mod:`app.jobs.purge`), so a blob an upload or a variants job is about to reference again
#: is never taken from under it. ``DO UPDATE`` locks the row even when its ``WHERE`` is false,
#: so a purge's ``DELETE`` of it waits for this transaction and then sees the row renewed.
_STORE = text("INSERT INTO image_blobs (sha256, content_type, width, height, data)"
              " VALUES (:sha256, :content_type, :width, :height, :data)"
              " ON CONFLICT (sha256) DO UPDATE SET created_at = now()"
              " WHERE image_blobs.created_at < now() - interval '10 minutes'")


class ImageInputError(ValueError):
    """An image change that cannot be applied as asked (nothing written); a message for people."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ImagesChanged(ImageInputError):
    """A reorder that does not name exactly the product's images (someone added or removed one
    since the page was opened)."""


def clean_alt(value: str | None) -> str:
    """The alt text, trimmed; :class:`ImageInputError` if missing, too long or garbled."""
    alt = " ".join((value or "").split())
    if not alt:
        raise ImageInputError("Describe the image for people who cannot see it (alt text).")
    if len(alt) > ALT_MAX:
        raise ImageInputError(f"Keep the alt text to {ALT_MAX} characters or fewer.")
    if _CONTROL.search(alt):
        raise ImageInputError("The alt text contains characters that cannot be shown.")
    return alt


async def store_blob(session: AsyncSession, *, sha256: str, data: bytes, content_type: str,
                     width: int, height: int) -> str:
    """Store bytes under their digest (once); the digest."""
    await session.execute(_STORE, {"sha256": sha256, "content_type": content_type,
                                   "width": width, "height": height, "data": data})
    return sha256


async def list_images(session: AsyncSession, product_id: int) -> list[ProductImage]:
    """The product's images in order (all states)."""
    return list((await session.scalars(
        select(ProductImage).where(ProductImage.product_id == product_id)
        .order_by(ProductImage.position, ProductImage.id)
        .execution_options(populate_existing=True))).all())


def _alts(images: Sequence[ProductImage]) -> list[str]:
    return [image.alt for image in images]


async def _record(session: AsyncSession, product_id: int, before: list[str], after: list[str],
                  *, user_id: int | None) -> int:
    """Bump the (locked) product's version and record the change; the new version."""
    await act_as(session, user_id, SOURCE)  # the live feed announces it as an image change
    version = int(await session.scalar(
        update(Product).where(Product.id == product_id)
        .values(version=Product.version + 1, updated_at=func.now())
        .returning(Product.version)) or 0)
    await record_revision(session, product_id=product_id, user_id=user_id, source=SOURCE,
                          version=version, changes={FIELD: {"before": before, "after": after}})
    return version


async def add_image(session: AsyncSession, product_id: int, *, original: str, width: int,
                    height: int, alt: str, user_id: int | None,
                    limit: int) -> ProductImage:
    """Add an image (its cleaned original already stored) at the end of the product's list.
    :class:`~.products.errors.ProductNotFound`, or :class:`ImageInputError` past ``limit``."""
    alt = clean_alt(alt)
    await lock_product(session, product_id)
    images = await list_images(session, product_id)
    if len(images) >= limit:
        raise ImageInputError(f"A product can have at most {limit} images; remove one first.")
    position = max((image.position for image in images), default=0) + 1
    image = ProductImage(product_id=product_id, position=position, alt=alt, original=original,
                         width=width, height=height, created_by=user_id)
    session.add(image)
    await session.flush()
    await _record(session, product_id, _alts(images), [*_alts(images), alt], user_id=user_id)
    return image


async def _locked_images(session: AsyncSession, product_id: int) -> list[ProductImage]:
    await lock_product(session, product_id)
    return await list_images(session, product_id)


def _find(images: Sequence[ProductImage], image_id: int) -> ProductImage:
    for image in images:
        if image.id == image_id:
            return image
    raise ImagesChanged("That image is no longer on this product (someone removed it).")


async def remove_image(session: AsyncSession, product_id: int, image_id: int, *,
                       user_id: int | None) -> ProductImage:
    """Remove one image from the product; the removed image."""
    images = await _locked_images(session, product_id)
    image = _find(images, image_id)
    after = [other.alt for other in images if other.id != image_id]
    await session.delete(image)
    await session.flush()
    await _record(session, product_id, _alts(images), after, user_id=user_id)
    return image


async def reorder_images(session: AsyncSession, product_id: int, order: Sequence[int], *,
                         user_id: int | None) -> bool:
    """Put the product's images in ``order`` (every image id, once); False if already so."""
    images = await _locked_images(session, product_id)
    if sorted(order) != sorted(image.id for image in images) or len(set(order)) != len(order):
        raise ImagesChanged("The images changed since this page was opened; nothing was "
                            "reordered. Reload the page and try again.")
    if list(order) == [image.id for image in images]:
        return False
    by_id = {image.id: image for image in images}
    for position, image_id in enumerate(order, start=1):
        by_id[image_id].position = position
    await session.flush()
    await _record(session, product_id, _alts(images), [by_id[i].alt for i in order],
                  user_id=user_id)
    return True


async def set_alt(session: AsyncSession, product_id: int, image_id: int, alt: str, *,
                  user_id: int | None) -> bool:
    """Change one image's alt text; False if it already had it."""
    alt = clean_alt(alt)
    images = await _locked_images(session, product_id)
    image = _find(images, image_id)
    if image.alt == alt:
        return False
    before = _alts(images)
    image.alt = alt
    await session.flush()
    await _record(session, product_id, before, _alts(images), user_id=user_id)
    return True


async def original_of(session: AsyncSession, image_id: int) -> bytes | None:
    """The cleaned original's bytes of an image (None: the image was removed)."""
    data: bytes | None = await session.scalar(text(
        "SELECT b.data FROM product_images i JOIN image_blobs b ON b.sha256 = i.original"
        " WHERE i.id = :id"), {"id": image_id})
    return data


async def set_variants(session: AsyncSession, image_id: int,
                       variants: list[dict[str, Any]] | None, state: str) -> bool:
    """Record an image's variants and state; False if the image was removed meanwhile."""
    done = await session.scalar(
        update(ProductImage).where(ProductImage.id == image_id)
        .values(variants=variants, state=state).returning(ProductImage.id))
    return done is not None


__all__ = ["ALT_MAX", "FIELD", "ImageInputError", "ImagesChanged", "SOURCE", "add_image",
           "clean_alt", "list_images", "original_of", "remove_image", "reorder_images",
           "set_alt", "set_variants", "store_blob"]
