"""Editor: a per-user session generation, and an index for the editor's default order.

* ``users.session_generation`` is part of every signed session cookie (see
  app/auth/sessions.py); bumping it (sign-out, role change, deactivation) makes every cookie
  issued before it unusable, which a cookie-only session cannot achieve otherwise.
* ``ix_products_created_id`` serves the editor table's default order (newest first) over
  active *and* inactive products: the catalog's ``(is_active, created_at, id)`` index only
  helps when the query fixes ``is_active``. Without it, the first page sorts the whole table.
  (Not on ``updated_at``: every edit changes it, and an index there would rule out HOT updates.)

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('users', sa.Column('session_generation', sa.Integer(), server_default='1',
                                     nullable=False))
    op.create_index('ix_products_created_id', 'products', ['created_at', 'id'])


def downgrade():
    op.drop_index('ix_products_created_id', table_name='products')
    op.drop_column('users', 'session_generation')
