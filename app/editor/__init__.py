"""The editors' workspace: inline table editing, bulk actions and history.

* :mod:`.rows` - the product table and its rows (edit in place, create, delete, duplicate)
* :mod:`.bulk` - bulk actions on selected or filtered rows
* :mod:`.history` - a product's history and restoring earlier versions
* :mod:`.categories`, :mod:`.users` - admin pages
* :mod:`.listing` - filters and pages of the table; :mod:`.forms`, :mod:`.rendering` - helpers

Every route checks the role on the server (:mod:`app.auth.access`); all writes go through the
product service (:mod:`app.data.products`).
"""

from flask import Blueprint
from werkzeug.routing import IntegerConverter

bp = Blueprint("editor", __name__)


class Id64(IntegerConverter):
    """A positive ``bigint`` id in a URL; anything larger is a 404, never a database error."""

    def __init__(self, map, *args, **kwargs) -> None:  # noqa: A002 - Werkzeug's signature
        super().__init__(map, min=1, max=2**63 - 1)


class Id32(IntegerConverter):
    """A positive ``integer`` id (categories, users)."""

    def __init__(self, map, *args, **kwargs) -> None:  # noqa: A002
        super().__init__(map, min=1, max=2**31 - 1)


@bp.record_once
def _add_converters(state) -> None:  # before the routes below are added to the URL map
    state.app.url_map.converters.setdefault("id64", Id64)
    state.app.url_map.converters.setdefault("id32", Id32)


from . import bulk, categories, history, rows, users  # noqa: E402,F401
