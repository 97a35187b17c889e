"""Demo images for the seeded catalog (``flask seed --images``; ``make run`` uses it).

Each product without an image gets one: a tile in its colour with its brand's (or name's)
initial (:mod:`app.media.tiles`), with its variants made here, inline, not by the job worker
(a seed must be complete when it returns), and stored like any upload: content-addressed
blobs, a ``ready`` row in ``product_images``. A tile depends only on its colour and letter, so
the few hundred distinct tiles are drawn and encoded once each, however many products share
them, and the rows go in with COPY. Deterministic: the same catalog gets the same bytes.
"""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ..media.tiles import draw_tile, png_bytes, tile_colour
from ..media.variants import variants_of

#: Threads that encode tiles at once (Pillow releases the GIL while it encodes).
THREADS = 2
_WITHOUT_IMAGES = text(
    "SELECT p.id, p.name, p.attributes->>'brand' AS brand, p.attributes->>'colour' AS colour"
    " FROM products p WHERE NOT EXISTS (SELECT 1 FROM product_images i"
    " WHERE i.product_id = p.id) ORDER BY p.id")


def _letter(name: str, brand: str | None) -> str:
    return ((brand or name).strip()[:1] or "?").upper()


def _tile_files(colour: str | None, letter: str) -> tuple[list[tuple[Any, ...]], dict[str, Any]]:
    """The blobs of one tile (original and variants) and what its image row records."""
    tile = draw_tile(tile_colour(colour, colour or letter), letter)
    original = png_bytes(tile)  # drawn here: no metadata to strip, nothing to check
    digest = hashlib.sha256(original).hexdigest()
    variants = variants_of(tile)
    blobs = [(digest, "image/png", tile.width, tile.height, original)]
    for variant in variants:
        for encoded in (variant.webp, variant.jpeg):
            blobs.append((encoded.sha256, encoded.content_type, variant.width,
                          variant.height, encoded.data))
    return blobs, {"original": digest, "width": tile.width, "height": tile.height,
                   "variants": [v.describe() for v in variants]}


async def seed_images(engine: AsyncEngine) -> int:
    """Give every product without an image its demo tile; how many got one."""
    async with engine.connect() as connection:
        products = (await connection.execute(_WITHOUT_IMAGES)).all()
    if not products:
        return 0
    keys = sorted({((row.colour or "").lower() or None, _letter(row.name, row.brand))
                   for row in products}, key=lambda key: (key[0] or "", key[1]))
    with ThreadPoolExecutor(THREADS) as pool:
        made = dict(zip(keys, pool.map(lambda key: _tile_files(*key), keys), strict=True))
    blobs = {blob[0]: blob for files, _row in made.values() for blob in files}
    rows = []
    for row in products:
        colour = (row.colour or "").lower() or None
        letter = _letter(row.name, row.brand)
        tile = made[(colour, letter)][1]
        alt = (f"Demo image of {row.name}: the letter {letter} on "
               f"{'a ' + colour if colour else 'a coloured'} tile")[:250]
        rows.append((row.id, 1, alt, tile["original"], tile["width"], tile["height"],
                     json.dumps(tile["variants"]), "ready"))
    async with engine.begin() as connection:
        await connection.execute(text("SET LOCAL statement_timeout = 0"))
        existing = set((await connection.execute(
            # Touched, like a blob an upload stores again: the purge of unreferenced blobs
            # (app/jobs/purge.py) leaves renewed ones alone until their grace period passes.
            text("UPDATE image_blobs SET created_at = now() WHERE sha256 = ANY(:digests)"
                 " RETURNING sha256"),
            {"digests": list(blobs)})).scalars())
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        await driver.copy_records_to_table(
            "image_blobs", records=[b for d, b in blobs.items() if d not in existing],
            columns=["sha256", "content_type", "width", "height", "data"])
        await driver.copy_records_to_table(
            "product_images", records=rows,
            columns=["product_id", "position", "alt", "original", "width", "height",
                     "variants", "state"])
    return len(rows)
