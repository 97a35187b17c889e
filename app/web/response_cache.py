"""A shared cache of shopper responses that is never stale.

A catalog response is a function of its URL, how it is rendered (full page or htmx partial, and
the htmx headers the view reads) and the catalog's data. The data is summed up by the **catalog
version** (:mod:`app.data.catalog_version`, migration 0008), which changes in the same
transaction as any product, category or synonym change. So each response is kept under

    version + rendering kind + path + canonical query (pairs sorted by name, re-encoded)

and a request first reads the version - one autocommit statement, before any data - and looks
for its key. A change committed after that read can only put *newer* data under the older key;
a request that read the new version never finds an older page. An editor's save is therefore on
the very next shopper request, whichever worker or host answers it.

* **Only anonymous requests** (no session cookie, no ``Authorization``) are looked up, and only a
  ``200`` is kept that sets no cookie and whose rendering never touched the session (``base.html``
  renders nothing per user; a template that did - a CSRF token, an account link - would read the
  session and so not be kept). Signed-in editors always get a fresh rendering.
* **Where**: Redis when ``REDIS_URL`` is set, shared by every worker and host (each entry
  expires after ``RESPONSE_CACHE_TTL`` seconds, since old versions are never asked for again;
  Redis's own ``maxmemory`` policy bounds the total). Without Redis, each worker keeps an LRU of
  at most ``RESPONSE_CACHE_BYTES``, of the two catalog versions it saw last (older entries can
  never be asked for again, see :class:`MemoryStore`). Responses above
  ``RESPONSE_CACHE_MAX_ENTRY`` bytes are not kept. If Redis fails, responses are served
  uncached (one log line per outage, Redis retried after :data:`REDIS_RETRY_SECONDS`), never an
  error.
* **ETag / 304**: a kept response carries ``ETag: W/"<key digest>"`` and ``Cache-Control:
  no-cache`` (a browser revalidates each time); a request whose ``If-None-Match`` names the
  current key gets ``304`` without any rendering or cache read.
* ``VITRINE_RESPONSE_CACHE=0`` turns it off (no version read either), for measuring with and
  without. Hits, misses and 304s are counted in ``vitrine_response_cache_total``.

Attached to a blueprint with :func:`cache_blueprint` (the catalog's): its ``before_request``
answers hits, its ``after_request`` keeps misses. Blueprint ``after_request`` hooks run before
the app's, so what is kept is the view's own response; the app's hooks (security headers,
``Vary``) run again on every hit.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import threading
import time
import weakref
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, g, request
from flask.globals import request_ctx
from flask.sansio.app import App

from ..data.catalog_version import current_catalog_version
from ..ops.metrics import RESPONSE_CACHE
from .htmx import is_htmx

log = logging.getLogger("vitrine.response_cache")

EXTENSION_KEY = "vitrine_response_cache"
_KEY = "_vitrine_cache_key"
_HIT = "_vitrine_cache_hit"
#: How many retired catalog versions a worker remembers (:class:`MemoryStore`).
RETIRED_VERSIONS = 64
#: Seconds Redis is left alone after it failed.
REDIS_RETRY_SECONDS = 5.0
#: Seconds one Redis command may take.
REDIS_TIMEOUT = 0.25
#: Response headers never kept (set again per response, or per client).
_NOT_KEPT = frozenset({"set-cookie", "content-length", "x-request-id", "date"})


@dataclass(frozen=True)
class CachedResponse:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    @property
    def size(self) -> int:
        return len(self.body) + sum(len(k) + len(v) for k, v in self.headers) + 64

    def dumps(self) -> bytes:
        """Status and headers as one JSON line, then the body (no pickle: Redis is not
        trusted with code)."""
        return json.dumps([self.status, self.headers]).encode() + b"\n" + self.body

    @classmethod
    def loads(cls, data: bytes) -> CachedResponse:
        head, _, body = data.partition(b"\n")
        status, headers = json.loads(head)
        return cls(int(status), tuple((str(k), str(v)) for k, v in headers), body)

    def to_response(self) -> Response:
        return Response(self.body, status=self.status, headers=list(self.headers))


class Store(Protocol):
    async def get(self, version: str, key: str) -> CachedResponse | None: ...

    async def set(self, version: str, key: str, value: CachedResponse) -> None: ...


class MemoryStore:
    """A worker's LRU of responses, bounded by their bytes, holding only the catalog versions
    still asked for.

    A key includes its catalog version, and a request that has read a version never asks for
    an older one, so once the version changes the older entries are dead weight: under editors
    saving every few seconds, an LRU bounded only by bytes filled its whole budget with them
    (the load test's workers grew by the full 64 MB at a 1% hit ratio). Entries are therefore
    kept only for the :data:`KEPT_VERSIONS` most recently seen versions - two, not one, so that
    requests just after a change still find the pages kept just before it."""

    #: Catalog versions whose entries are kept (the most recently seen).
    KEPT_VERSIONS = 2

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self._entries: OrderedDict[str, tuple[str, CachedResponse]] = OrderedDict()
        self._versions: list[str] = []  # the newest (first seen last) first
        #: versions retired lately, so that seeing one again does not revive it
        self._retired_order: deque[str] = deque(maxlen=RETIRED_VERSIONS)
        self._retired: set[str] = set()
        self._lock = threading.Lock()  # the test client's loop thread and a test's loop

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, version: str, key: str) -> CachedResponse | None:
        with self._lock:
            self._saw(version)
            kept = self._entries.get(key)
            if kept is None:
                return None
            self._entries.move_to_end(key)
            return kept[1]

    async def set(self, version: str, key: str, value: CachedResponse) -> None:
        if value.size > self.max_bytes:
            return
        with self._lock:
            if version not in self._versions:
                return  # read before versions that have since been seen twice over: dead
            old = self._entries.pop(key, None)
            if old is not None:
                self.bytes -= old[1].size
            self._entries[key] = (version, value)
            self.bytes += value.size
            while self.bytes > self.max_bytes:
                _, (_, evicted) = self._entries.popitem(last=False)
                self.bytes -= evicted.size

    def _saw(self, version: str) -> None:
        """Note ``version``. A version never seen before becomes the newest; past
        :data:`KEPT_VERSIONS`, the oldest is retired and its entries dropped (one pass over the
        entries per catalog change). Versions are random values, not ordered, so "newest" means
        first seen last; a retired version seen again (a request that read it just before the
        change, a lagging replica) stays retired: it can neither push a newer version out nor
        keep pages."""
        if version in self._versions or version in self._retired:
            return
        self._versions.insert(0, version)
        if len(self._versions) <= self.KEPT_VERSIONS:
            return
        for retired in self._versions[self.KEPT_VERSIONS:]:
            if len(self._retired_order) == self._retired_order.maxlen:
                self._retired.discard(self._retired_order[0])
            self._retired_order.append(retired)
            self._retired.add(retired)
        del self._versions[self.KEPT_VERSIONS:]
        kept = set(self._versions)
        for key in [key for key, (entry_version, _) in self._entries.items()
                    if entry_version not in kept]:
            self.bytes -= self._entries.pop(key)[1].size


class RedisStore:
    """Responses in Redis, shared by every worker; a failure reads as a miss."""

    def __init__(self, url: str, ttl: int, prefix: str) -> None:
        self.url = url
        self.ttl = ttl
        self.prefix = f"{prefix}:page:"
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = (
            weakref.WeakKeyDictionary())
        self._down_until = 0.0

    def _client(self) -> Any:
        """The running loop's client (a connection belongs to the loop that opened it)."""
        from redis.asyncio import Redis

        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = self._clients[loop] = Redis.from_url(
                self.url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT)
        return client

    async def get(self, version: str, key: str) -> CachedResponse | None:
        """(``version`` is part of ``key``; old versions expire after the TTL.)"""
        if time.monotonic() < self._down_until:
            return None
        try:
            data = await self._client().get(self.prefix + key)
        except Exception as error:  # Redis down or slow: serve uncached
            self._failed(error)
            return None
        if data is None:
            return None
        try:
            return CachedResponse.loads(data)
        except (ValueError, TypeError):  # not ours, or cut short: a miss, and renewed below
            log.warning("an unreadable response cache entry in Redis was ignored")
            return None

    async def set(self, version: str, key: str, value: CachedResponse) -> None:
        if time.monotonic() < self._down_until:
            return
        try:
            await self._client().set(self.prefix + key, value.dumps(), ex=self.ttl)
        except Exception as error:
            self._failed(error)

    def _failed(self, error: BaseException) -> None:
        if self._down_until == 0.0 or time.monotonic() > self._down_until + REDIS_RETRY_SECONDS:
            log.error("the response cache's Redis failed (%r); serving uncached", error)
        self._down_until = time.monotonic() + REDIS_RETRY_SECONDS
        RESPONSE_CACHE.labels("error").inc()


class ResponseCache:
    """Looks responses up before a view runs and keeps the view's response after it."""

    def __init__(self, store: Store, *, max_entry: int, session_cookie: str) -> None:
        self.store = store
        self.max_entry = max_entry
        self.session_cookie = session_cookie
        self._pending: set[asyncio.Task[None]] = set()

    def cacheable_request(self) -> bool:
        return (request.method == "GET"
                and self.session_cookie not in request.cookies
                and "Authorization" not in request.headers)

    @staticmethod
    def key(version: str) -> str:
        """The key of the current request at catalog ``version`` (a hex digest)."""
        pairs = sorted(request.args.items(multi=True), key=lambda pair: pair[0])
        if is_htmx():  # the htmx headers a view may render differently for
            kind = ("htmx", request.headers.get("HX-Source", ""),
                    request.headers.get("HX-Target", ""))
        else:
            kind = ("page", "", "")
        material = "\x00".join((version, *kind, request.script_root, request.path,
                                urlencode(pairs)))
        return hashlib.sha256(material.encode("utf-8", "surrogateescape")).hexdigest()

    async def lookup(self) -> Response | None:
        """``before_request``: a kept response, a 304, or nothing (the view runs)."""
        if not self.cacheable_request():
            return None
        version = await current_catalog_version()
        key = self.key(version)
        setattr(g, _KEY, (version, key))
        etag = _etag(key)
        if request.if_none_match.contains_weak(etag):
            RESPONSE_CACHE.labels("not_modified").inc()
            setattr(g, _HIT, True)
            response = Response(status=304)
            _mark(response, etag)
            return response
        kept = await self.store.get(version, key)
        if kept is None:
            RESPONSE_CACHE.labels("miss").inc()
            return None
        RESPONSE_CACHE.labels("hit").inc()
        setattr(g, _HIT, True)
        return kept.to_response()

    def remember(self, response: Response) -> Response:
        """``after_request``: keep a response that may be shared, and mark it with its ETag."""
        looked_up: tuple[str, str] | None = g.get(_KEY)
        if looked_up is None or g.get(_HIT):
            return response
        version, key = looked_up
        if (response.status_code != 200 or response.is_streamed or response.direct_passthrough
                or "Set-Cookie" in response.headers or _session_was_read()
                or response.calculate_content_length() is None):
            return response
        body = response.get_data()
        if len(body) > self.max_entry:
            return response
        _mark(response, _etag(key))
        kept = CachedResponse(
            response.status_code,
            tuple((k, v) for k, v in response.headers.items() if k.lower() not in _NOT_KEPT),
            body,
        )
        task = asyncio.get_running_loop().create_task(self.store.set(version, key, kept))
        self._pending.add(task)  # kept in the background: the response is not delayed
        task.add_done_callback(self._pending.discard)
        return response


def looked_up_version() -> str | None:
    """The catalog version the response cache read for the current request (before any of its
    data), or None when it did not look the request up (signed in, not a GET, cache off).
    Whatever else the request derives from the catalog may be kept under it too."""
    looked_up: tuple[str, str] | None = g.get(_KEY)
    return None if looked_up is None else looked_up[0]


def _session_was_read() -> bool:
    """Whether anything in this request read or wrote the session (a CSRF token, a signed-in
    user): its response may then hold per-user content. Flask 3.1 marks the session accessed
    whenever its proxy is touched, so the flag is read from the request context directly
    (``tests/catalog/test_response_cache.py`` fails if this stops seeing it)."""
    opened = getattr(request_ctx._get_current_object(), "_session", None)  # type: ignore[attr-defined]
    return bool(getattr(opened, "accessed", True)) if opened is not None else False


def _etag(key: str) -> str:
    return key[:32]


def _mark(response: Response, etag: str) -> None:
    response.set_etag(etag, weak=True)
    response.headers["Cache-Control"] = "no-cache"


def init_app(app: App) -> ResponseCache | None:
    """Create the app's response cache (``None`` when ``RESPONSE_CACHE`` is off)."""
    config = app.config
    if not config["RESPONSE_CACHE"]:
        return None
    store: Store
    redis_url = config.get("REDIS_URL")
    if redis_url:
        store = RedisStore(redis_url, int(config["RESPONSE_CACHE_TTL"]),
                           str(config["RATELIMIT_KEY_PREFIX"]))
    else:
        store = MemoryStore(int(config["RESPONSE_CACHE_BYTES"]))
    cache = ResponseCache(store, max_entry=int(config["RESPONSE_CACHE_MAX_ENTRY"]),
                          session_cookie=str(config.get("SESSION_COOKIE_NAME") or "session"))
    app.extensions[EXTENSION_KEY] = cache
    return cache


def cache_blueprint(bp: Blueprint) -> None:
    """Serve ``bp``'s GET responses from the app's response cache (when it has one)."""

    async def lookup() -> Response | None:
        cache: ResponseCache | None = current_app.extensions.get(EXTENSION_KEY)
        return None if cache is None else await cache.lookup()

    def remember(response: Response) -> Response:
        cache: ResponseCache | None = current_app.extensions.get(EXTENSION_KEY)
        return response if cache is None else cache.remember(response)

    bp.before_request(lookup)
    bp.after_request(remember)


__all__ = ["CachedResponse", "MemoryStore", "RedisStore", "ResponseCache", "cache_blueprint",
           "init_app"]
