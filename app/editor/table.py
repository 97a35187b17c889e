"""The products table as a whole: what the table region and the products page render. The
table view (:mod:`.rows`) and a finished bulk action (:mod:`.bulk`) both redraw it.

Counts are worded by the shopper catalog's own
:func:`~app.catalog.page_context.count_text` ("1,234", or "about 100,000" for an estimate), so
both sides say the same thing about the same set.
"""

from __future__ import annotations

from typing import Any

from flask import url_for
from sqlalchemy.ext.asyncio import AsyncSession

from ..catalog.page_context import count_text
from ..catalog.tree import load_category_tree
from ..data.categories import category_choices
from .forms import BulkForm
from .listing import SORTS, STATUSES, STOCKS, EditorFilters, list_products
from .presence import editors_of

PAGE = "editor/products.html"
REGION = "partials/editor/table.html"
#: How many selected rows the browser keeps across pages (the bulk form carries them).
MAX_SELECTION = 500


def list_url(filters: EditorFilters, **changes: Any) -> str:
    """The table's URL for ``filters`` (with ``changes``): links, ``next`` of the edit page."""
    return url_for("editor.products", **filters.args(**changes))


async def table_context(session: AsyncSession, filters: EditorFilters) -> dict[str, Any]:
    """Everything the table region and the products page render."""
    tree = await load_category_tree(session)
    page = await list_products(session, filters, tree)
    presence = await editors_of(session, [product.id for product in page.items])
    return {"filters": filters, "page": page, "count_text": count_text, "presence": presence,
            "list_url": lambda **changes: list_url(filters, **changes),
            "here": list_url(filters, page=page.page), "max_selection": MAX_SELECTION,
            "tree": tree, "categories": await category_choices(session), "sorts": SORTS,
            "statuses": STATUSES, "stocks": STOCKS, "bulk_actions": BulkForm.ACTIONS}
