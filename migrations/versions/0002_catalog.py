"""Catalog: precomputed facet counts and the search vocabulary, kept current by triggers.

``catalog_facet_counts`` answers the broad pages (no text, no price/attribute filter: the whole
catalog, a department, in-stock only) without scanning ``products``. It holds, for active
products, how many there are per (category, in stock?, facet, value), where facet is
``category`` (value '') or ``brand`` / ``colour`` / ``size``.

It is an *append-only ledger*: statement-level triggers on ``products`` (with transition tables,
so a bulk UPDATE of 5,000 rows writes one aggregated batch, not 5,000) insert signed deltas
(-1 for the old row, +1 for the new). Readers ``sum(n)``. Writers therefore never update a
shared counter row: concurrent edits do not queue on hot rows and cannot deadlock on them, and a
change is visible exactly when (and only if) the edit's transaction commits - the counts are
correct inside the editing transaction too. Every 200th change statement folds the ledger back
to one row per key (``catalog_compact_facet_counts``; one compactor at a time, read committed
only, so it never makes a writer's transaction fail).

``catalog_words`` is the vocabulary for "Did you mean ...?" (pg_trgm similarity): lower-case
words of active products' names and brand/colour/material values, added by the same triggers.
Words are never removed on edits (cheap, no counting); the app only suggests a word after
checking that the corrected search finds products, so a stale word is never shown.

TRUNCATE of products empties both (and truncating categories cascades to the counts).

One index on ``products``: ``(category_id, price, id) WHERE is_active`` for price order and price
ranges inside categories.

Revision ID: 0002
Revises: 0001
"""
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

# One row per facet value of each active product in a row set (``rows``), with ``sign``.
FACET_ROWS = """
    SELECT r.category_id, r.stock > 0 AS in_stock, f.facet, f.value, {sign} AS n
    FROM {rows} AS r
    CROSS JOIN LATERAL (VALUES ('category', ''),
                               ('brand', r.attributes ->> 'brand'),
                               ('colour', r.attributes ->> 'colour'),
                               ('size', r.attributes ->> 'size')) AS f (facet, value)
    WHERE r.is_active AND f.value IS NOT NULL AND (f.facet = 'category' OR f.value <> '')
"""

WORDS = """
    SELECT DISTINCT w.word
    FROM {rows} AS r
    CROSS JOIN LATERAL regexp_split_to_table(
        lower(concat_ws(' ', r.name, r.attributes ->> 'brand', r.attributes ->> 'colour',
                        r.attributes ->> 'material')),
        '[^[:alnum:]]+') AS w (word)
    WHERE r.is_active AND length(w.word) BETWEEN 3 AND 40 AND w.word !~ '^[0-9]+$'
"""


def _apply(rows_sql: str) -> str:
    return f"""
        INSERT INTO catalog_facet_counts (category_id, in_stock, facet, value, n)
        SELECT category_id, in_stock, facet, value, sum(n)
        FROM ({rows_sql}) AS d
        GROUP BY category_id, in_stock, facet, value
        HAVING sum(n) <> 0;
    """


