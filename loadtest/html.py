"""Just enough HTML reading for the journeys: form fields, links, meta tags, row versions.

The journeys read what a browser would read (the CSRF meta tag, a row form's inputs, the
product links on a result page) with lxml's HTML parser. Not Beautiful Soup, which the tests
use: the load generator runs on the same machine as the server, and Beautiful Soup spent
about 30 ms of CPU on every 30-40 KB result page, more than the server spent answering it, so
the load measured the generator as much as the app (lxml: about 1 ms).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import lxml.html
from lxml.etree import ParserError

_PRODUCT_PATH = re.compile(r"^/products/([a-z0-9][a-z0-9-]*)$")
_ROW_ID = re.compile(r"^product-(\d+)$")


def _parse(html: str) -> lxml.html.HtmlElement | None:
    """The document or fragment ``html``, or None when there is no element in it."""
    try:
        return lxml.html.fromstring(html) if html.strip() else None
    except ParserError:  # only comments or whitespace
        return None


def form_fields(html: str) -> dict[str, str]:
    """The name -> value pairs a browser would submit from the inputs in ``html``: text-like
    inputs, checked boxes and radios, each select's selected (else first) option."""
    fields: dict[str, str] = {}
    root = _parse(html)
    if root is None:
        return fields
    for tag in root.xpath("//input | //select"):
        if not (name := tag.get("name")):
            continue
        if tag.tag == "select":
            options = tag.xpath(".//option")
            chosen = next((o for o in options if o.get("selected") is not None), None)
            chosen = chosen if chosen is not None else (options[0] if options else None)
            if chosen is not None:
                fields[name] = chosen.get("value", "")
            continue
        kind = tag.get("type", "text")
        if kind in ("checkbox", "radio"):
            if tag.get("checked") is not None:
                fields[name] = tag.get("value", "on")
        elif kind not in ("submit", "button", "file"):
            fields[name] = tag.get("value", "")
    return fields


def product_slugs(html: str) -> list[str]:
    """Slugs of the product detail links on a catalog page or fragment, in page order."""
    root = _parse(html)
    if root is None:
        return []
    slugs = []
    for href in root.xpath("//a/@href"):
        if match := _PRODUCT_PATH.match(urlsplit(str(href)).path):
            slugs.append(match.group(1))
    return list(dict.fromkeys(slugs))


def rows(html: str) -> dict[int, int]:
    """Product id -> version of every display row in an editor table or row fragment."""
    root = _parse(html)
    if root is None:
        return {}
    found = {}
    for row in root.xpath("//tr[@id and @data-version]"):
        if match := _ROW_ID.match(row.get("id", "")):
            found[int(match.group(1))] = int(row.get("data-version"))
    return found


def csrf_token(html: str) -> str | None:
    """The page's CSRF token: the meta tag htmx reads, else a form's hidden field."""
    root = _parse(html)
    if root is None:
        return None
    for token in root.xpath('//meta[@name="csrf-token"]/@content'):
        if token:
            return str(token)
    hidden = root.xpath('//input[@name="csrf_token"]/@value')
    return (str(hidden[0]) if hidden else "") or None
