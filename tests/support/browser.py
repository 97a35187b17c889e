"""Playwright driving Debian's Chromium (never a downloaded browser)."""

from __future__ import annotations

import shutil
from typing import Any

from .clients import PASSWORD

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]


def sign_in(page: Any, base_url: str, email: str, next_: str = "/editor/products",
            password: str = PASSWORD) -> None:
    """Sign in through the form like a person (the browser's counterpart of
    :func:`tests.support.clients.sign_in`), and wait for the page ``next_`` leads to."""
    page.goto(f"{base_url}/auth/login?next={next_}")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{next_}")


class Requests:
    """The page's requests in flight, leaving out its event streams (an editor page keeps one
    open, so Playwright's ``networkidle`` never comes): ``settle()`` waits until the rest have
    all finished and none started for ``quiet_ms``, as ``networkidle`` does."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.pending: set[Any] = set()
        page.on("request", self._started)
        page.on("requestfinished", self._ended)
        page.on("requestfailed", self._ended)

    def _started(self, request: Any) -> None:
        if "text/event-stream" not in (request.headers.get("accept") or ""):
            self.pending.add(request)

    def _ended(self, request: Any) -> None:
        self.pending.discard(request)

    def settle(self, quiet_ms: int = 500, timeout_ms: int = 30_000) -> None:
        quiet = waited = 0
        while quiet < quiet_ms:
            if waited > timeout_ms:
                raise TimeoutError(f"requests still in flight: {[r.url for r in self.pending]}")
            self.page.wait_for_timeout(50)
            waited += 50
            quiet = quiet + 50 if not self.pending else 0
