"""The live events' triggers turn each changed row into JSON once, not once per column.

Migration 0010's ``live_products_changed()`` (and ``live_categories_changed()``) lists the
columns an update changed by comparing the old and new rows as JSON: ``to_jsonb(o) -> key``
for every column of every row, inside the ``LATERAL jsonb_each`` - so the old row was turned
into JSON once per column (~20 times per product, its search vector included), and both rows
once more to find the changed rows. In an import's 1,500-row update that trigger took 120-135
ms of the statement's 600-990 ms (``EXPLAIN ANALYZE``, rolled back, three runs); with each
row's JSON made once, in a materialized CTE, 43-53 ms. The event is the same: the same ids,
versions and changed columns.

Downgrade restores migration 0010's functions.

Revision ID: 0020
Revises: 0019
"""
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

#: Columns derived from others or bumped on every write (migration 0010's list); the
#: generated ``facet_*`` columns are left out by name pattern.
IGNORED_COLUMNS = ("version", "updated_at", "created_at", "search_vector", "category_path",
                   "search_document", "search_text")

_CHANGED_KEYS = f"""e.key NOT IN ({", ".join(f"'{name}'" for name in IGNORED_COLUMNS)})
                   AND e.key NOT LIKE 'facet\\_%'"""

#: The changed rows' ids, versions and columns, each row turned into JSON once.
UPDATED_ONCE = """
            WITH pairs AS MATERIALIZED (
                SELECT n.id, {version} AS version,
                       to_jsonb(n) AS new_row, to_jsonb(o) AS old_row
                  FROM new_rows AS n JOIN old_rows AS o ON o.id = n.id
            ), changed AS MATERIALIZED (
                SELECT * FROM pairs WHERE new_row IS DISTINCT FROM old_row
            )
            SELECT (SELECT array_agg(c.id ORDER BY c.id) FROM changed AS c),
                   {versions},
                   (SELECT coalesce(array_agg(DISTINCT e.key ORDER BY e.key), '{{}}')
                      FROM changed AS c, LATERAL jsonb_each(c.new_row) AS e
                     WHERE {keys}
                       AND c.old_row -> e.key IS DISTINCT FROM e.value)
              INTO ids, versions, fields;
            IF ids IS NULL THEN
                RETURN NULL;
            END IF;"""

#: Migration 0010's: the old row turned into JSON for every column of every changed row.
UPDATED_0010 = """
            SELECT array_agg(n.id ORDER BY n.id), {new_versions}
              INTO ids, versions
              FROM new_rows AS n JOIN old_rows AS o ON o.id = n.id
             WHERE to_jsonb(n) IS DISTINCT FROM to_jsonb(o);
            IF ids IS NULL THEN
                RETURN NULL;
            END IF;
            SELECT coalesce(array_agg(DISTINCT e.key ORDER BY e.key), '{{}}')
              INTO fields
              FROM new_rows AS n JOIN old_rows AS o ON o.id = n.id,
                   LATERAL jsonb_each(to_jsonb(n)) AS e
             WHERE {keys}
               AND to_jsonb(o) -> e.key IS DISTINCT FROM e.value;"""

FUNCTION = """
    CREATE OR REPLACE FUNCTION live_{table}_changed() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
        ids bigint[];
        versions int[];
        fields text[] := '{{}}';
    BEGIN
        IF TG_OP = 'UPDATE' THEN{updated}
        ELSIF TG_OP = 'INSERT' THEN
            SELECT array_agg(n.id ORDER BY n.id), {new_versions}
              INTO ids, versions FROM new_rows AS n;
        ELSE
            SELECT array_agg(o.id ORDER BY o.id), {old_versions}
              INTO ids, versions FROM old_rows AS o;
        END IF;
        IF ids IS NULL THEN
            RETURN NULL;
        END IF;
        PERFORM live_announce('{kind}', ids, jsonb_build_object(
            'op', lower(TG_OP),
            'versions', to_jsonb(versions),
            'fields', to_jsonb(fields),
            'actor', live_actor(),
            'source', coalesce(NULLIF(current_setting('vitrine.source', true), ''), 'sql')));
        RETURN NULL;
    END
    $$
"""

#: (table, event kind, whether its rows have a version), as in migration 0010.
TABLES = (("products", "product", True), ("categories", "category", False))


def _functions(updated: str) -> None:
    for table, kind, has_versions in TABLES:
        none = "'{}'::int[]"
        op.execute(FUNCTION.format(
            table=table, kind=kind,
            updated=updated.format(
                keys=_CHANGED_KEYS,
                version="n.version" if has_versions else "NULL::int",
                versions=("(SELECT array_agg(c.version ORDER BY c.id) FROM changed AS c)"
                          if has_versions else none),
                new_versions="array_agg(n.version ORDER BY n.id)" if has_versions else none),
            new_versions="array_agg(n.version ORDER BY n.id)" if has_versions else none,
            old_versions="array_agg(o.version ORDER BY o.id)" if has_versions else none))


def upgrade() -> None:
    _functions(UPDATED_ONCE)


def downgrade() -> None:
    _functions(UPDATED_0010)
