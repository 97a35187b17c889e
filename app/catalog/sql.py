"""SQL helpers of the catalog query layer that know no filter: the planner's row estimates (an
``EXPLAIN`` construct that caches like any statement), per-transaction planner settings and the
per-category ``unnest`` that lateral subqueries run over.

Imports only the models: the filters, the page query, the ledger and the facet counts build on
it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ClauseElement,
    ColumnElement,
    CompoundSelect,
    Executable,
    Integer,
    Select,
    TextClause,
    bindparam,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.visitors import InternalTraversal

from ..data import direct
from ..data.models import Product

__all__ = [
    "MAX_MERGED_CATEGORIES", "Explain", "estimate_rows", "estimates_statement", "per_category",
    "plan_freely", "run_estimates", "set_planner_settings",
]

#: Most categories walked one index range each (merged price order, price ranges).
MAX_MERGED_CATEGORIES = 40

_table = Product.__table__


async def set_planner_settings(session: AsyncSession, settings: dict[str, str], *,
                               restore_later: bool = False) -> None:
    """Planner settings for the rest of this transaction (``set_config(..., true)``), in one
    round trip. Names are ours (never user input); values are bound.

    ``restore_later``: the ``enable_*`` settings are meant for one statement only, but rather
    than a round trip of their own to switch them back on, the restore is left pending on the
    session: the next :func:`set_planner_settings` sends it in the same ``SELECT``, and
    :func:`plan_freely` - called by the query layer before any statement whose plan could
    change - sends it alone. A catalog page whose last planned statement is the page itself
    (highlighting reads no table) never sends it."""
    merged = {**session.info.pop(_RESTORE, {}), **settings}
    await direct.fetch(session, _set_config(tuple(merged)),
                       {f"v{i}": value for i, value in enumerate(merged.values())})
    if restore_later:
        restore = {name: "on" for name in settings if name.startswith("enable_")}
        if restore:
            session.info[_RESTORE] = restore


async def plan_freely(session: AsyncSession) -> None:
    """Send a restore :func:`set_planner_settings` left pending, if any (see there)."""
    pending = session.info.pop(_RESTORE, None)
    if pending:
        await set_planner_settings(session, pending)


#: ``session.info`` key of the planner settings waiting to be switched back on.
_RESTORE = "vitrine.catalog.planner_restore"


@lru_cache(maxsize=16)
def _set_config(names: tuple[str, ...]) -> TextClause:
    calls = ", ".join(f"set_config('{name}', :v{i}, true)" for i, name in enumerate(names))
    return text(f"SELECT {calls}")  # noqa: S608 - fixed names, bound values



def per_category(parameter: str) -> Any:
    """``unnest(:parameter) AS selected(category_id)``: one row per category id of an integer
    array parameter, to run a subquery per category with ``LATERAL`` - the same SQL for any
    number of categories."""
    return (func.unnest(bindparam(parameter, type_=ARRAY(Integer)))
            .table_valued("category_id").render_derived(name="selected"))


async def estimate_rows(session: AsyncSession, condition: ColumnElement[bool]) -> int:
    """The planner's row estimate for ``SELECT 1 FROM products WHERE condition`` (no scan)."""
    return (await run_estimates(session, estimates_statement([condition]), 1))[0]


def estimates_statement(clauses: Sequence[ColumnElement[bool]]) -> Explain:
    """One EXPLAIN of a UNION ALL of ``SELECT .. FROM products WHERE <clause>``: the planner's
    estimate of each clause's rows in one round trip (see :func:`run_estimates`)."""
    selects: list[Select[Any]] = [
        select(literal_column(str(i))).select_from(_table).where(c)
        for i, c in enumerate(clauses)]
    return Explain(selects[0] if len(selects) == 1 else selects[0].union_all(*selects[1:]))


async def run_estimates(session: AsyncSession, statement: Explain | direct.Prepared, count: int,
                        values: dict[str, Any] | None = None) -> list[int]:
    """The ``count`` row estimates of an :func:`estimates_statement`, run with ``values``."""
    await plan_freely(session)
    plan = await direct.scalar(session, statement, values or {})
    if isinstance(plan, str):
        plan = json.loads(plan)
    top = plan[0]["Plan"]
    if count == 1:
        return [int(top["Plan Rows"])]
    children = _append_children(top)
    if len(children) != count:  # pragma: no cover - a plan shape we did not expect
        return [int(top["Plan Rows"])] * count
    return [int(child["Plan Rows"]) for child in children]


class Explain(Executable, ClauseElement):
    """``EXPLAIN (FORMAT JSON) <statement>`` with the statement's bound parameters kept bound
    (``analyze=True`` runs it: for benchmarks).

    Cacheable like any statement (its cache key is the explained statement's and ``analyze``):
    every filtered search sends one, and an uncached construct is compiled anew each time."""

    inherit_cache = True
    _traverse_internals = [("statement", InternalTraversal.dp_clauseelement),
                           ("analyze", InternalTraversal.dp_boolean)]

    def __init__(self, statement: Select[Any] | CompoundSelect[Any], *,
                 analyze: bool = False) -> None:
        self.statement = statement
        self.analyze = analyze

    @property
    def _all_selected_columns(self) -> tuple[()]:
        # The plan is one text/json column that maps to none of the statement's columns;
        # a cached result's metadata is adapted through this.
        return ()


@compiles(Explain, "postgresql")
def _compile_explain(element: Explain, compiler: Any, **kw: Any) -> str:
    options = "ANALYZE, BUFFERS, FORMAT JSON" if element.analyze else "FORMAT JSON"
    return f"EXPLAIN ({options}) " + compiler.process(element.statement, **kw)


def _append_children(node: dict[str, Any]) -> list[dict[str, Any]]:
    while node.get("Node Type") != "Append" and node.get("Plans"):
        node = node["Plans"][0]
    return list(node.get("Plans", []))

