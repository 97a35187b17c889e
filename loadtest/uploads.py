"""The image upload the editor journey sends, built by hand (no locust import here: the tests
check this body against the app): the panel's upload form, a small PNG, a multipart body."""

from __future__ import annotations

import io
import random
import re
import secrets

from PIL import Image

UPLOAD_FORM = re.compile(r'<form class="image-upload".*?</form>', re.S)


def small_png(rng: random.Random) -> bytes:
    """A 240 x 160 PNG of a random colour (a few hundred bytes)."""
    out = io.BytesIO()
    colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
    Image.new("RGB", (240, 160), colour).save(out, "PNG")
    return out.getvalue()


def multipart(fields: dict[str, str], file: tuple[str, str, bytes, str]) -> tuple[bytes, str]:
    """A ``multipart/form-data`` body (what a browser sends for the upload form)."""
    boundary = "vitrine" + secrets.token_hex(12)
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
             f"{value}\r\n".encode() for name, value in fields.items()]
    name, filename, data, kind = file
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                 f'filename="{filename}"\r\nContent-Type: {kind}\r\n\r\n'.encode()
                 + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"
