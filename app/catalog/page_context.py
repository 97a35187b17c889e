"""What the catalog's templates are given: links, labels and the listing page's context.

Nothing here reads Flask's globals: the framework's ``url_for``, the currency symbol and the
request's ``HX-Source`` are passed in. The views (:mod:`.views`) pass Flask's; the benchmark's
Quart port (``bench/search_quart.py``) passes Quart's and so renders the very same context, which
keeps its byte-for-byte comparison with Vitrine true without a second copy of this code.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property, lru_cache, partial
from typing import Any

from markupsafe import Markup, escape

from ..data.models import Product
from . import listing
from .facets import FacetValue, PriceBand, round_significant
from .listing import CatalogPage
from .page_query import Card, Total
from .params import MULTI, PER_PAGE_CHOICES, CatalogParams, sort_choices
from .refine import Refinement

#: The ``HX-Source`` of the filter form: a request it made does not refresh the search box and
#: the price fields (that would lose the caret and keystrokes typed while it ran).
FORM_SOURCE = "form#catalog-form"
_PLAIN_SLUG = re.compile(r"[a-z0-9-]+")
FACET_LABELS = {"category": "Category", "brand": "Brand", "colour": "Colour", "size": "Size"}


def count_text(total: Total | int, approximate: bool = False) -> str:
    """"1,234", or "about 75,000" for an estimate."""
    if isinstance(total, Total):
        value, approximate = total.value, not total.exact
    else:
        value = total
    if approximate:
        return f"about {round_significant(value):,}"
    return f"{value:,}"


def stock_text(item: Product | Card) -> tuple[str, str]:
    """(label, css modifier) of a product's stock state."""
    if item.stock <= 0:
        return "Out of stock", "out"
    if item.stock <= 5:
        return f"Only {item.stock} left", "low"
    return "In stock", "in"


@lru_cache(maxsize=4096)
def input_id(facet: str, value: str) -> str:
    """A stable, valid id for a facet checkbox (htmx restores focus by id after a swap)."""
    slug = re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")[:40]
    digest = hashlib.sha1(value.encode(), usedforsecurity=False).hexdigest()[:6]
    return f"f-{facet}-{slug}-{digest}"


def count_markup(count: int, approximate: bool) -> str:
    """A facet value's or price band's count as its list shows it: "1,234", or for an estimate
    "~1,200" with "about" for screen readers (nothing is "about" 0)."""
    text = f"{count:,}"
    if approximate and count:
        return '<span class="visually-hidden">about </span>~' + text
    return text


def facet_item(name: str, value: FacetValue) -> Markup:
    """One facet value's list item (checkbox, label, count) for ``partials/catalog/facets.html``:
    the markup its ``facet_item`` macro wrote, byte for byte, without a macro call per value
    (a page lists a hundred values or more). Every value shown is escaped."""
    item_id = escape(input_id(name, value.value))
    count = count_markup(value.count, value.approximate)
    disabled = value.disabled
    return Markup(  # noqa: S704 - only our markup, the ids and counts, and escaped values
        f'\n<li class="facet-value depth-{value.depth}{" is-disabled" if disabled else ""}">\n'
        f'  <input type="checkbox" class="js-live-choice" id="{item_id}" name="{escape(name)}"'
        f' value="{escape(value.value)}"{" checked" if value.selected else ""}'
        f'{" disabled" if disabled else ""}>\n'
        f'  <label for="{item_id}">{escape(value.label)} <span class="count">{count}</span>'
        '</label>\n</li>')


