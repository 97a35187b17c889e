"""Reading HTML in tests the way a user sees it, with one parser: Beautiful Soup.

``parse`` gives an :class:`Element`, a thin view of a Beautiful Soup tag whose ``text`` is what
a reader sees (whitespace collapsed) and whose ``find``/``find_all`` take attributes as keyword
arguments (``class_`` matches one class, ``_`` stands for ``-``: ``hx_target="#x"``).
:func:`csrf_token` reads the token a browser would send (the meta tag htmx reads, else a form's
hidden field).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bs4 import BeautifulSoup, Tag


class Element:
    """One element of a parsed page."""

    def __init__(self, node: Tag) -> None:
        self.node = node

    @property
    def tag(self) -> str:
        return self.node.name

    @property
    def text(self) -> str:
        """The element's text as a reader sees it: words separated by single spaces."""
        return " ".join(self.node.get_text(" ").split())

    @property
    def html(self) -> str:
        return str(self.node)

    @property
    def attrs(self) -> dict[str, str]:
        """Every attribute, by name, as written."""
        return {name: value for name in self.node.attrs if (value := self.get(name)) is not None}

    def get(self, name: str) -> str | None:
        """Attribute ``name`` as written (a class list joined by spaces), or None."""
        value = self.node.get(name)
        if isinstance(value, list):
            return " ".join(value)
        return value

    def has(self, name: str) -> bool:
        return self.node.has_attr(name)

    def find_all(self, tag: str | None = None, /, **attrs: str) -> list[Element]:
        """Descendant ``tag`` elements (any if None) whose attributes equal ``attrs``."""
        return [Element(node) for node in self.node.find_all(tag, attrs=_attrs(attrs))
                if isinstance(node, Tag)]

    def find(self, tag: str | None = None, /, **attrs: str) -> Element | None:
        node = self.node.find(tag, attrs=_attrs(attrs))
        return Element(node) if isinstance(node, Tag) else None

    def by_id(self, element_id: str) -> Element:
        found = self.find(id=element_id)
        assert found is not None, f"no element with id {element_id!r}"
        return found

    def select(self, css: str) -> list[Element]:
        """Descendants matching the CSS selector ``css``."""
        return [Element(node) for node in self.node.select(css)]

    def iter(self) -> Iterator[Element]:
        for node in self.node.descendants:
            if isinstance(node, Tag):
                yield Element(node)

    def __repr__(self) -> str:
        return f"Element({self.html[:200]!r})"


def _attrs(attrs: dict[str, str]) -> dict[str, Any]:
    return {("class" if name == "class_" else name.replace("_", "-")): value
            for name, value in attrs.items()}


def parse(html: str | bytes) -> Element:
    """The whole document (or fragment) as an :class:`Element`."""
    if isinstance(html, bytes):
        html = html.decode()
    return Element(BeautifulSoup(html, "html.parser"))


def csrf_token(html: str | bytes | Element) -> str:
    """The CSRF token a browser would send from this page; fails the test if there is none."""
    root = html if isinstance(html, Element) else parse(html)
    meta = root.find("meta", name="csrf-token")
    hidden = root.find("input", name="csrf_token")
    token = (meta.get("content") if meta else None) or (hidden.get("value") if hidden else None)
    assert token, "no CSRF token on the page"
    return token
