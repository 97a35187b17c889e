"""The search vocabulary, and the price bands in the facet ledger.

The search vocabulary: every lexeme of every product's ``search_vector``, so that a typed
prefix can be matched through the text index as the words it stands for.

While a shopper types, the last word is a prefix term of the tsquery (``table:*``). The GIN
index answers a prefix by *partial match*: it collects the postings of every lexeme starting
with it into a bitmap before it can intersect anything - "oak & tabl:*" at 1,000,000 products
reads the postings of ``oak`` and of every ``tabl...`` word (121 ms of index scan), where the
same query with the prefix written as its words, "oak & (tabl | tablewar)", takes 23 ms (the
index skips through the rarer list) and is estimated better. Issue 14.

* ``catalog_lexemes``: one row per lexeme that has appeared in any product's ``search_vector``
  (active or not: editors search inactive products too), kept by statement-level triggers on
  insert and update (transition tables: a bulk write adds its new lexemes in one statement,
  in lexeme order so that concurrent writers adding the same new words cannot deadlock).
  Lexemes are never removed: a word no product carries any more only adds a term that matches
  nothing, so the vocabulary is always complete for the rows a reader can see. ``COLLATE "C"``
  so that ``starts_with`` reads a range of the primary key.
* ``catalog_expand_prefixes(query tsquery, most integer)``: ``query`` with each prefix operand
  (``'tabl':*``) replaced by the OR of the vocabulary's lexemes starting with it, when there are
  between 1 and ``most`` of them (otherwise the operand is left as it is: partial match). It
  matches exactly the same rows - a prefix operand matches a row iff one of the row's lexemes
  starts with it, and every such lexeme is in the vocabulary. (Lexemes from the ``english``
  configuration never contain an apostrophe, which the text rewrite relies on.)

The same revision gives the facet ledger (``catalog_facet_counts``, migration 0002) the price
distribution: a ``band`` facet whose value is the product's price band (``width_bucket`` over
the edges of :data:`app.catalog.facets.PRICE_BANDS`), kept by the same trigger function as
the other facets. A broad page (the whole catalog, a department, in stock) then reads its
price distribution exactly from the ledger, where it was sampled from table pages (a
department's sample read ~1,100 pages of the table for ~1,000 rows) or counted from the rows.

The upgrade fills the vocabulary and the bands from the existing products (one scan each:
about 20 s at 1,000,000 products). Downgrade drops the triggers, the function and the table,
the bands and their trigger code.

Revision ID: 0017
Revises: 0016
"""
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

#: The price bands' edges: ``app.catalog.facets.PRICE_BANDS`` (a test holds them equal).
BAND_EDGES = "'{10,25,50,100,250,500,1000}'::numeric[]"

#: One ledger row per facet value of each active product in a row set (``rows``), with
#: ``sign`` - migration 0002's, and (``bands``) the price band.
FACET_ROWS = """
    SELECT r.category_id, r.stock > 0 AS in_stock, f.facet, f.value, {sign} AS n
    FROM {rows} AS r
    CROSS JOIN LATERAL (VALUES ('category', ''),
                               ('brand', r.attributes ->> 'brand'),
                               ('colour', r.attributes ->> 'colour'),
                               ('size', r.attributes ->> 'size'){band}) AS f (facet, value)
    WHERE r.is_active AND f.value IS NOT NULL AND (f.facet {kept} OR f.value <> '')
"""


def _facet_rows(rows: str, sign: str, bands: bool) -> str:
    band = (f",\n                               ('band', width_bucket(r.price, {BAND_EDGES})::text)"
            if bands else "")
    return FACET_ROWS.format(rows=rows, sign=sign, band=band,
                             kept="IN ('category', 'band')" if bands else "= 'category'")


def _apply(rows_sql: str) -> str:
    return f"""
        INSERT INTO catalog_facet_counts (category_id, in_stock, facet, value, n)
        SELECT category_id, in_stock, facet, value, sum(n)
        FROM ({rows_sql}) AS d
        GROUP BY category_id, in_stock, facet, value
        HAVING sum(n) <> 0;
    """


def _products_changed(bands: bool) -> str:
    """Migration 0002's trigger function, with or without the price bands."""
    return f"""
        CREATE OR REPLACE FUNCTION catalog_products_changed() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                {_apply(_facet_rows('new_rows', '1', bands))}
                INSERT INTO catalog_words (word) {WORDS.format(rows='new_rows')}
                ON CONFLICT (word) DO NOTHING;
            ELSIF TG_OP = 'UPDATE' THEN
                {_apply(_facet_rows('old_rows', '-1', bands) + ' UNION ALL '
                        + _facet_rows('new_rows', '1', bands))}
                INSERT INTO catalog_words (word) {WORDS.format(rows='new_rows')}
                ON CONFLICT (word) DO NOTHING;
            ELSIF TG_OP = 'DELETE' THEN
                {_apply(_facet_rows('old_rows', '-1', bands))}
            END IF;
            IF nextval('catalog_facet_changes') % 200 = 0 THEN
                PERFORM catalog_compact_facet_counts();
            END IF;
            RETURN NULL;
        END
        $$
    """


