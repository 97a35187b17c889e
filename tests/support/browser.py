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
