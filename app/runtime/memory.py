"""Giving freed request bodies back to the operating system.

A body arrives in chunks of up to 64 KiB; glibc serves those from the heap, and freeing them
leaves the heap as large as it grew: hundreds of held bodies, once dropped, would keep the
worker's resident memory at its peak. After a large body is released the worker asks glibc to
return free heap pages (``malloc_trim``), at most once per :data:`TRIM_INTERVAL` seconds so a
burst of uploads costs few trims. Elsewhere than glibc this does nothing.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
from collections.abc import Callable

#: Freed body bytes from which a trim is worth it.
TRIM_THRESHOLD = 256 * 1024
#: Seconds between two trims at most.
TRIM_INTERVAL = 1.0


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


class Trimmer:
    """Coalesces requests to trim: the first runs as soon as the loop is free, later ones wait
    until :data:`TRIM_INTERVAL` has passed since the last trim (one call for a burst)."""

    def __init__(self) -> None:
        self._trim = _malloc_trim()
        self._pending = False
        self._last = float("-inf")

    def released(self, size: int) -> None:
        """``size`` bytes of request bodies were just freed."""
        if self._trim is None or self._pending or size < TRIM_THRESHOLD:
            return
        self._pending = True
        loop = asyncio.get_running_loop()
        loop.call_at(max(loop.time(), self._last + TRIM_INTERVAL), self._run)

    def _run(self) -> None:
        self._pending = False
        self._last = asyncio.get_running_loop().time()
        if self._trim is not None:
            self._trim(0)
