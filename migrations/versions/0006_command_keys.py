"""Commands applied at most once: ``command_keys`` records each one-time key and its outcome.

The editor's forms and API clients (``Idempotency-Key``) send a key with every state change;
the app inserts it here with ``INSERT ... ON CONFLICT DO NOTHING`` in the same transaction as
the change (:mod:`app.data.commands`). The primary key makes a repeat - or a concurrent
duplicate, which waits on the first transaction's index entry - find the first outcome instead
of applying again. Rows older than ``VITRINE_COMMAND_KEY_TTL`` are deleted lazily by the app.

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "command_keys",
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"),
                  nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("headers", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.PrimaryKeyConstraint("scope", "key", name="pk_command_keys"),
    )
    op.create_index("ix_command_keys_created_at", "command_keys", ["created_at"])


def downgrade():
    op.drop_index("ix_command_keys_created_at", table_name="command_keys")
    op.drop_table("command_keys")
