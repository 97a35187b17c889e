"""The ``catalog`` blueprint, its search rate limit and its response cache. Views import it from
here (not from the package, which imports the views)."""

from __future__ import annotations

from flask import Blueprint

from ..web.limits import limit_blueprint
from ..web.response_cache import cache_blueprint

bp = Blueprint("catalog", __name__)
limit_blueprint(bp, "RATELIMIT_SEARCH", scope="search", methods=["GET"],
                endpoints={"catalog.index"})
cache_blueprint(bp)
