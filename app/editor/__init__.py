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

bp = Blueprint("editor", __name__)

from . import bulk, categories, history, rows, users  # noqa: E402,F401
