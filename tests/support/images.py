"""Image files for tests, made with Pillow: real ones, and the kinds an upload must refuse."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image


def image_bytes(width: int = 64, height: int = 48, fmt: str = "PNG",
                colour: tuple[int, int, int] = (200, 60, 40), **options: object) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, fmt, **options)
    return out.getvalue()


def jpeg_with_gps_and_orientation(width: int = 40, height: int = 20) -> bytes:
    """A JPEG whose EXIF holds a GPS position, a camera model and orientation 6 (turn 90°)."""
    image = Image.new("RGB", (width, height), (10, 120, 200))
    exif = Image.Exif()
    exif[0x0110] = "Secret Camera"  # Model
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to view
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)}  # GPS IFD
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A small valid-looking PNG whose header claims ``width`` x ``height`` pixels (tens of
    gigabytes once decoded): the header must be enough to refuse it."""
    small = image_bytes(1, 1, "PNG")
    ihdr_at = small.index(b"IHDR")
    fields = bytearray(small[ihdr_at + 4: ihdr_at + 17])
    fields[0:8] = struct.pack(">II", width, height)
    crc = struct.pack(">I", zlib.crc32(b"IHDR" + bytes(fields)) & 0xFFFFFFFF)
    return small[:ihdr_at + 4] + bytes(fields) + crc + small[ihdr_at + 21:]
