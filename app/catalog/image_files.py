"""``/images/<sha256>.<ext>``: stored image bytes (``image_blobs``), for shoppers and editors.

The URL names the SHA-256 of the bytes, so it never changes meaning: the response is
``Cache-Control: public, max-age=31536000, immutable`` with the digest as a strong ``ETag``,
and a revalidation (``If-None-Match``) is a 304 answered without touching the database.
The bytes are read with one autocommit statement (no ORM, no transaction round trips) from
the request's database. Its own blueprint, outside the catalog's response cache: these
responses are immutable already, and large.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, has_request_context, request
from sqlalchemy import bindparam, text

from ..data.database import read_outside_transaction

bp = Blueprint("images", __name__)

#: URL extension -> stored content type.
TYPES = {"webp": "image/webp", "jpg": "image/jpeg", "png": "image/png"}
IMMUTABLE = "public, max-age=31536000, immutable"
_BYTES = text("SELECT data FROM image_blobs WHERE sha256 = :sha256 AND content_type = :type"
              ).bindparams(bindparam("sha256"), bindparam("type"))


def _is_digest(value: str) -> bool:
    return len(value) == 64 and all(c in "0123456789abcdef" for c in value)


@bp.get("/images/<digest>.<ext>")
async def image_file(digest: str, ext: str) -> Response:
    if not _is_digest(digest) or ext not in TYPES:
        abort(404, "There is no such image.")
    etag = f'"{digest}"'
    headers = {"ETag": etag, "Cache-Control": IMMUTABLE}
    if request.if_none_match.contains(digest):
        return Response(status=304, headers=headers)
    data = await read_outside_transaction(_BYTES.params(sha256=digest, type=TYPES[ext]))
    if data is None:
        abort(404, "There is no such image.")
    return Response(bytes(data), status=200, headers=headers, mimetype=TYPES[ext])


def image_url(digest: str, ext: str) -> str:
    """The URL of a stored image (template global): built by hand, not by ``url_for``, since a
    catalog page asks for a hundred of them; the app's root path is kept."""
    root = request.script_root if has_request_context() else ""
    return f"{root}/images/{digest}.{ext}"


bp.add_app_template_global(image_url, "image_url")
