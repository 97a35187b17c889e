"""``next`` after sign-in: only a path on this site, never another host."""

from __future__ import annotations

from urllib.parse import urlsplit


def safe_next(target: str | None, default: str) -> str:
    """``target`` if it is a local path (``/editor/products?q=x``), else ``default``.

    Refuses absolute URLs, scheme-relative ``//host`` and ``/\\host`` (browsers treat ``\\``
    as ``/``), anything with a scheme or host, and control characters.
    """
    if not target or len(target) > 2000:
        return default
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return default
    if not target.startswith("/") or target.startswith(("//", "/\\")) or "\\" in target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target
