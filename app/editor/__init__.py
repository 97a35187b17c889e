"""The editors' workspace: inline table editing, bulk actions and history.

* :mod:`.rows` - the product table's rows (edit in place, create, delete, duplicate)
* :mod:`.conflicts` - the 409 that shows the editor's values beside the current ones
* :mod:`.table` - what the whole table renders (the table view and bulk actions redraw it)
* :mod:`.bulk` - bulk actions on selected or filtered rows
* :mod:`.history` - a product's history and restoring earlier versions
* :mod:`.categories`, :mod:`.users` - admin pages; :mod:`.synonyms` - search synonyms (editors)
* :mod:`.blueprint` - the blueprint and the id converters of its URLs
* :mod:`.listing` - filters and pages of the table; :mod:`.forms`, :mod:`.rendering` - helpers

Every route checks the role on the server (:mod:`app.auth.access`); the views hold no SQL:
products, categories and users are read and written through :mod:`app.data` (the product
service :mod:`app.data.products`, :mod:`app.data.categories`, :mod:`app.data.users`).
"""

from . import bulk, categories, history, rows, synonyms, users  # noqa: F401 - they register the routes
from .blueprint import bp

__all__ = ["bp"]
