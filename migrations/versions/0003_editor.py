"""Editor sign-in: a per-user session generation.

``users.session_generation`` is part of every signed session cookie (see app/auth/sessions.py);
bumping it (sign-out, password/role change, deactivation) makes every cookie issued before it
unusable, which a cookie-only session cannot achieve otherwise.

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


def downgrade():
    op.drop_column('users', 'session_generation')
