"""Presence: who has which product's row open for editing (issue 15).

One row per opened row form (``token``: a random key the form was rendered with, so two tabs
of one editor are two rows). The form's heartbeat moves ``expires_at`` forward; Save, Cancel,
leaving the page or a missed heartbeat end it (``ended_at``). An ended row stays a little while
as a tombstone, so a heartbeat that arrives after its end (they race on a slow network) cannot
bring it back; one that lapsed (no heartbeat) comes back with the form's next heartbeat. Shared by every worker and every server: PostgreSQL holds it, nothing else does.
No lock: presence only tells colleagues; the field-level merge decides what a save does.

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "presence",
        sa.Column("token", sa.String(length=64), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("product_id", sa.BigInteger(),
                  sa.ForeignKey("products.id", ondelete="CASCADE"), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.Column("last_heartbeat", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        # "closed" (Save, Cancel, the form swapped away: final) or "lapsed" (no heartbeat, or
        # the page was hidden: the same form's next heartbeat brings it back, e.g. after a
        # laptop slept or the browser restored the page from its back/forward cache).
        sa.Column("ended_by", sa.String(length=8), nullable=True),
        sa.CheckConstraint("ended_by IN ('closed', 'lapsed')", name="ended_by_known"),
    )
    # Who is editing these products now: the table's page of ids, a history page's one id.
    op.create_index("ix_presence_product_live", "presence", ["product_id"],
                    postgresql_where=sa.text("ended_at IS NULL"))
    # The sweep: live rows whose heartbeat stopped, and old tombstones.
    op.create_index("ix_presence_expires_at", "presence", ["expires_at"])
    op.create_index("ix_presence_user", "presence", ["user_id"])


def downgrade():
    op.drop_table("presence")
