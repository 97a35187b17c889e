"""Just enough HTML reading for the journeys: form fields, links, meta tags, row versions.

The journeys read what a browser would read (the CSRF meta tag, a row form's inputs, the
product links on a result page) with Beautiful Soup, the parser the tests use too.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from bs4 import BeautifulSoup, Tag

_PRODUCT_PATH = re.compile(r"^/products/([a-z0-9][a-z0-9-]*)$")
_ROW_ID = re.compile(r"^product-(\d+)$")


def _parse(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


def _attr(tag: Tag, name: str, default: str = "") -> str:
    value = tag.get(name)
    if value is None:
        return default
    return " ".join(value) if isinstance(value, list) else value


def form_fields(html: str) -> dict[str, str]:
    """The name -> value pairs a browser would submit from the inputs in ``html``: text-like
    inputs, checked boxes and radios, each select's selected (else first) option."""
    fields: dict[str, str] = {}
    for tag in _parse(html).find_all(["input", "select"]):
        if not isinstance(tag, Tag) or not (name := _attr(tag, "name")):
            continue
        if tag.name == "select":
            options = [option for option in tag.find_all("option") if isinstance(option, Tag)]
            chosen = next((o for o in options if o.has_attr("selected")), None)
            chosen = chosen or (options[0] if options else None)
            if chosen is not None:
                fields[name] = _attr(chosen, "value")
            continue
        kind = _attr(tag, "type", "text")
        if kind in ("checkbox", "radio"):
            if tag.has_attr("checked"):
                fields[name] = _attr(tag, "value", "on")
        elif kind not in ("submit", "button", "file"):
            fields[name] = _attr(tag, "value")
    return fields


def product_slugs(html: str) -> list[str]:
    """Slugs of the product detail links on a catalog page or fragment, in page order."""
    slugs = []
    for link in _parse(html).find_all("a", href=True):
        path = urlsplit(_attr(link, "href")).path if isinstance(link, Tag) else ""
        if match := _PRODUCT_PATH.match(path):
            slugs.append(match.group(1))
    return list(dict.fromkeys(slugs))


def rows(html: str) -> dict[int, int]:
    """Product id -> version of every display row in an editor table or row fragment."""
    found = {}
    for row in _parse(html).find_all("tr", id=_ROW_ID, attrs={"data-version": True}):
        if isinstance(row, Tag) and (match := _ROW_ID.match(_attr(row, "id"))):
            found[int(match.group(1))] = int(_attr(row, "data-version"))
    return found


def csrf_token(html: str) -> str | None:
    """The page's CSRF token: the meta tag htmx reads, else a form's hidden field."""
    soup = _parse(html)
    meta = soup.find("meta", attrs={"name": "csrf-token"})
    if isinstance(meta, Tag) and (token := _attr(meta, "content")):
        return token
    hidden = soup.find("input", attrs={"name": "csrf_token"})
    return (_attr(hidden, "value") if isinstance(hidden, Tag) else "") or None
