"""The editor table's filter as a CSV file, streamed (``/editor/products/export.csv``).

The same query-string filters as the table (:class:`~.listing.EditorFilters`; the page is
ignored: every matching product is exported, in id order). Rows come from a server-side cursor
(:func:`~.listing.stream_matching`) and leave as ~32 KB chunks of CSV as they are read
(:func:`app.web.streaming.streamed`): a worker exports a million rows at the memory of one
chunk, and a client that goes away stops the query. The format (columns, formula
neutralisation) is :mod:`app.data.csv_format`'s, the one the import reads.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

from flask import request
from flask.typing import ResponseReturnValue

from ..auth.access import editor_required
from ..catalog.tree import CategoryTree, load_category_tree
from ..data.csv_format import Chunker, product_cells
from ..data.database import get_session
from ..web.streaming import streamed
from .blueprint import bp
from .listing import EditorFilters, stream_matching


def category_path(tree: CategoryTree, category_id: int) -> str:
    """The category's slugs from the root, joined by ``/`` (empty for an unknown id)."""
    node = tree.nodes.get(category_id)
    if node is None:
        return ""
    return "/".join([*(parent.slug for parent in tree.ancestors(node)), node.slug])


async def csv_chunks(filters: EditorFilters) -> AsyncIterator[bytes]:
    """The export's bytes, a chunk at a time (the header row even when nothing matches).

    The session is taken here, while the body streams: the view's own session is closed when
    the view returns, and this one at the end of the stream (:mod:`app.web.streaming`)."""
    session = await get_session()
    tree = await load_category_tree(session)
    paths: dict[int, str] = {}
    chunker = Chunker()
    async for row in stream_matching(session, filters):
        category_id = row["category_id"]
        path = paths.get(category_id)
        if path is None:
            path = paths[category_id] = category_path(tree, category_id)
        chunk = chunker.add(product_cells(row, path))
        if chunk is not None:
            yield chunk
    yield chunker.take()


@bp.get("/products/export.csv")
@editor_required
async def export_csv() -> ResponseReturnValue:
    filters = EditorFilters.from_args(request.args)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return streamed(csv_chunks(filters), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="products-{stamp}.csv"',
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    })
