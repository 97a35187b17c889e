"""Product images: content-addressed image bytes in PostgreSQL, and each product's images.

* ``image_blobs``: every stored image file (an upload's cleaned original, each of its variants)
  keyed by the SHA-256 of its bytes. Content-addressed, so every worker on every host serves
  the same bytes from the same URL (``/images/<sha256>.<ext>``), a file uploaded twice is stored
  once, and a URL never changes meaning (served ``immutable``).
* ``product_images``: a product's images in the editor's order (``position``), each with its
  required alt text, the original's blob and size, and - once the variants job has run -
  ``variants``: ``[{"w", "h", "webp", "jpeg"}, ...]`` widths ascending, blob digests.
  ``state`` is ``pending`` until then (shoppers see the letter tile), ``ready`` or ``failed``.
* The revision source ``images`` (an image added, removed, reordered or re-described).
* ``product_images`` changes renew the catalog version (migration 0008's trigger function): a
  variants job finishing, or an image removed, shows on the very next shopper page.

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

SOURCES_BEFORE = "'create', 'inline', 'bulk', 'api', 'restore', 'duplicate', 'cli'"
SOURCES_AFTER = SOURCES_BEFORE + ", 'images'"


def upgrade():
    op.create_table(
        "image_blobs",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("content_type", sa.String(32), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name=op.f("ck_image_blobs_sha256_hex")),
        sa.CheckConstraint("content_type IN ('image/jpeg', 'image/png', 'image/webp')",
                           name=op.f("ck_image_blobs_content_type_known")),
    )
    # The bytes are already compressed: keep them out of TOAST's pglz attempt.
    op.execute("ALTER TABLE image_blobs ALTER COLUMN data SET STORAGE EXTERNAL")
    op.create_table(
        "product_images",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("product_id", sa.BigInteger(),
                  sa.ForeignKey("products.id", ondelete="CASCADE"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("alt", sa.Text(), nullable=False),
        sa.Column("original", sa.String(64), sa.ForeignKey("image_blobs.sha256"),
                  nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("variants", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("state", sa.String(16), server_default="pending", nullable=False),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL"),
                  nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.CheckConstraint("state IN ('pending', 'ready', 'failed')",
                           name=op.f("ck_product_images_state_known")),
        sa.CheckConstraint("char_length(btrim(alt)) BETWEEN 1 AND 250",
                           name=op.f("ck_product_images_alt_present")),
        sa.CheckConstraint("position >= 1", name=op.f("ck_product_images_position_positive")),
    )
    op.create_index("ix_product_images_product_position", "product_images",
                    ["product_id", "position", "id"])
    op.execute("""
        CREATE TRIGGER catalog_changed
        AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON product_images
        FOR EACH STATEMENT EXECUTE FUNCTION catalog_changed()
    """)
    op.drop_constraint(op.f("ck_product_revisions_source_known"), "product_revisions")
    op.create_check_constraint(op.f("ck_product_revisions_source_known"), "product_revisions",
                               f"source IN ({SOURCES_AFTER})")


def downgrade():
    op.execute("DELETE FROM product_revisions WHERE source = 'images'")
    op.drop_constraint(op.f("ck_product_revisions_source_known"), "product_revisions")
    op.create_check_constraint(op.f("ck_product_revisions_source_known"), "product_revisions",
                               f"source IN ({SOURCES_BEFORE})")
    op.execute("DROP TRIGGER IF EXISTS catalog_changed ON product_images")
    op.drop_index("ix_product_images_product_position", table_name="product_images")
    op.drop_table("product_images")
    op.drop_table("image_blobs")
