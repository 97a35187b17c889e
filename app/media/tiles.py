"""Demo images for the seed: a tile in the product's colour with its initial, drawn by Pillow.

Deterministic (same product, same bytes) and cheap: a tile depends only on its colour and
letter, so the seed draws each combination once and content addressing stores it once.
"""

from __future__ import annotations

import hashlib
import io
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

#: Width and height of a demo original (16:9, like the catalog's card).
SIZE = (640, 360)

COLOURS = {
    "black": (40, 40, 44), "white": (236, 233, 226), "grey": (128, 128, 132),
    "gray": (128, 128, 132), "red": (176, 46, 46), "blue": (40, 84, 160),
    "green": (52, 120, 72), "yellow": (222, 180, 40), "orange": (214, 112, 36),
    "brown": (120, 80, 48), "pink": (212, 120, 150), "purple": (104, 64, 140),
    "navy": (28, 40, 90), "beige": (214, 196, 160), "silver": (176, 180, 186),
    "gold": (190, 150, 60), "oak": (170, 124, 70), "walnut": (100, 70, 45),
    "olive": (110, 116, 56), "ochre": (196, 140, 40), "terracotta": (190, 94, 64),
    "sand": (214, 194, 150), "rust": (160, 72, 40), "forest green": (40, 90, 56),
    "blush": (226, 170, 170), "charcoal": (56, 58, 62), "ivory": (242, 236, 218),
    "teal": (32, 120, 120),
}


def tile_colour(colour: str | None, fallback_key: str) -> tuple[int, int, int]:
    if colour and colour.lower() in COLOURS:
        return COLOURS[colour.lower()]
    digest = hashlib.sha256(fallback_key.encode()).digest()
    return (60 + digest[0] % 150, 60 + digest[1] % 150, 60 + digest[2] % 150)


@lru_cache(maxsize=1)
def _font() -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=200)


def draw_tile(colour: tuple[int, int, int], letter: str) -> Image.Image:
    """A tile: ``colour`` with ``letter`` in a contrasting shade, centred."""
    image = Image.new("RGB", SIZE, colour)
    draw = ImageDraw.Draw(image)
    light = sum(colour) / 3 > 140
    ink = tuple(max(0, c - 90) for c in colour) if light else tuple(min(255, c + 110)
                                                                   for c in colour)
    draw.text((SIZE[0] / 2, SIZE[1] / 2), (letter or "?")[:1].upper(), fill=ink,
              font=_font(), anchor="mm")
    return image


def png_bytes(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()
