"""The shopper catalog: search, facets, sorting and pages at ``/products``.

Module map: :mod:`.query` (the filter -> SQL query layer, shared with the editor and the API),
:mod:`.facets` (facet counts, totals, price range), :mod:`.search` (highlighting, "Did you
mean"), :mod:`.params` (URL parameters in and out), :mod:`.listing` (one result page, pagination)
and :mod:`.views` (the two routes and their renderings). Schema support (the precomputed facet
ledger, the vocabulary, one index) is migration ``0002_catalog``; ``python -m bench.catalog_sql``
measures the SQL of a search response.
"""

from flask import Blueprint

bp = Blueprint("catalog", __name__)

from . import views  # noqa: E402,F401
