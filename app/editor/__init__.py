"""The editors' workspace: inline table editing, bulk actions and history.

* :mod:`.rows` - the product table's rows (edit in place, create, delete, duplicate)
* :mod:`.conflicts` - what a save merged with, and the 409 that asks about the fields both
  sides changed (field-level merge, :mod:`app.data.merge`)
* :mod:`.table` - what the whole table renders (the table view and bulk actions redraw it)
* :mod:`.bulk` - bulk actions on selected or filtered rows; :mod:`.confirmations` - the signed
  confirmation of a large or destructive bulk action
* :mod:`.session_expiry` - a row save after the session ended: sign in again in the row
* :mod:`.export` - the table's filter as a streamed CSV file; :mod:`.imports` - CSV import
  (dry run, then applied as a job)
* :mod:`.jobs` - bulk changes running as background jobs: progress, cancel
* :mod:`.history` - a product's history and restoring earlier versions
* :mod:`.images` - a product's images: upload (checked, metadata stripped), alt text, order
* :mod:`.presence` - "ana@example.com is editing" (heartbeat, end, the badge);
  :mod:`.presence_sweep` ends presences whose heartbeat stopped; :mod:`.live_changes` - what
  colleagues changed in a row this editor has open; :mod:`.live_feed` - what the editors' side
  puts into the change feed
* :mod:`.categories`, :mod:`.users` - admin pages; :mod:`.synonyms` - search synonyms (editors)
* :mod:`.blueprint` - the blueprint and the id converters of its URLs
* :mod:`.listing` - filters and pages of the table; :mod:`.forms`, :mod:`.rendering` - helpers

Every write view is applied at most once (:func:`app.web.commands.once` and its one-time
command key). Every route checks the role on the server (:mod:`app.auth.access`); the views
hold no SQL: products, categories and users are read and written through :mod:`app.data` (the
product service :mod:`app.data.products`, :mod:`app.data.categories`, :mod:`app.data.users`).
"""

from . import (  # noqa: F401 - they register the routes
    bulk,
    categories,
    export,
    history,
    images,
    imports,
    jobs,
    live,
    live_changes,
    presence,
    row_urls,
    rows,
    session_expiry,
    synonyms,
    users,
)
from .blueprint import bp

__all__ = ["bp"]
