"""The products table as a whole: what the table region and the products page render. The
table view (:mod:`.rows`) and a finished bulk action (:mod:`.bulk`) both redraw it."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..catalog.tree import load_category_tree
from ..data.categories import category_choices
from .forms import BulkForm
from .listing import SORTS, STATUSES, STOCKS, EditorFilters, list_products

PAGE = "editor/products.html"
REGION = "partials/editor/table.html"


async def table_context(session: AsyncSession, filters: EditorFilters) -> dict[str, Any]:
    """Everything the table region and the products page render."""
    tree = await load_category_tree(session)
    return {"filters": filters, "page": await list_products(session, filters, tree),
            "tree": tree, "categories": await category_choices(session), "sorts": SORTS,
            "statuses": STATUSES, "stocks": STOCKS, "bulk_actions": BulkForm.ACTIONS}
