"""Facet indexes keyed by (facet, category, price): "a brand in a department above a price"
is one index range instead of two bitmaps AND-ed.

Migration 0014's covering indexes led by ``facet_brand`` / ``facet_colour`` / ``facet_size``
carried the category and the price as ``INCLUDE`` columns, which an index-only count filters on
but an index range cannot use. A search for "lamp" with Lighting, one brand and a price floor
(issue 14) then found its 6,000 candidates at 1,000,000 products by AND-ing a bitmap of the
brand's 63,000 products with one of the department's 100,000, about 25 ms before a row is read.
With ``category_id`` and ``price`` as key columns after the facet the same candidates are one
range of the brand's index (the text is then tested on those rows, see
:data:`app.catalog.filters.TextIndex`), and every index-only count 0014 served is served as
before (same leading column, same columns carried: the other facets and the stock).

Rebuilds three indexes (seconds at 100,000 products, about a minute at 1,000,000); the table is
not rewritten. Downgrade restores 0014's indexes.

Revision ID: 0015
Revises: 0014
"""
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

FACETS = ("brand", "colour", "size")


def _create(facet: str, keys: tuple[str, ...], carried: tuple[str, ...]) -> None:
    others = [f"facet_{other}" for other in FACETS if other != facet]
    op.execute(f"CREATE INDEX ix_products_active_facet_{facet} ON products "
               f"(facet_{facet}{''.join(', ' + k for k in keys)}) "
               f"INCLUDE ({', '.join([*others, *carried])}) WHERE is_active")


def upgrade() -> None:
    for facet in FACETS:
        op.execute(f"DROP INDEX IF EXISTS ix_products_active_facet_{facet}")
        _create(facet, ("category_id", "price"), ("stock",))
    op.execute("ANALYZE products")


def downgrade() -> None:
    for facet in FACETS:
        op.execute(f"DROP INDEX IF EXISTS ix_products_active_facet_{facet}")
        _create(facet, (), ("category_id", "price", "stock"))
