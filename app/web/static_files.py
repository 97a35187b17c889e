"""Static files with cache-busting URLs: cached for a year, yet never stale.

``url_for('static', filename=...)`` gets ``?v=<content hash>`` (the first 12 hex digits of the
file's SHA-256, read once per file and again only when its size or modification time changes).
A request whose ``v`` is the file's current hash is answered with ``Cache-Control: public,
max-age=31536000, immutable``: a browser or CDN never asks again, and a changed file has a new
URL. A request without ``v``, or with an old one (a page rendered before a deploy), gets
``STATIC_MAX_AGE`` seconds (``no-cache`` at 0). The templates need nothing special, and the URL
keeps the ``--root-path`` prefix like every ``url_for``.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, request

IMMUTABLE = "public, max-age=31536000, immutable"
HASH_LENGTH = 12
VERSION_ARG = "v"


class ContentHashes:
    """File name -> content hash, for one static folder (thread-safe, stat-checked)."""

    def __init__(self, folder: str) -> None:
        self.folder = Path(folder).resolve()
        self._known: dict[str, tuple[int, int, str]] = {}
        self._lock = threading.Lock()

    def get(self, filename: str) -> str | None:
        path = (self.folder / filename).resolve()
        if not path.is_relative_to(self.folder):
            return None
        try:
            stat = path.stat()
        except OSError:
            return None
        known = self._known.get(filename)
        if known is not None and known[:2] == (stat.st_mtime_ns, stat.st_size):
            return known[2]
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:HASH_LENGTH]
        with self._lock:
            self._known[filename] = (stat.st_mtime_ns, stat.st_size, digest)
        return digest


def _hashes() -> ContentHashes:
    hashes: ContentHashes = current_app.extensions["vitrine_static_hashes"]
    return hashes


def add_content_hash(endpoint: str, values: dict[str, Any]) -> None:
    """``url_defaults``: ``?v=<hash>`` on every static URL the app builds."""
    if endpoint != "static" or VERSION_ARG in values:
        return
    filename = values.get("filename")
    if isinstance(filename, str):
        digest = _hashes().get(filename)
        if digest is not None:
            values[VERSION_ARG] = digest


def cache_static_response(response: Response) -> Response:
    """``after_request``: a year for the current hashed URL, ``STATIC_MAX_AGE`` otherwise."""
    if request.endpoint != "static" or response.status_code not in (200, 304):
        return response
    filename = (request.view_args or {}).get("filename")
    asked = request.args.get(VERSION_ARG)
    if asked and isinstance(filename, str) and asked == _hashes().get(filename):
        response.headers["Cache-Control"] = IMMUTABLE
    else:
        max_age = int(current_app.config["STATIC_MAX_AGE"])
        response.headers["Cache-Control"] = f"public, max-age={max_age}" if max_age else "no-cache"
    return response


def init_app(app: Flask) -> None:
    if not app.static_folder:
        return
    app.extensions["vitrine_static_hashes"] = ContentHashes(os.fspath(app.static_folder))
    app.url_defaults(add_content_hash)
    app.after_request(cache_static_response)
