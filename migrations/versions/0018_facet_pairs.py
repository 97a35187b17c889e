"""The facet ledger by pairs: counts of every facet value among the products carrying one
brand, colour or size, so that "a broad page + one attribute facet" is answered like a broad
page - exactly, without reading products.

The ledger of migration 0002 (``catalog_facet_counts``) answers the whole catalog, a department
and "in stock" from precomputed counts. Ticking a single brand, colour or size left that path:
its counts were read from the facet column's covering index (exact up to 40,000 entries) or,
past that, sampled - at 1,000,000 products "brand=Nordhavn" (63,000 products) read a sample of
1,700 blocks for "about" numbers, and "size=M" (150,000) counted its facets exactly from 15,800
blocks (35-37 ms). Issue 14 asked to "extend the precomputed ledger to the common 'broad page +
one facet' shapes".

``catalog_facet_pairs`` holds, for active products, how many there are per (category, in
stock?, *by* facet and value, facet and value): for each of a product's brand, colour and size
(``by_facet``, ``by_value``), one row per other facet it carries - its category, its other two
attribute values and its price band, as in the ledger. A set "broad + brand in (A, B)" (any
categories, in stock or not) sums the rows of ``by_facet = 'brand'`` and the two values: a
product has one brand, so the values' counts add up. Twelve rows per product change where the
ledger writes five; the same append-only scheme as the ledger (signed deltas from
statement-level triggers with transition tables, readers sum, every 200th change statement
compacts under an advisory lock - its own sequence and lock), so concurrent editors never queue
on a shared counter row and a change is visible exactly at its commit. Unlike the ledger's
compaction, which folds its whole table (3,000 rows), this one folds only the keys changed
since the last one (``folded``): the table has ~60,000 keys, and folding all of them made
every 200th save of an editor wait about a second.

The upgrade fills it from the existing products (one scan: about 18 s at 1,000,000 products).
Downgrade drops the triggers, the functions, the sequence and the table.

Revision ID: 0018
Revises: 0017
"""
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

#: The price bands' edges: ``app.catalog.facets.PRICE_BANDS`` (a test holds them equal).
BAND_EDGES = "'{10,25,50,100,250,500,1000}'::numeric[]"

#: One pair row per (attribute value, other facet value) of each active product in a row set
#: (``rows``), with ``sign``. Values as the ledger keeps them (migration 0017): no empty
#: attribute value, the category as '' with its id, the band as its ``width_bucket`` index.
PAIR_ROWS = """
    SELECT r.category_id, r.stock > 0 AS in_stock, b.facet AS by_facet, b.value AS by_value,
           f.facet, f.value, {sign} AS n
    FROM {rows} AS r
    CROSS JOIN LATERAL (VALUES ('brand', r.attributes ->> 'brand'),
                               ('colour', r.attributes ->> 'colour'),
                               ('size', r.attributes ->> 'size')) AS b (facet, value)
    CROSS JOIN LATERAL (VALUES ('category', ''),
                               ('brand', r.attributes ->> 'brand'),
                               ('colour', r.attributes ->> 'colour'),
                               ('size', r.attributes ->> 'size'),
                               ('band', width_bucket(r.price, {edges})::text))
                        AS f (facet, value)
    WHERE r.is_active AND b.value IS NOT NULL AND b.value <> '' AND f.facet <> b.facet
      AND f.value IS NOT NULL AND (f.facet IN ('category', 'band') OR f.value <> '')
"""

def _pair_rows(rows: str, sign: str) -> str:
    return PAIR_ROWS.format(rows=rows, sign=sign, edges=BAND_EDGES)


COLUMNS = "category_id, in_stock, by_facet, by_value, facet, value"


def _apply(rows_sql: str, folded: bool = False) -> str:
    """Insert ``rows_sql`` summed per key: deltas (``folded`` false, for the compaction to fold),
    or the filled table's rows, one per key already."""
    return f"""
        INSERT INTO catalog_facet_pairs ({COLUMNS}, n, folded)
        SELECT {COLUMNS}, sum(n), {str(folded).lower()}
        FROM ({rows_sql}) AS d
        GROUP BY {COLUMNS}
        HAVING sum(n) <> 0;
    """


