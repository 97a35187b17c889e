"""Indexes keyed by (category, id) and (facet value, id) for active products: a sample of a
facet count drawn by id ranges (:func:`app.catalog.facets._counting_selects`) reads only the
index entries inside its ranges.

A sampled set of a text search whose text is tested on the rows its other conditions find
(issue 14: "lamp" in Lighting, one brand, above a price, at 1,000,000 products) AND-ed a bitmap
of the whole department (100,000 entries) or the whole brand (63,000) with its 16 id ranges:
10-30 ms per set before a row was read, for a sample of ~7,000 rows. Keyed by (category, id) or
(facet value, id), each id range is one short range of the index per value - ~7,000 entries in
all. The indexes are narrow (two key columns, ~30 MB each at 1,000,000 products).

Builds four indexes (about two seconds each at 1,000,000 products); the table is not
rewritten. Downgrade drops them.

Revision ID: 0016
Revises: 0015
"""
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

KEYS = (("category_id", "ix_products_active_category_id"),
        ("facet_brand", "ix_products_active_brand_id"),
        ("facet_colour", "ix_products_active_colour_id"),
        ("facet_size", "ix_products_active_size_id"))


def upgrade() -> None:
    for column, name in KEYS:
        op.execute(f"CREATE INDEX {name} ON products ({column}, id) WHERE is_active")
    op.execute("ANALYZE products")


def downgrade() -> None:
    for _column, name in KEYS:
        op.execute(f"DROP INDEX IF EXISTS {name}")
