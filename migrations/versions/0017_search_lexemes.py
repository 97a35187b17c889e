"""The search vocabulary: every lexeme of every product's ``search_vector``, so that a typed
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

The upgrade fills the vocabulary from the existing products (one scan: about 40 s at
1,000,000 products). Downgrade drops the triggers, the function and the table.

Revision ID: 0017
Revises: 0016
"""
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

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


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS catalog_products_lexemes_updated ON products")
    op.execute("DROP TRIGGER IF EXISTS catalog_products_lexemes_inserted ON products")
    op.execute("DROP FUNCTION IF EXISTS catalog_products_lexemes()")
    op.execute("DROP FUNCTION IF EXISTS catalog_expand_prefixes(tsquery, integer)")
    op.execute("DROP TABLE IF EXISTS catalog_lexemes")
