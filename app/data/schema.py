"""Which parts of the schema the models do not describe, for Alembic's autogenerate.

Some tables are created by hand-written migrations and kept up to date by triggers (the facet
ledger, the search vocabulary, the category tree's and the catalog's version stamps). No model
declares them, so a plain ``flask db migrate`` would propose dropping them. ``migrations/env.py``
and the drift test both use :func:`include_object`, so the rule lives here once.
"""

from __future__ import annotations

from typing import Any

#: Tables created by migrations and maintained by triggers, never by the ORM.
TRIGGER_MAINTAINED = frozenset({"catalog_facet_counts", "catalog_facet_pairs", "catalog_words",
                                "catalog_lexemes", "category_tree_version",
                                "catalog_version", "catalog_version_pending"})


#: Tables of the job queue library (procrastinate, migration 0009): its schema, not our models.
LIBRARY_PREFIX = "procrastinate_"


def _ours(table_name: str | None) -> bool:
    return table_name not in TRIGGER_MAINTAINED and not (table_name or "").startswith(
        LIBRARY_PREFIX)


def include_object(obj: Any, name: str | None, type_: str, reflected: bool,
                   compare_to: Any) -> bool:
    """Alembic's ``include_object`` hook: leave trigger-maintained tables and the job queue's
    own tables, and their indexes, columns and constraints, out of autogenerate's comparison."""
    if type_ == "table":
        return _ours(name)
    table = getattr(obj, "table", None)
    return _ours(getattr(table, "name", None))
