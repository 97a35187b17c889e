"""Category rules the database enforces, so concurrent admins cannot break them.

* ``uq_categories_parent_name``: a name is unique among its siblings, case-insensitive (top
  level counts as parent 0, since ids start at 1). Two admins creating "Garden" at once: the
  second insert waits for the first and is refused, which the app reports like its own check.
  Existing duplicates (possible before this index) are renamed "<name> (<id>)" first.
* ``categories_one_level``: a trigger that refuses a parent which is itself a sub-category and
  a category with sub-categories getting a parent. It locks the parent row (``FOR NO KEY
  UPDATE``: products can still be added to it) and reads with a fresh snapshot per statement,
  so it sees whatever a concurrent change committed: the tree stays one level deep under any
  interleaving, whichever code path writes. The app locks both rows in id order first and
  checks the same rule with a message for people; this is the guarantee behind it. Trees
  already two levels deep are flattened (a grandchild moves up to the top-level category).

Revision ID: 0005
Revises: 0004
"""
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("""
        DO $$
        BEGIN
            LOOP
                UPDATE categories AS c SET parent_id = p.parent_id
                FROM categories AS p
                WHERE c.parent_id = p.id AND p.parent_id IS NOT NULL AND p.parent_id <> c.id;
                EXIT WHEN NOT FOUND;
            END LOOP;
        END
        $$
    """)
    op.execute("""
        UPDATE categories AS c SET name = left(c.name, 100) || ' (' || c.id || ')'
        FROM (SELECT id, row_number() OVER (PARTITION BY coalesce(parent_id, 0), lower(name)
                                            ORDER BY id) AS n
              FROM categories) AS d
        WHERE c.id = d.id AND d.n > 1
    """)
    op.execute("CREATE UNIQUE INDEX uq_categories_parent_name "
               "ON categories (coalesce(parent_id, 0), lower(name))")
    op.execute("""
        CREATE FUNCTION categories_one_level() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.parent_id IS NULL THEN
                RETURN NEW;
            END IF;
            PERFORM 1 FROM categories WHERE id = NEW.parent_id AND parent_id IS NULL
                FOR NO KEY UPDATE;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'category % cannot be a parent: it is a sub-category or gone',
                    NEW.parent_id
                    USING ERRCODE = 'check_violation', CONSTRAINT = 'categories_one_level';
            END IF;
            IF EXISTS (SELECT 1 FROM categories WHERE parent_id = NEW.id) THEN
                RAISE EXCEPTION 'category % has sub-categories, so it cannot have a parent',
                    NEW.id
                    USING ERRCODE = 'check_violation', CONSTRAINT = 'categories_one_level';
            END IF;
            RETURN NEW;
        END
        $$
    """)
    op.execute("""
        CREATE TRIGGER categories_one_level
        BEFORE INSERT OR UPDATE OF parent_id ON categories
        FOR EACH ROW EXECUTE FUNCTION categories_one_level()
    """)


def downgrade():
    op.execute("DROP TRIGGER IF EXISTS categories_one_level ON categories")
    op.execute("DROP FUNCTION IF EXISTS categories_one_level()")
    op.execute("DROP INDEX IF EXISTS uq_categories_parent_name")