def upgrade():
    op.execute("""
        CREATE TABLE catalog_facet_counts (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            category_id integer NOT NULL REFERENCES categories (id) ON DELETE CASCADE,
            in_stock boolean NOT NULL,
            facet text NOT NULL CHECK (facet IN ('category', 'brand', 'colour', 'size')),
            value text NOT NULL,
            n integer NOT NULL
        )
    """)
    op.execute("CREATE INDEX ix_catalog_facet_counts_category ON catalog_facet_counts (category_id)")
    # Price order inside a category (and a category's price range): prices correlate with
    # departments, so walking the global (is_active, price) index for "Chairs by price" skips
    # tens of thousands of cheaper products first.
    op.execute("CREATE INDEX ix_products_active_category_price ON products (category_id, price, id)"
               " WHERE is_active")
    op.execute("CREATE SEQUENCE catalog_facet_changes")
    op.execute("""
        CREATE TABLE catalog_words (
            word text PRIMARY KEY CHECK (length(word) BETWEEN 1 AND 40)
        )
    """)
    op.execute("CREATE INDEX ix_catalog_words_trgm ON catalog_words USING gin (word gin_trgm_ops)")

    op.execute("""
        CREATE FUNCTION catalog_compact_facet_counts() RETURNS integer
        LANGUAGE plpgsql AS $$
        DECLARE
            folded integer := 0;
        BEGIN
            -- One compactor at a time; never under snapshot isolation, where deleting rows a
            -- concurrent compactor already folded would fail the (writer's) transaction.
            IF current_setting('transaction_isolation') <> 'read committed'
               OR NOT pg_try_advisory_xact_lock(hashtext('catalog_facet_counts')) THEN
                RETURN 0;
            END IF;
            WITH gone AS (
                DELETE FROM catalog_facet_counts
                RETURNING category_id, in_stock, facet, value, n
            ), merged AS (
                INSERT INTO catalog_facet_counts (category_id, in_stock, facet, value, n)
                SELECT category_id, in_stock, facet, value, sum(n) FROM gone
                GROUP BY category_id, in_stock, facet, value
                HAVING sum(n) <> 0
                RETURNING 1
            )
            SELECT (SELECT count(*) FROM gone) - (SELECT count(*) FROM merged) INTO folded;
            RETURN folded;
        END
        $$
    """)
    op.execute(f"""
        CREATE FUNCTION catalog_products_changed() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                {_apply(FACET_ROWS.format(rows='new_rows', sign='1'))}
                INSERT INTO catalog_words (word) {WORDS.format(rows='new_rows')}
                ON CONFLICT (word) DO NOTHING;
            ELSIF TG_OP = 'UPDATE' THEN
                {_apply(FACET_ROWS.format(rows='old_rows', sign='-1') + ' UNION ALL '
                        + FACET_ROWS.format(rows='new_rows', sign='1'))}
                INSERT INTO catalog_words (word) {WORDS.format(rows='new_rows')}
                ON CONFLICT (word) DO NOTHING;
            ELSIF TG_OP = 'DELETE' THEN
                {_apply(FACET_ROWS.format(rows='old_rows', sign='-1'))}
            END IF;
            IF nextval('catalog_facet_changes') % 200 = 0 THEN
                PERFORM catalog_compact_facet_counts();
            END IF;
            RETURN NULL;
        END
        $$
    """)
    op.execute("""
        CREATE FUNCTION catalog_products_truncated() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM catalog_facet_counts;
            DELETE FROM catalog_words;
            RETURN NULL;
        END
        $$
    """)
    op.execute("""
        CREATE TRIGGER catalog_products_inserted AFTER INSERT ON products
        REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION catalog_products_changed()
    """)
    op.execute("""
        CREATE TRIGGER catalog_products_updated AFTER UPDATE ON products
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION catalog_products_changed()
    """)
    op.execute("""
        CREATE TRIGGER catalog_products_deleted AFTER DELETE ON products
        REFERENCING OLD TABLE AS old_rows
        FOR EACH STATEMENT EXECUTE FUNCTION catalog_products_changed()
    """)
    op.execute("""
        CREATE TRIGGER catalog_products_truncated AFTER TRUNCATE ON products
        FOR EACH STATEMENT EXECUTE FUNCTION catalog_products_truncated()
    """)

    # Existing catalog (the triggers only see changes from now on).
    op.execute(_apply(FACET_ROWS.format(rows='products', sign='1')))
    op.execute(f"INSERT INTO catalog_words (word) {WORDS.format(rows='products')} "
               "ON CONFLICT (word) DO NOTHING")
    op.execute("ANALYZE catalog_facet_counts")
    op.execute("ANALYZE catalog_words")


def downgrade():
    op.execute("DROP TRIGGER IF EXISTS catalog_products_truncated ON products")
    op.execute("DROP TRIGGER IF EXISTS catalog_products_deleted ON products")
    op.execute("DROP TRIGGER IF EXISTS catalog_products_updated ON products")
    op.execute("DROP TRIGGER IF EXISTS catalog_products_inserted ON products")
    op.execute("DROP FUNCTION IF EXISTS catalog_products_truncated()")
    op.execute("DROP FUNCTION IF EXISTS catalog_products_changed()")
    op.execute("DROP FUNCTION IF EXISTS catalog_compact_facet_counts()")
    op.execute("DROP TABLE IF EXISTS catalog_words")
    op.execute("DROP SEQUENCE IF EXISTS catalog_facet_changes")
    op.execute("DROP TABLE IF EXISTS catalog_facet_counts")
    op.execute("DROP INDEX IF EXISTS ix_products_active_category_price")
