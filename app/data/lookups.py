"""One row by primary key, or a 404: the lookup every view that names a row in its URL needs.

It raises werkzeug's :class:`~werkzeug.exceptions.NotFound`, which the app's error handlers
render for the client (JSON for the API, the ``#messages`` region for htmx, a page otherwise),
so views do not repeat ``if row is None: abort(404, ...)``. Any view may use it (the editor's
product, category and user pages do).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.interfaces import ORMOption
from werkzeug.exceptions import NotFound

from .bounds import MAX_BIGINT

T = TypeVar("T")


async def get_or_404(session: AsyncSession, model: type[T], ident: int, *,
                     message: str | None = None, load: Sequence[ORMOption] = (),
                     fresh: bool = False, lock: bool = False) -> T:
    """The ``model`` row with primary key ``ident``, or :class:`NotFound` with ``message``
    (default "That <model> does not exist (any more).").

    ``load``: loader options (e.g. ``selectinload(Product.category)``); ``fresh``: reload it
    even if the session has it (``populate_existing``); ``lock``: ``SELECT ... FOR UPDATE``.
    An id outside ``1..bigint`` is a 404 without a query.
    """
    row = None
    if 1 <= ident <= MAX_BIGINT:
        row = await session.get(model, ident, options=load, populate_existing=fresh or lock,
                                with_for_update=lock)
    if row is None:
        raise NotFound(message or f"That {model.__name__.lower()} does not exist (any more).")
    return row
