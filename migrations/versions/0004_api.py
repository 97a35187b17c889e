"""Reserved for the api area's schema changes (no-op until it needs one).

Revision ID: 0004
Revises: 0003
"""

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
