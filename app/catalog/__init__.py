"""The shopper catalog: search, facets, sorting and pages at ``/products``."""

from flask import Blueprint

bp = Blueprint("catalog", __name__)

from . import views  # noqa: E402,F401