def product_card(item: Card, name_html: Markup, url: str, picture: Markup | None, *,
                 money: Callable[[Decimal | None], str]) -> Markup:
    """One result card (``partials/catalog/results.html``): its link, image or letter tile,
    highlighted name, category and brand, price and stock - byte for byte what the template's
    inline card wrote, every value escaped. ``picture``: the card's image as the template's
    ``picture`` macro renders it (None: the letter tile; the macro is called by the template,
    so that an async Jinja environment - the benchmark's Quart port - awaits it)."""
    label, state = stock_text(item)
    if picture is not None:
        thumb = "\n      " + str(picture)
    else:
        initial = escape(str(item.brand or item.name)[:1])
        thumb = f'\n      <span class="product-thumb" aria-hidden="true">{initial}</span>'
    meta = escape(item.category.name) if item.category else Markup()
    if item.brand:
        meta += " · " + escape(item.brand)
    return Markup(  # noqa: S704 - only our markup, the ids, and escaped values
        f'\n  <li class="product-card">\n    <a class="product-link" href="{escape(url)}">'
        f'{thumb}\n      <span class="product-name">{escape(name_html)}</span>\n    </a>\n'
        f'    <span class="product-meta">{meta}</span>\n'
        f'    <span class="product-price live-price-{item.id}">{escape(money(item.price))}</span>\n'
        f'    <span class="stock stock-{escape(state)} live-stock-{item.id}">{escape(label)}'
        '</span>\n  </li>')


def price_band_item(band: PriceBand, top: int, *, approximate: bool,
                    band_url: Callable[[PriceBand], str],
                    money: Callable[[Decimal | None], str]) -> Markup:
    """One row of the price distribution (``partials/catalog/price_bands.html``): the band's
    label, a link to it when it holds matches, its count ("~" for an estimate) and its bar
    (``top``: the largest band's count; widths in 5% steps). What the template's loop wrote per
    band, without its expressions: a listing shows up to eight bands, and their labels, links
    and money formatting were a fifth of the page's rendering. Every value shown is escaped."""
    low = money(band.low).replace(".00", "")
    if band.low == 0:
        label = "Under " + money(band.high).replace(".00", "")
    elif band.high is None:
        label = f"{low} and over"
    else:
        label = f"{low} – {money(band.max_price)}"
    level = math.ceil(band.count / top * 20) if top else 0
    count = count_markup(band.count, approximate)
    if band.count:
        url = escape(band_url(band))
        head = f'<a class="band-label" href="{url}" hx-get="{url}">{escape(label)}</a>'
    else:
        head = f'<span class="band-label">{escape(label)}</span>'
    return Markup(  # noqa: S704 - only our markup, the counts, and escaped values
        f'\n  <li class="price-band">\n    {head}\n    <span class="count">{count}</span>\n'
        f'    <span class="band-bar w-{level}" aria-hidden="true"></span>\n  </li>')


