"""Searches stay as fast after a bulk change as before it: the text indexes' pending lists are
kept short, and ``products`` is vacuumed after about 1% of it changed.

**The text indexes' pending lists.** A GIN index (the search vector, the names' trigrams, the
attributes) gathers new entries in an unsorted pending list, by default up to 4 MB, merged
into the index by the next vacuum or when the list is full; every search through the index
reads the whole list. A product's stock or price change writes a new row version, so its
lexemes and trigrams go into that list too (the facet indexes include ``stock``: no update is
HOT). After two imports of 1,500 rows each, every text search read ~200 pages of pending
entries: at 100,000 products "text: brand" took 9.6 ms instead of 8.1 and "typo -> suggestion"
6.9 instead of 3.9 (``python -m bench.catalog_sql``), and nothing merged the list: autovacuum
had no reason to run. Limited to 128 kB, a search reads at most 16 pages of pending entries.
The cost moves to the writes that fill the list: a 1,500-row update took 490-550 ms instead of
400-420 (three runs each, 4 MB and 128 kB); without a pending list at all (``fastupdate =
off``) it took 760-840 ms, each row's entries inserted one by one.

**Vacuum after bulk changes.** A changed row clears its page's all-visible bit, so the facet
counts' index-only scans read the heap for that page until a vacuum sets it again. Autovacuum's
default waits for 20% of the table to change (20,000 rows at 100,000 products): after a
1,500-row update, "2 brands + colour" took 8.3 ms instead of 6.8 until a vacuum, which took
250 ms. At 1% (``autovacuum_vacuum_scale_factor``, and the same for inserted rows) such an
import is followed by a vacuum within autovacuum's nap time; the vacuum also merges the pending
lists.

Downgrade restores PostgreSQL's defaults.

Revision ID: 0019
Revises: 0018
"""
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

#: The GIN indexes of ``products`` (``app.data.models.Product``).
GIN_INDEXES = ("ix_products_search_vector", "ix_products_name_trgm", "ix_products_attributes")

#: Their pending lists' limit, in kB (PostgreSQL's default: 4096).
PENDING_LIST_KB = 128

#: Per-table autovacuum settings of ``products``.
VACUUM_SETTINGS = {"autovacuum_vacuum_scale_factor": "0.01",
                   "autovacuum_vacuum_insert_scale_factor": "0.01"}


def upgrade() -> None:
    for index in GIN_INDEXES:
        op.execute(f"ALTER INDEX {index} SET (gin_pending_list_limit = {PENDING_LIST_KB})")
        # Entries already pending are merged now rather than at the next vacuum.
        op.execute(f"SELECT gin_clean_pending_list('{index}'::regclass)")
    settings = ", ".join(f"{name} = {value}" for name, value in VACUUM_SETTINGS.items())
    op.execute(f"ALTER TABLE products SET ({settings})")


def downgrade() -> None:
    op.execute(f"ALTER TABLE products RESET ({', '.join(VACUUM_SETTINGS)})")
    for index in GIN_INDEXES:
        op.execute(f"ALTER INDEX {index} RESET (gin_pending_list_limit)")