#: Migration 0002's vocabulary of names (unchanged here, part of the same trigger function).
WORDS = """
    SELECT DISTINCT w.word
    FROM {rows} AS r
    CROSS JOIN LATERAL regexp_split_to_table(
        lower(concat_ws(' ', r.name, r.attributes ->> 'brand', r.attributes ->> 'colour',
                        r.attributes ->> 'material')),
        '[^[:alnum:]]+') AS w (word)
    WHERE r.is_active AND length(w.word) BETWEEN 3 AND 40 AND w.word !~ '^[0-9]+$'
"""

#: The lexemes of a row set's search vectors, in lexeme order.
LEXEMES = """
    SELECT DISTINCT lexeme
    FROM {rows} AS r
    CROSS JOIN LATERAL unnest(tsvector_to_array(r.search_vector)) AS l (lexeme)
    ORDER BY lexeme
"""


def upgrade() -> None:
    op.execute("""
        CREATE TABLE catalog_lexemes (
            lexeme text COLLATE "C" PRIMARY KEY
        )
    """)
    op.execute(f"""
        CREATE FUNCTION catalog_products_lexemes() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO catalog_lexemes (lexeme) {LEXEMES.format(rows='new_rows')}
            ON CONFLICT (lexeme) DO NOTHING;
            RETURN NULL;
        END
        $$
    """)
    op.execute("""
        CREATE TRIGGER catalog_products_lexemes_inserted AFTER INSERT ON products
        REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION catalog_products_lexemes()
    """)
    op.execute("""
        CREATE TRIGGER catalog_products_lexemes_updated AFTER UPDATE ON products
        REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION catalog_products_lexemes()
    """)
    op.execute(r"""
        CREATE FUNCTION catalog_expand_prefixes(query tsquery, most integer DEFAULT 64)
        RETURNS tsquery
        LANGUAGE plpgsql STABLE STRICT AS $$
        DECLARE
            written text := query::text;
            operand text;
            prefix text;
            found integer;
            alternatives text;
        BEGIN
            -- Each distinct prefix operand as tsquery prints it: 'word':* (quotes doubled,
            -- backslashes doubled), not followed by weight letters.
            FOR operand IN
                SELECT DISTINCT m[1]
                FROM regexp_matches(written, '''((?:[^'']|'''')*)'':\*(?![A-D])', 'g') AS m
            LOOP
                prefix := replace(replace(operand, '''''', ''''), '\\', '\');
                SELECT count(*),
                       string_agg('''' || replace(replace(lexeme, '\', '\\'), '''', '''''')
                                  || '''', ' | ' ORDER BY lexeme)
                INTO found, alternatives
                FROM (SELECT lexeme FROM catalog_lexemes
                      WHERE starts_with(lexeme, prefix) LIMIT most + 1) AS words;
                IF found BETWEEN 1 AND most THEN
                    written := regexp_replace(
                        written,
                        '''' || regexp_replace(operand, '([.*+?^${}()|\[\]\\])', '\\\1', 'g')
                        || ''':\*(?![A-D])',
                        '( ' || replace(alternatives, '\', '\\') || ' )', 'g');
                END IF;
            END LOOP;
            RETURN written::tsquery;
        END
        $$
    """)
    op.execute(f"INSERT INTO catalog_lexemes (lexeme) {LEXEMES.format(rows='products')}")
    op.execute("ANALYZE catalog_lexemes")

    op.execute("ALTER TABLE catalog_facet_counts"
               " DROP CONSTRAINT catalog_facet_counts_facet_check,"
               " ADD CONSTRAINT catalog_facet_counts_facet_check"
               " CHECK (facet IN ('category', 'brand', 'colour', 'size', 'band'))")
    op.execute(_products_changed(bands=True))
    op.execute(f"""
        INSERT INTO catalog_facet_counts (category_id, in_stock, facet, value, n)
        SELECT category_id, stock > 0, 'band', width_bucket(price, {BAND_EDGES})::text, count(*)
        FROM products WHERE is_active GROUP BY 1, 2, 4
    """)
    op.execute("ANALYZE catalog_facet_counts")


def downgrade() -> None:
    op.execute(_products_changed(bands=False))
    op.execute("DELETE FROM catalog_facet_counts WHERE facet = 'band'")
    op.execute("ALTER TABLE catalog_facet_counts"
               " DROP CONSTRAINT catalog_facet_counts_facet_check,"
               " ADD CONSTRAINT catalog_facet_counts_facet_check"
               " CHECK (facet IN ('category', 'brand', 'colour', 'size'))")
    op.execute("DROP TRIGGER IF EXISTS catalog_products_lexemes_updated ON products")
    op.execute("DROP TRIGGER IF EXISTS catalog_products_lexemes_inserted ON products")
    op.execute("DROP FUNCTION IF EXISTS catalog_products_lexemes()")
    op.execute("DROP FUNCTION IF EXISTS catalog_expand_prefixes(tsquery, integer)")
    op.execute("DROP TABLE IF EXISTS catalog_lexemes")
