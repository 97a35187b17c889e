"""An uploaded image, checked and cleaned before anything is stored.

The checks, in the order they cost:

1. **bytes** - empty, or more than the configured maximum (``IMAGE_MAX_BYTES``): refused
   without looking inside;
2. **type** - Pillow identifies the file among JPEG, PNG, WebP and GIF only (``formats=``: no
   other decoder ever sees the bytes); a text file named ``.png`` is not an image;
3. **pixels** - the size read from the header (``Image.open`` decodes nothing yet) must be at
   most ``IMAGE_MAX_PIXELS``: a 50,000 x 50,000 PNG of a few kilobytes (a decompression bomb)
   is refused before it could take gigabytes to decode. Pillow's own bomb warning is an error
   here too;
4. **decoding** - the whole image (the first frame of an animation) is decoded: a truncated or
   corrupt file is refused.

Then it is cleaned: the EXIF orientation is applied to the pixels (``exif_transpose``) and
the file is re-encoded from the pixels alone, so no metadata survives (EXIF with its GPS
position, XMP, comments, PNG text); a GIF becomes a PNG of its first frame. The result is
what is stored and what the variants are made from.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

#: Pillow format -> what the cleaned original is stored as.
ACCEPTED = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WEBP", "GIF": "PNG"}
CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}

NOT_AN_IMAGE = "This file is not a JPEG, PNG, WebP or GIF image, so it was not added."
DAMAGED = "This image file is damaged or incomplete, so it was not added."
EMPTY = "The file is empty, so nothing was added."


class ImageRejected(ValueError):
    """Why an upload was refused, in words for the editor."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class CleanImage:
    """An accepted upload, re-encoded without metadata."""

    data: bytes
    content_type: str
    width: int
    height: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def megabytes(size: int) -> str:
    value = size / (1024 * 1024)
    return f"{value:.1f}".rstrip("0").rstrip(".")


def too_large_message(max_bytes: int) -> str:
    return f"This file is larger than {megabytes(max_bytes)} MB, so it was not added."


def clean_upload(data: bytes, *, max_bytes: int, max_pixels: int) -> CleanImage:
    """The cleaned image, or :class:`ImageRejected` (see the module docstring)."""
    if not data:
        raise ImageRejected(EMPTY)
    if len(data) > max_bytes:
        raise ImageRejected(too_large_message(max_bytes))
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=list(ACCEPTED))
        except UnidentifiedImageError:
            raise ImageRejected(NOT_AN_IMAGE) from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ImageRejected(_too_many_pixels(max_pixels)) from None
        except (OSError, SyntaxError, ValueError):
            raise ImageRejected(DAMAGED) from None
        with image:
            width, height = image.size
            if width < 1 or height < 1:
                raise ImageRejected(DAMAGED)
            if width * height > max_pixels:
                raise ImageRejected(_too_many_pixels(max_pixels))
            source_format = image.format or ""
            try:
                image.load()
                upright = ImageOps.exif_transpose(image)
            except (Image.DecompressionBombError, Image.DecompressionBombWarning):
                raise ImageRejected(_too_many_pixels(max_pixels)) from None
            except (OSError, SyntaxError, ValueError, EOFError):
                raise ImageRejected(DAMAGED) from None
    return _encode(upright, ACCEPTED[source_format])


def _too_many_pixels(max_pixels: int) -> str:
    return (f"This image has too many pixels (at most {max_pixels / 1_000_000:g} million), "
            "so it was not added.")


def _encode(image: Image.Image, target: str) -> CleanImage:
    """Re-encode from the pixels only (``info`` emptied: no EXIF, ICC, XMP or text)."""
    image.info = {}
    if target == "JPEG":
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        options: dict[str, object] = {"quality": 90, "optimize": True}
    elif target == "WEBP":
        if image.mode not in ("RGB", "RGBA"):
            image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
        options = {"quality": 90, "method": 4}
    else:
        if image.mode not in ("RGB", "RGBA", "L", "LA"):
            image = image.convert("RGBA")
        options = {"optimize": False}
    out = io.BytesIO()
    image.save(out, target, **options)
    return CleanImage(data=out.getvalue(), content_type=CONTENT_TYPES[target],
                      width=image.width, height=image.height)
