"""Catalog version: one value that changes in the same transaction as any catalog change.

The shared response cache (``app/web/response_cache.py``) keys every shopper response by it, so
a cached page can never be older than the last committed change of ``products``, ``categories``
or ``search_synonyms`` (which change what a query finds): the new version becomes visible exactly
when the change does.

``catalog_version`` holds one row. Random rather than counted, like ``category_tree_version``
(0004): a value is never reused - not after a rolled-back change, not after the schema is
rebuilt or the catalog re-seeded - so a response cached in Redis under an old database can never
be taken for one of the new.

**Why the row is bumped at commit, not by the changing statement.** A statement-level trigger
that updated the row directly would hold its lock from the first catalog write of a transaction
to its commit. Every concurrent catalog writer would then queue on that one row for the whole of
each other's transactions, and worse, two transactions could deadlock: one holds the version
row and wants a product row (``SELECT ... FOR UPDATE`` of the editor's optimistic save) that
the other has locked while it waits for the version row. So:

* a statement-level trigger on ``products``, ``categories`` and ``search_synonyms`` (insert,
  update, delete, truncate) only notes, once per transaction (a transaction-local setting), that the catalog
  changed, by inserting a marker row into ``catalog_version_pending``;
* a ``DEFERRABLE INITIALLY DEFERRED`` constraint trigger on that marker fires at commit: it gives
  ``catalog_version`` a new value and deletes the marker.

The version row is then locked only from the commit's deferred triggers to the end of the
commit: concurrent writers serialise on that short step only (the trade-off: catalog commits go
one at a time through it, microseconds each, and no more deadlock than the writes themselves).
A savepoint rolled back undoes both the marker and the setting, so a later write of the same
transaction marks again.

Revision ID: 0008
Revises: 0007
"""
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

#: Every table whose change can change a shopper's page.
CATALOG_TABLES = ("products", "categories", "search_synonyms")


def upgrade():
    op.execute("""
        CREATE TABLE catalog_version (
            singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
            version uuid NOT NULL DEFAULT gen_random_uuid()
        )
    """)
    op.execute("INSERT INTO catalog_version DEFAULT VALUES")
    op.execute("""
        CREATE TABLE catalog_version_pending (
            txid bigint PRIMARY KEY DEFAULT txid_current()
        )
    """)
    op.execute("""
        CREATE FUNCTION catalog_changed() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF current_setting('vitrine.catalog_changed', true) IS DISTINCT FROM 'on' THEN
                PERFORM set_config('vitrine.catalog_changed', 'on', true);
                INSERT INTO catalog_version_pending DEFAULT VALUES ON CONFLICT DO NOTHING;
            END IF;
            RETURN NULL;
        END
        $$
    """)
    op.execute("""
        CREATE FUNCTION catalog_version_renew() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE catalog_version SET version = gen_random_uuid();
            DELETE FROM catalog_version_pending WHERE txid = NEW.txid;
            RETURN NULL;
        END
        $$
    """)
    for table in CATALOG_TABLES:
        op.execute(f"""
            CREATE TRIGGER catalog_changed
            AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION catalog_changed()
        """)
    op.execute("""
        CREATE CONSTRAINT TRIGGER catalog_version_renew
        AFTER INSERT ON catalog_version_pending
        DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION catalog_version_renew()
    """)


def downgrade():
    for table in CATALOG_TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS catalog_changed ON {table}")
    op.execute("DROP TRIGGER IF EXISTS catalog_version_renew ON catalog_version_pending")
    op.execute("DROP FUNCTION IF EXISTS catalog_changed()")
    op.execute("DROP FUNCTION IF EXISTS catalog_version_renew()")
    op.execute("DROP TABLE IF EXISTS catalog_version_pending")
    op.execute("DROP TABLE IF EXISTS catalog_version")
