"""The shopper catalog: search, facets, sorting and pages at ``/products``.

Module map, each importing only the ones before it: :mod:`.tree` (the category tree),
:mod:`.sql` (EXPLAIN estimates, planner settings), :mod:`.filters` (a filter's shape, values
and WHERE), :mod:`.ordering` (sorts, keysets, cursors), :mod:`.ledger` (the precomputed facet
counts), :mod:`.page_query` (a page of products, the total) - the query layer shared with the
editor and the API -, :mod:`.facets` (facet counts, price range), :mod:`.facet_memo` (the
counts each worker keeps per filter, under the response cache's catalog version), :mod:`.search`
(highlighting, "Did you mean"), :mod:`.listing_query` (the listing query model every surface
parses into), :mod:`.params` (the shopper's URL parameters in and out), :mod:`.listing` (one
result page, pagination) and :mod:`.views` (the two routes and their renderings);
:mod:`.suggest` and :mod:`.suggest_view` answer the search box's suggestions
(``/products/suggest``). Schema
support (the precomputed facet ledger, the vocabulary, one index) is migration
``0002_catalog``; ``python -m bench.catalog_sql`` measures the SQL of a search response.

:mod:`.blueprint` holds the blueprint and its search rate limit; importing the package
registers the routes on it.
"""

from . import suggest_view, views  # noqa: F401 - register the routes on bp
from .blueprint import bp

__all__ = ["bp"]