@dataclass(frozen=True)
class CatalogLinks:
    """The catalog's URLs and prices, made with one framework's ``url_for``."""

    url_for: Callable[..., str]
    currency: str

    @cached_property
    def _index_url(self) -> str:
        # One url_for per page, not per link (a page renders dozens of list links).
        return self.url_for("catalog.index")

    def list_url(self, params: CatalogParams) -> str:
        query = params.query_string()
        return self._index_url + (f"?{query}" if query else "")

    def product_url(self, item: Product | Card, params: CatalogParams) -> str:
        query = params.query_string()
        return self.url_for("catalog.product", slug=item.slug) + (f"?{query}" if query else "")

    def category_url(self, slug: str) -> str:
        return self.list_url(CatalogParams(categories=(slug,)))

    def money(self, value: Decimal | None) -> str:
        return "" if value is None else f"{self.currency}{value:,.2f}"

    def product_urls(self, params: CatalogParams
                     ) -> Callable[[Product | Card, CatalogParams], str]:
        """:meth:`product_url` with this page's query string and the route's prefix built once,
        not a ``url_for`` per card: a slug of plain ``[a-z0-9-]`` (every slug the catalog makes)
        is the same in a URL, so it is appended; any other goes through ``url_for``."""
        query = params.query_string()
        suffix = f"?{query}" if query else ""
        probe = "x"
        prefix = self.url_for("catalog.product", slug=probe)[:-len(probe)]
        plain = _PLAIN_SLUG.fullmatch

        def url(item: Product | Card, item_params: CatalogParams) -> str:
            if item_params is not params:
                return self.product_url(item, item_params)
            if plain(item.slug):
                return prefix + item.slug + suffix
            return self.url_for("catalog.product", slug=item.slug) + suffix

        return url

    def chips(self, page: CatalogPage) -> list[tuple[str, str]]:
        """(label, URL without it) for every active filter."""
        params = page.params
        chips: list[tuple[str, str]] = []
        names = {node.slug: node.name for node in page.tree.nodes.values()}
        for name in MULTI:
            for value in params.values(name):
                label = names.get(value, value) if name == "category" else value
                chips.append((f"{FACET_LABELS[name]}: {label}",
                              self.list_url(params.without(name, value))))
        if params.min_price is not None:
            chips.append((f"From {self.money(params.min_price)}",
                          self.list_url(params.without("min_price"))))
        if params.max_price is not None:
            chips.append((f"Up to {self.money(params.max_price)}",
                          self.list_url(params.without("max_price"))))
        if params.in_stock:
            chips.append(("In stock only", self.list_url(params.without("in_stock"))))
        return chips

    def suggestion_url(self, page: CatalogPage) -> str | None:
        suggestion = page.suggestion
        if suggestion is None:
            return None
        if suggestion.keep_filters:
            return self.list_url(page.params.with_changes(q=suggestion.q))
        return self.list_url(CatalogParams(q=suggestion.q))

    def refinement_url(self, params: CatalogParams, refinement: Refinement) -> str:
        """The same search with the refinement's facet value ticked."""
        if refinement.facet == "category":
            return self.list_url(params.with_changes(
                categories=(*params.categories, refinement.value)))
        return self.list_url(params.with_changes(brands=(*params.brands, refinement.value)))


def page_context(page: CatalogPage, links: CatalogLinks, *, hx_source: str) -> dict[str, Any]:
    """The context of ``catalog/index.html`` and of its htmx update, for one listing page."""
    params = page.params
    pagination = page.pagination
    title = f"“{params.q}” · Products" if params.q else "Products"
    if pagination.page > 1:
        title += f" · page {pagination.page}"
    list_url = links.list_url
    page_url = _memo(lambda number: list_url(params.with_changes(page=number)))
    return {
        "catalog": page,
        "params": params,
        "facets": page.facets,
        "pagination": pagination,
        "page_title": f"{title} · Vitrine",
        "canonical_url": list_url(params),
        "chips": links.chips(page),
        "facet_labels": FACET_LABELS,
        "sort_choices": sort_choices(params),
        "selected_sort": params.sort.value if params.sort else "",
        "per_page_choices": PER_PAGE_CHOICES,
        "max_window": listing.MAX_RESULT_WINDOW,
        "refresh_fields": hx_source != FORM_SOURCE,
        "list_url": list_url,
        "product_url": links.product_urls(params),
        "page_url": page_url,
        "clear_url": list_url(params.cleared()),
        "all_url": links.url_for("catalog.index"),
        "suggestion_url": links.suggestion_url(page),
        "refinement_url": lambda refinement: links.refinement_url(params, refinement),
        "browse_url": links.category_url,
        "money": links.money,
        "count_text": count_text,
        "stock_text": stock_text,
        "input_id": input_id,
        "facet_item": facet_item,
        "product_card": partial(product_card, money=links.money),
        "price_band": partial(
            price_band_item, approximate=page.facets.bands_approximate, money=links.money,
            band_url=lambda band: list_url(params.with_changes(min_price=band.min_price,
                                                               max_price=band.max_price))),
    }


def _memo(function: Callable[[Any], str]) -> Callable[[Any], str]:
    """``function`` remembered for one page: a page writes each of its page links twice
    (``href`` and ``hx-get``), each a canonical query string to build."""
    known: dict[Any, str] = {}

    def remembered(argument: Any) -> str:
        found = known.get(argument)
        if found is None:
            found = known[argument] = function(argument)
        return found

    return remembered
