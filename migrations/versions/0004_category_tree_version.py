"""Category tree version: lets each worker keep the category tree until the categories change.

Every request needs the category tree (slugs to ids, a department's sub-categories, names for
facets and breadcrumbs). Instead of reading all categories and rebuilding the tree per request,
a worker keeps it with the version it was read at and asks only for the version.

``category_tree_version`` holds one row. A statement-level trigger on ``categories`` (insert,
update, delete, truncate) gives it a new random value. Random rather than counted: a value is
never reused - not after a rolled-back change (whose value a worker may have seen inside that
transaction), not after the schema is rebuilt - so a kept tree can never be taken for a
different one. The row is updated inside the changing transaction, so the new version becomes
visible exactly when the change does. Category changes are rare admin actions; concurrent ones
queue on this row until commit.

Revision ID: 0004
Revises: 0003
"""
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("""
        CREATE TABLE category_tree_version (
            singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
            version uuid NOT NULL DEFAULT gen_random_uuid()
        )
    """)
    op.execute("INSERT INTO category_tree_version DEFAULT VALUES")
    op.execute("""
        CREATE FUNCTION category_tree_changed() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE category_tree_version SET version = gen_random_uuid();
            RETURN NULL;
        END
        $$
    """)
    op.execute("""
        CREATE TRIGGER category_tree_changed
        AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON categories
        FOR EACH STATEMENT EXECUTE FUNCTION category_tree_changed()
    """)


def downgrade():
    op.execute("DROP TRIGGER IF EXISTS category_tree_changed ON categories")
    op.execute("DROP FUNCTION IF EXISTS category_tree_changed()")
    op.execute("DROP TABLE IF EXISTS category_tree_version")
