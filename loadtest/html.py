"""Just enough HTML reading for the journeys: form fields, links, meta tags, row versions.

The journeys read what a browser would read (the CSRF meta tag, a row form's inputs, the
product links on a result page), with the standard library's parser, so the load generator
needs nothing beyond Locust.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_PRODUCT_LINK = re.compile(r'href="/products/([a-z0-9][a-z0-9-]*)"')
_ROW = re.compile(r'<tr id="product-(\d+)"[^>]*?data-version="(\d+)"', re.S)
_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


class _Fields(HTMLParser):
    """Collects the values a browser would submit: inputs, checked boxes, selected options."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.fields: dict[str, str] = {}
        self._select: str | None = None
        self._first_option: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields[name] = a.get("value", "on")
            elif kind not in ("submit", "button", "file"):
                self.fields[name] = a.get("value", "")
        elif tag == "select" and name:
            self._select, self._first_option = name, None
        elif tag == "option" and self._select:
            value = a.get("value", "")
            if self._first_option is None:
                self._first_option = value
            if "selected" in a:
                self.fields[self._select] = value

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select:
            if self._select not in self.fields and self._first_option is not None:
                self.fields[self._select] = self._first_option
            self._select = None


def form_fields(html: str) -> dict[str, str]:
    """The name -> value pairs a browser would submit from the inputs in ``html``."""
    parser = _Fields()
    parser.feed(html)
    return parser.fields


def product_slugs(html: str) -> list[str]:
    """Slugs of the product detail links on a catalog page or fragment, in page order."""
    return list(dict.fromkeys(_PRODUCT_LINK.findall(html)))


def rows(html: str) -> dict[int, int]:
    """Product id -> version of every display row in an editor table or row fragment."""
    return {int(pid): int(version) for pid, version in _ROW.findall(html)}


def csrf_token(html: str) -> str | None:
    """The page's CSRF token: the meta tag htmx reads, else a form's hidden field."""
    if match := _META.search(html):
        return match.group(1)
    return form_fields(html).get("csrf_token") or None
