"""The sizes shoppers get: each image 320, 640 and 1280 px wide (never wider than the
original: a 500 px image gets 320 and 500), each as WebP and as a JPEG fallback for browsers
without WebP. ``<picture>`` offers both with ``srcset`` widths, so a phone loads the 320 or 640
WebP and never the original."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from PIL import Image

WIDTHS = (320, 640, 1280)
WEBP_QUALITY = 80
JPEG_QUALITY = 82


@dataclass(frozen=True)
class Encoded:
    data: bytes
    content_type: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class Variant:
    width: int
    height: int
    webp: Encoded
    jpeg: Encoded

    def describe(self) -> dict[str, object]:
        """What ``product_images.variants`` keeps of it (digests, not bytes)."""
        return {"w": self.width, "h": self.height, "webp": self.webp.sha256,
                "jpeg": self.jpeg.sha256}


def variant_widths(width: int) -> list[int]:
    return sorted({min(target, width) for target in WIDTHS})


def make_variants(original: bytes) -> list[Variant]:
    """Every variant of a cleaned original (:mod:`.validation` made it: it decodes)."""
    with Image.open(io.BytesIO(original)) as image:
        image.load()
        return variants_of(image)


def variants_of(image: Image.Image) -> list[Variant]:
    flat = _flatten(image)
    variants = []
    for width in variant_widths(image.width):
        height = max(1, round(image.height * width / image.width))
        sized = flat if width == image.width else flat.resize(
            (width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)
        variants.append(Variant(width=width, height=height,
                                webp=_save(sized, "WEBP", "image/webp", quality=WEBP_QUALITY,
                                           method=4),
                                jpeg=_save(sized, "JPEG", "image/jpeg", quality=JPEG_QUALITY,
                                           optimize=True, progressive=True)))
    return variants


def _flatten(image: Image.Image) -> Image.Image:
    """RGB on white (a JPEG has no transparency; the WebP looks the same beside it)."""
    if image.mode == "RGB":
        return image
    rgba = image.convert("RGBA")
    background = Image.new("RGB", rgba.size, (255, 255, 255))
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


def _save(image: Image.Image, fmt: str, content_type: str, **options: object) -> Encoded:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return Encoded(data=out.getvalue(), content_type=content_type)
