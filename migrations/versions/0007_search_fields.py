"""Search: weighted fields (name, brand and category path, attributes, description), synonyms.

* ``products.category_path``: the product's category and its parent by name ("Audio
  Headphones"), so that the generated ``search_vector`` (which may only read its own row) can
  include it. A ``BEFORE INSERT OR UPDATE OF category_id`` trigger fills it from ``categories``
  whatever the writer sends; renaming or moving a category rewrites the paths of its products
  and of its sub-categories' products (``AFTER UPDATE OF name, parent_id`` on ``categories``),
  and the generated vector follows.
* ``search_vector`` is rebuilt with four weights: name 'A'; brand and category path 'B'; every
  other attribute value - colour, material, size... - 'C' (``to_tsvector`` of the attributes
  without the brand); description 'D'. Still ``english`` (stemming) and still one GIN index.
* ``catalog_words`` (the "Did you mean" vocabulary, migration 0002) also learns the words of
  category names.
* ``search_synonyms``: groups of words that mean the same to a shopper ("sofa, couch"), managed
  by editors (``/editor/synonyms``). A change bumps ``category_tree_version`` (migration 0004):
  workers keep the synonyms with the category tree and read both again only when it changes.

Revision ID: 0007
Revises: 0006
"""
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

SEARCH_VECTOR = (
    "setweight(to_tsvector('english', coalesce(name, '')), 'A') || "
    "setweight(to_tsvector('english', coalesce(attributes ->> 'brand', '') || ' ' || "
    "coalesce(category_path, '')), 'B') || "
    "setweight(to_tsvector('english', attributes - 'brand'), 'C') || "
    "setweight(to_tsvector('english', coalesce(description, '')), 'D')"
)
OLD_SEARCH_VECTOR = (
    "setweight(to_tsvector('english', coalesce(name, '')), 'A') || "
    "setweight(to_tsvector('english', coalesce(description, '')), 'B')"
)
SEEDED_SYNONYMS = (
    "sofa, couch, settee",
    "tee, t-shirt",
    "lamp, light",
    "jumper, sweater, pullover",
    "sneaker, trainer",
    "trousers, pants",
    "rug, carpet",
    "mug, cup",
    "speaker, loudspeaker",
    "headphones, headset",
)


def _vector(expression: str) -> None:
    op.execute("DROP INDEX IF EXISTS ix_products_search_vector")
    op.execute("ALTER TABLE products DROP COLUMN search_vector")
    op.execute(f"ALTER TABLE products ADD COLUMN search_vector tsvector "
               f"GENERATED ALWAYS AS ({expression}) STORED")
    op.execute("CREATE INDEX ix_products_search_vector ON products USING gin (search_vector)")


def upgrade():
    op.execute("ALTER TABLE products ADD COLUMN category_path text NOT NULL DEFAULT ''")
    op.execute("""
        CREATE FUNCTION catalog_category_path(category integer) RETURNS text
        LANGUAGE sql STABLE AS $$
            SELECT concat_ws(' ', p.name, c.name)
            FROM categories AS c LEFT JOIN categories AS p ON p.id = c.parent_id
            WHERE c.id = category
        $$
    """)
    op.execute("""
        CREATE FUNCTION catalog_product_category_path() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            NEW.category_path := coalesce(catalog_category_path(NEW.category_id), '');
            RETURN NEW;
        END
        $$
    """)
    op.execute("""
        CREATE TRIGGER catalog_product_category_path
        BEFORE INSERT OR UPDATE OF category_id, category_path ON products
        FOR EACH ROW EXECUTE FUNCTION catalog_product_category_path()
    """)
    op.execute("""
        CREATE FUNCTION catalog_category_renamed() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            -- The products of this category and of its sub-categories (their path names it).
            UPDATE products SET category_path = catalog_category_path(category_id)
            WHERE category_id = NEW.id
               OR category_id IN (SELECT id FROM categories WHERE parent_id = NEW.id);
            RETURN NULL;
        END
        $$
    """)
    op.execute("""
        CREATE TRIGGER catalog_category_renamed
        AFTER UPDATE OF name, parent_id ON categories
        FOR EACH ROW
        WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.parent_id IS DISTINCT FROM NEW.parent_id)
        EXECUTE FUNCTION catalog_category_renamed()
    """)
    op.execute("""
        CREATE FUNCTION catalog_category_words() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO catalog_words (word)
            SELECT DISTINCT w.word
            FROM regexp_split_to_table(lower(NEW.name), '[^[:alnum:]]+') AS w (word)
            WHERE length(w.word) BETWEEN 3 AND 40 AND w.word !~ '^[0-9]+$'
            ON CONFLICT (word) DO NOTHING;
            RETURN NULL;
        END
        $$
    """)
    op.execute("""
        CREATE TRIGGER catalog_category_words
        AFTER INSERT OR UPDATE OF name ON categories
        FOR EACH ROW EXECUTE FUNCTION catalog_category_words()
    """)
    op.execute("""
        INSERT INTO catalog_words (word)
        SELECT DISTINCT w.word
        FROM categories AS c, regexp_split_to_table(lower(c.name), '[^[:alnum:]]+') AS w (word)
        WHERE length(w.word) BETWEEN 3 AND 40 AND w.word !~ '^[0-9]+$'
        ON CONFLICT (word) DO NOTHING
    """)
    op.execute("UPDATE products SET category_path = catalog_category_path(category_id)")
    _vector(SEARCH_VECTOR)

    op.execute("""
        CREATE TABLE search_synonyms (
            id serial CONSTRAINT pk_search_synonyms PRIMARY KEY,
            words text NOT NULL CONSTRAINT ck_search_synonyms_words_length
                CHECK (length(words) BETWEEN 3 AND 300),
            created_at timestamptz NOT NULL DEFAULT now()
        )
    """)
    op.execute("""
        CREATE TRIGGER search_synonyms_changed
        AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON search_synonyms
        FOR EACH STATEMENT EXECUTE FUNCTION category_tree_changed()
    """)
    for words in SEEDED_SYNONYMS:
        op.execute(f"INSERT INTO search_synonyms (words) VALUES ('{words}')")
    op.execute("ANALYZE products")


def downgrade():
    op.execute("DROP TABLE IF EXISTS search_synonyms")
    op.execute("DROP TRIGGER IF EXISTS catalog_category_words ON categories")
    op.execute("DROP FUNCTION IF EXISTS catalog_category_words()")
    op.execute("DROP TRIGGER IF EXISTS catalog_category_renamed ON categories")
    op.execute("DROP FUNCTION IF EXISTS catalog_category_renamed()")
    op.execute("DROP TRIGGER IF EXISTS catalog_product_category_path ON products")
    op.execute("DROP FUNCTION IF EXISTS catalog_product_category_path()")
    _vector(OLD_SEARCH_VECTOR)
    op.execute("ALTER TABLE products DROP COLUMN category_path")
    op.execute("DROP FUNCTION IF EXISTS catalog_category_path(integer)")