def upgrade() -> None:
    op.execute("""
        CREATE TABLE catalog_facet_pairs (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            category_id integer NOT NULL REFERENCES categories (id) ON DELETE CASCADE,
            in_stock boolean NOT NULL,
            by_facet text NOT NULL CHECK (by_facet IN ('brand', 'colour', 'size')),
            by_value text NOT NULL,
            facet text NOT NULL
                CHECK (facet IN ('category', 'brand', 'colour', 'size', 'band')),
            value text NOT NULL,
            n integer NOT NULL,
            folded boolean NOT NULL DEFAULT false
        )
    """)
    # A set reads the rows of its values (by_value = ANY(...)) and sums them; its price range
    # reads their categories (facet = 'category'). Covering: the rows of a value are spread
    # over the table by the order of the changes that wrote them (1,750 rows of a brand at
    # 1,000,000 products were 534 pages read), the index keeps them together.
    op.execute("CREATE INDEX ix_catalog_facet_pairs_by ON catalog_facet_pairs"
               " (by_facet, by_value, facet) INCLUDE (category_id, in_stock, value, n)")
    # What the compaction folds: the keys of the deltas written since (see below).
    op.execute("CREATE INDEX ix_catalog_facet_pairs_unfolded ON catalog_facet_pairs"
               " (by_facet, by_value, facet) WHERE NOT folded")
    op.execute("CREATE INDEX ix_catalog_facet_pairs_category ON catalog_facet_pairs"
               " (category_id)")  # ON DELETE CASCADE from categories
    op.execute("CREATE SEQUENCE catalog_facet_pair_changes")
    op.execute(f"""
        CREATE FUNCTION catalog_compact_facet_pairs() RETURNS integer
        LANGUAGE plpgsql AS $$
        DECLARE
            removed integer := 0;
        BEGIN
            -- As catalog_compact_facet_counts (migration 0002): one compactor at a time, and
            -- never under snapshot isolation.
            IF current_setting('transaction_isolation') <> 'read committed'
               OR NOT pg_try_advisory_xact_lock(hashtext('catalog_facet_pairs')) THEN
                RETURN 0;
            END IF;
            -- Only the keys that changed since the last compaction (their deltas are not
            -- folded yet): all rows of those keys become one folded row each. Rows another
            -- transaction has not committed yet are not seen, and are folded the next time.
            WITH touched AS (
                SELECT DISTINCT {COLUMNS} FROM catalog_facet_pairs WHERE NOT folded
            ), gone AS (
                DELETE FROM catalog_facet_pairs p USING touched t
                WHERE p.by_facet = t.by_facet AND p.by_value = t.by_value
                  AND p.facet = t.facet AND p.value = t.value
                  AND p.category_id = t.category_id AND p.in_stock = t.in_stock
                RETURNING p.category_id, p.in_stock, p.by_facet, p.by_value, p.facet,
                          p.value, p.n
            ), merged AS (
                INSERT INTO catalog_facet_pairs ({COLUMNS}, n, folded)
                SELECT {COLUMNS}, sum(n), true FROM gone
                GROUP BY {COLUMNS}
                HAVING sum(n) <> 0
                RETURNING 1
            )
            SELECT (SELECT count(*) FROM gone) - (SELECT count(*) FROM merged) INTO removed;
            RETURN removed;
        END
        $$
    """)
    op.execute(f"""
        CREATE FUNCTION catalog_products_paired() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                {_apply(_pair_rows('new_rows', '1'))}
            ELSIF TG_OP = 'UPDATE' THEN
                {_apply(_pair_rows('old_rows', '-1') + ' UNION ALL '
                        + _pair_rows('new_rows', '1'))}
            ELSIF TG_OP = 'DELETE' THEN
                {_apply(_pair_rows('old_rows', '-1'))}
            ELSIF TG_OP = 'TRUNCATE' THEN
                DELETE FROM catalog_facet_pairs;
                RETURN NULL;
            END IF;
            IF nextval('catalog_facet_pair_changes') % 200 = 0 THEN
                PERFORM catalog_compact_facet_pairs();
            END IF;
            RETURN NULL;
        END
        $$
    """)
    op.execute("""
        CREATE TRIGGER catalog_products_paired_inserted AFTER INSERT ON products
        REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION catalog_products_paired()
    """)
    op.execute("""
        CREATE TRIGGER catalog_products_paired_updated AFTER UPDATE ON products
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION catalog_products_paired()
    """)
    op.execute("""
        CREATE TRIGGER catalog_products_paired_deleted AFTER DELETE ON products
        REFERENCING OLD TABLE AS old_rows
        FOR EACH STATEMENT EXECUTE FUNCTION catalog_products_paired()
    """)
    op.execute("""
        CREATE TRIGGER catalog_products_paired_truncated AFTER TRUNCATE ON products
        FOR EACH STATEMENT EXECUTE FUNCTION catalog_products_paired()
    """)
    op.execute(_apply(_pair_rows('products', '1'), folded=True))
    op.execute("ANALYZE catalog_facet_pairs")


def downgrade() -> None:
    for event in ("truncated", "deleted", "updated", "inserted"):
        op.execute(f"DROP TRIGGER IF EXISTS catalog_products_paired_{event} ON products")
    op.execute("DROP FUNCTION IF EXISTS catalog_products_paired()")
    op.execute("DROP FUNCTION IF EXISTS catalog_compact_facet_pairs()")
    op.execute("DROP SEQUENCE IF EXISTS catalog_facet_pair_changes")
    op.execute("DROP TABLE IF EXISTS catalog_facet_pairs")
