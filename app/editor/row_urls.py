"""A product row's URLs, built by Werkzeug once per request and endpoint, not once per row.

The editors' table renders 15 URLs per row (edit, save stock, show/hide, duplicate, images,
history...) for up to 100 rows, and ``url_for`` costs tens of microseconds each: a third of the
table's rendering time went to building URLs that differ only in the product id. The row
template gets them all from one ``row_links(product_id, back)`` call per row (``row_url`` for
one URL elsewhere): the first call of a request for an endpoint and set of values builds the
URL with a marker id through ``url_for`` (so routes, the script root and the converters are
Flask's as ever) and keeps the text around the id; later calls put the row's id in between.
Only the path's id segment is replaced, never the query string.
"""

from __future__ import annotations

from typing import Any

from flask import g, url_for

from .blueprint import bp

#: An id no product has in practice; what matters is that the built path contains it once.
_MARKER = 8_765_432_109_876_543
_MARKER_TEXT = str(_MARKER)
_CACHE = "_vitrine_row_urls"


def _split(endpoint: str, values: dict[str, Any]) -> tuple[str, str] | None:
    """(text before the id, text after it) of ``endpoint``'s URL, or None if the id is not one
    path segment of it (then every row goes through ``url_for``)."""
    built = url_for(endpoint, product_id=_MARKER, **values)
    path, mark, query = built.partition("?")
    if path.count(_MARKER_TEXT) != 1:
        return None
    head, _, tail = path.partition(_MARKER_TEXT)
    return head, tail + mark + query


Key = tuple[str, tuple[tuple[str, Any], ...]]


def _url(cache: dict[Key, tuple[str, str] | None], key: Key, product_id: int) -> str:
    if key not in cache:
        cache[key] = _split(key[0], dict(key[1]))
    parts = cache[key]
    if parts is None or not isinstance(product_id, int) or isinstance(product_id, bool):
        return url_for(key[0], product_id=product_id, **dict(key[1]))
    return f"{parts[0]}{product_id}{parts[1]}"


def row_url(endpoint: str, product_id: int, **values: Any) -> str:
    """``url_for(endpoint, product_id=product_id, **values)``, built once per request for all
    ids (template global)."""
    return _url(g.setdefault(_CACHE, {}), (endpoint, tuple(sorted(values.items()))), product_id)


class RowLinks:
    """Every URL of one display row (``partials/editor/row.html``)."""

    __slots__ = ("edit", "edit_page", "live_row", "stock", "active", "duplicate", "delete",
                 "images", "image_form", "history")

    #: attribute -> (endpoint, values), for the attributes that do not depend on ``back``
    FIXED: dict[str, Key] = {
        "edit": ("editor.edit_row", ()),
        "live_row": ("editor.row", (("live", 1),)),
        "stock": ("editor.set_stock", ()),
        "active": ("editor.set_active", ()),
        "duplicate": ("editor.duplicate", ()),
        "delete": ("editor.deactivate", (("_method", "POST"),)),
        "images": ("editor.images", ()),
        "image_form": ("editor.row_image_form", ()),
        "history": ("editor.history", ()),
    }

    def __init__(self, product_id: int, back: str | None) -> None:
        cache = g.setdefault(_CACHE, {})
        for name, key in self.FIXED.items():
            setattr(self, name, _url(cache, key, product_id))
        #: the edit page (without scripts), which returns to the list the editor was on
        self.edit_page = _url(cache, ("editor.edit_row", (("next", back),)), product_id)


bp.add_app_template_global(row_url, "row_url")
bp.add_app_template_global(RowLinks, "row_links")
