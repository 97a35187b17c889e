"""The ``catalog`` blueprint, its search rate limit, its response cache and the facet counts
each worker keeps beside it. Views import it from here (not from the package, which imports the
views)."""

from __future__ import annotations

from flask import Blueprint

from ..web.limits import limit_blueprint
from ..web.response_cache import cache_blueprint
from .facet_memo import init_app as init_facet_memo

bp = Blueprint("catalog", __name__)
limit_blueprint(bp, "RATELIMIT_SEARCH", scope="search", methods=["GET"],
                endpoints={"catalog.index"})
cache_blueprint(bp)
bp.record_once(lambda state: init_facet_memo(state.app))
