"""The product write service: the one place products are created and changed.

Shared by the editor (inline table, bulk actions, history) and the JSON API, so that both
validate the same way, guard against lost updates the same way and record history the same way.

One job per module, imports only downwards:

* :mod:`.errors` - why a write was refused; :mod:`.results` - :class:`Saved` / :class:`Conflict`
* :mod:`.validation` - the input models (:class:`ProductCreate`, :class:`ProductUpdate`) and
  their messages, used by the API (strict, JSON) and the editor's forms (lax, strings)
* :mod:`.loading` - one product, fresh or locked
* :mod:`.writes` - create, update, soft delete and undo, duplicate, restore
* :mod:`.bulk` - one action over many rows in one statement

Transactions: these functions *flush* but never *commit*. The caller owns the transaction (one
per user action): ``await session.commit()`` after a successful result, or roll back. A raised
error leaves nothing of that call behind once the caller rolls back; :func:`bulk_update` even
undoes its own work (savepoint) before raising, so the session stays usable.

Results of a versioned change (:func:`update_product`, :func:`deactivate_product`,
:func:`reactivate_product`, :func:`restore_version`) are either

* :class:`Saved` - ``product`` is the row after the change (category loaded), ``changes`` the
  recorded ``{field: {"before", "after"}}`` (empty when the values were already as asked: then
  no revision is written and the version does not move), or
* :class:`Conflict` - someone changed the row since ``expected_version``; ``current`` is the row
  as it is now (category loaded). Nothing was written. The API answers 412, the editor 409.

A product that does not exist raises :class:`ProductNotFound`; invalid input raises
:class:`ProductValidationError` whose ``errors`` maps field names to messages meant for people.

Input is a :class:`ProductCreate` / :class:`ProductUpdate` already validated at the edge, or a
mapping with the same keys (parsed lax here; see :mod:`.validation` for keys and bounds).
``attributes`` merges: keys not given are kept, None or "" removes one. A creation may name its
``slug=`` (lowercase words joined by ``-``, unique); without it one is made from the name
(``-2``, ``-3``... when taken).

Every change writes a :class:`~app.data.models.ProductRevision` with ``user_id`` (None for
system changes), ``source`` (one of :data:`~app.data.revisions.SOURCES`: ``create``,
``inline``, ``bulk``, ``api``, ``restore``, ``duplicate``, ``cli``) and the new ``version``.

Functions (all ``async``; ``session`` is an ``AsyncSession``):

* ``get_product(session, id) -> Product | None``
* ``create_product(session, data, *, user_id, source="create", slug=None) -> Product``
* ``update_product(session, id, data, *, expected_version, user_id, source, merge=False,
  keep_mine=()) -> Saved | Conflict`` (``merge``: field-level three-way merge, see :mod:`.writes`)
* ``deactivate_product(session, id, *, expected_version, user_id, source)`` (soft delete) and
  ``reactivate_product(...)`` (undo) ``-> Saved | Conflict``
* ``duplicate_product(session, id, *, user_id, source="duplicate") -> Product``
* ``restore_version(session, id, *, to_version, expected_version, user_id, merge=False,
  fields=None) -> Saved | Conflict``
* ``bulk_update(session, ids, BulkAction(...), *, user_id, source="bulk") -> BulkResult``
"""

from .bulk import BulkAction, BulkResult, bulk_update
from .errors import BulkError, ProductNotFound, ProductValidationError, RestoreError
from .loading import WITH_CATEGORY, get_product
from .results import Conflict, MergedChange, Saved, UpdateResult
from .validation import (
    ATTRIBUTE_KEYS,
    Attributes,
    ProductCreate,
    ProductUpdate,
    parse_create,
    parse_update,
)
from .writes import (
    create_product,
    deactivate_product,
    duplicate_product,
    reactivate_product,
    restore_version,
    update_product,
)

__all__ = [
    "ATTRIBUTE_KEYS", "Attributes", "BulkAction", "BulkError", "BulkResult", "Conflict",
    "MergedChange", "ProductCreate", "ProductNotFound", "ProductUpdate",
    "ProductValidationError", "RestoreError", "Saved", "UpdateResult", "WITH_CATEGORY",
    "bulk_update", "create_product",
    "deactivate_product", "duplicate_product", "get_product", "parse_create", "parse_update",
    "reactivate_product", "restore_version", "update_product",
]
