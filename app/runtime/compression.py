"""Compressing responses in the ASGI adapter: brotli, else gzip, as the client accepts.

HTML, JSON, CSS, JavaScript and SVG responses of at least :data:`MIN_SIZE` bytes are compressed
with brotli when the request's ``Accept-Encoding`` allows it, with gzip otherwise, and sent
as they are for ``identity``. Every response of those types says ``Vary: Accept-Encoding`` (a
cache must not give a brotli body to a client that cannot read it). Never compressed: an
``text/event-stream`` (each event must reach the client when it is written), a body that already
has a ``Content-Encoding``, a ``Cache-Control: no-transform`` response, 204/304 and HEAD.

Why here and not a middleware library: ``brotli-asgi`` (and Starlette's ``GZipMiddleware`` it
is built on) wraps ``send`` to compress a *stream* of ASGI messages, pulling in Starlette. The
adapter already holds each dynamic body whole (Flask's WSGI response is drained before it is
sent), so one ``brotli.compress`` call on it is all it takes - the library used is Google's
``brotli`` binding; the code here only picks the encoding and fixes the headers. Static files
(streamed from disk in a thread) are compressed once per file version, at the best quality,
and kept (:class:`StaticCompressionCache`); a file's strong ``ETag`` becomes weak, since the
bytes differ from the file's while meaning the same. A dynamic response's ``ETag`` is left as
its view set it: the API's strong tags name a product's *version* (``If-Match`` compares them
strongly, so weakening them would make every conditional write from a client that accepts
compression a 412), and the response cache's tags are weak already. A dynamic response with an
``ETag`` - one the response cache serves again and again - is compressed once and kept too
(:class:`Memo`, by its body's digest), so a cache hit does not pay for compressing the same
page again.

A *streamed* body (a generator, sent chunk by chunk: see :mod:`.asgi`) is compressed
incrementally (:class:`StreamEncoder`): each chunk is compressed and flushed as it is sent, so
the client can decode everything it has received so far and the worker never holds more than
one chunk. A flush per chunk costs some ratio on tiny chunks, so streamed views yield pieces of
a few tens of kilobytes (the CSV export yields ~32 KB).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import threading
import zlib
from collections import OrderedDict
from typing import Any

import brotli

#: Smaller bodies gain too little to pay for the work and the header.
MIN_SIZE = 512
#: Quality of dynamic responses. On a 39 KB search partial: brotli 4 gives 4.9 KB in 0.5 ms,
#: 5 gives 4.5 KB in 1.0 ms; gzip 4 gives 5.2 KB in 0.3 ms, 6 gives 4.9 KB in 1.4 ms.
BROTLI_QUALITY = 4
GZIP_LEVEL = 4
#: Static files are compressed once per version: the best quality is worth it.
STATIC_BROTLI_QUALITY = 11
#: Largest static file compressed (larger ones are streamed as they are).
STATIC_MAX_SIZE = 4 * 1024 * 1024
COMPRESSIBLE = (
    b"text/html", b"text/css", b"text/javascript", b"text/plain", b"application/javascript",
    b"application/json", b"application/problem+json", b"application/vnd.oai.openapi+json",
    b"image/svg+xml", b"text/xml", b"application/xml", b"text/csv",
)


def choose_encoding(accept_encoding: bytes | None) -> str | None:
    """``"br"``, ``"gzip"`` or None (identity), from an ``Accept-Encoding`` header."""
    if not accept_encoding:
        return None
    accepted: dict[str, float] = {}
    for part in accept_encoding.decode("latin-1").lower().split(","):
        name, _, params = part.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        accepted[name.strip()] = quality
    wildcard = accepted.get("*", 0.0)
    for encoding in ("br", "gzip"):
        if accepted.get(encoding, wildcard) > 0:
            return encoding
    return None


def compress(body: bytes, encoding: str, *, best: bool = False) -> bytes:
    if encoding == "br":
        quality = STATIC_BROTLI_QUALITY if best else BROTLI_QUALITY
        return bytes(brotli.compress(body, mode=brotli.MODE_TEXT, quality=quality))
    return gzip.compress(body, compresslevel=9 if best else GZIP_LEVEL, mtime=0)


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    return next((value for key, value in headers if key == name), None)


def compressible(headers: list[tuple[bytes, bytes]], status: int) -> bool:
    """Whether a response of this status and these headers is of a compressible kind."""
    if status < 200 or status in (204, 304):
        return False
    content_type = (_header(headers, b"content-type") or b"").split(b";", 1)[0].strip().lower()
    if content_type not in COMPRESSIBLE:
        return False
    if _header(headers, b"content-encoding") is not None:
        return False
    cache_control = _header(headers, b"cache-control") or b""
    return b"no-transform" not in cache_control.lower()


def encoded_headers(headers: list[tuple[bytes, bytes]], encoding: str | None,
                    length: int, *, weaken_etag: bool = False) -> list[tuple[bytes, bytes]]:
    """The headers of the response as sent: ``Vary`` always, and when ``encoding`` is set, its
    ``Content-Encoding``, new ``Content-Length`` and (``weaken_etag``: a file's) a weak
    ``ETag``."""
    result: list[tuple[bytes, bytes]] = []
    vary_done = False
    for name, value in headers:
        if name == b"vary":
            if b"accept-encoding" not in value.lower():
                value = value + b", Accept-Encoding"
            vary_done = True
        elif encoding is not None and name == b"content-length":
            value = str(length).encode()
        elif (weaken_etag and encoding is not None and name == b"etag"
              and not value.startswith(b"W/")):
            value = b"W/" + value
        result.append((name, value))
    if not vary_done:
        result.append((b"vary", b"Accept-Encoding"))
    if encoding is not None:
        result.append((b"content-encoding", encoding.encode()))
    return result


class Memo:
    """Compressed bodies by encoding and body digest, bounded in bytes (least recently used
    out first)."""

    def __init__(self, max_bytes: int = 16 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self._entries: OrderedDict[tuple[str, bytes], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def compress(self, body: bytes, encoding: str) -> bytes:
        key = (encoding, hashlib.blake2b(body, digest_size=16).digest())
        with self._lock:
            kept = self._entries.get(key)
            if kept is not None:
                self._entries.move_to_end(key)
                return kept
        compressed = compress(body, encoding)
        with self._lock:
            if key not in self._entries:
                self._entries[key] = compressed
                self.bytes += len(compressed)
            while self.bytes > self.max_bytes and self._entries:
                self.bytes -= len(self._entries.popitem(last=False)[1])
        return compressed


def compress_body(headers: list[tuple[bytes, bytes]], status: int, body: bytes,
                  accept_encoding: bytes | None, memo: Memo | None = None
                  ) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """Headers and body of a whole (non-file) response, compressed if it should be (through
    ``memo`` when the response has an ``ETag``: it will be asked for again)."""
    if not compressible(headers, status):
        return headers, body
    encoding = choose_encoding(accept_encoding) if len(body) >= MIN_SIZE else None
    if encoding is not None:
        if memo is not None and _header(headers, b"etag") is not None:
            body = memo.compress(body, encoding)
        else:
            body = compress(body, encoding)
    return encoded_headers(headers, encoding, len(body)), body


class StaticCompressionCache:
    """Compressed static files, by path, version (size and mtime) and encoding; bounded."""

    def __init__(self, max_bytes: int = 32 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self._entries: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def compressed(self, file: Any, encoding: str) -> bytes | None:
        """The compressed contents of an open file (blocking: run it in a thread), or None
        when the file is too large to be worth holding."""
        stat = os.fstat(file.fileno())
        if stat.st_size > STATIC_MAX_SIZE or stat.st_size < MIN_SIZE:
            return None
        key = (getattr(file, "name", None), stat.st_ino, stat.st_size, stat.st_mtime_ns,
               encoding)
        with self._lock:
            kept = self._entries.get(key)
            if kept is not None:
                self._entries.move_to_end(key)
                return kept
        body = compress(file.read(), encoding, best=True)
        with self._lock:
            self._entries[key] = body
            self.bytes += len(body)
            while self.bytes > self.max_bytes and self._entries:
                self.bytes -= len(self._entries.popitem(last=False)[1])
        return body


class StreamEncoder:
    """Compresses a body chunk by chunk, flushing after each so every chunk sent can be decoded
    at once (brotli's ``Compressor``, or zlib in gzip framing with a sync flush)."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        if encoding == "br":
            self._brotli = brotli.Compressor(mode=brotli.MODE_TEXT, quality=BROTLI_QUALITY)
        else:
            self._zlib = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)  # 31: gzip framing

    def chunk(self, data: bytes) -> bytes:
        """The compressed bytes of ``data``, flushed."""
        if self.encoding == "br":
            return bytes(self._brotli.process(data)) + bytes(self._brotli.flush())
        return self._zlib.compress(data) + self._zlib.flush(zlib.Z_SYNC_FLUSH)

    def finish(self) -> bytes:
        """The end of the compressed stream."""
        if self.encoding == "br":
            return bytes(self._brotli.finish())
        return self._zlib.flush(zlib.Z_FINISH)


def stream_encoder(headers: list[tuple[bytes, bytes]], status: int,
                   accept_encoding: bytes | None
                   ) -> tuple[list[tuple[bytes, bytes]], StreamEncoder | None]:
    """Headers of a streamed response and its encoder (None: sent as produced)."""
    if not compressible(headers, status):
        return headers, None
    encoding = choose_encoding(accept_encoding)
    headers = [(name, value) for name, value in headers if name != b"content-length"]
    return encoded_headers(headers, encoding, 0), (
        None if encoding is None else StreamEncoder(encoding))
