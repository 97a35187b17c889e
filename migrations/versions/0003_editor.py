"""Reserved for the editor area's schema changes (no-op until it needs one).

Revision ID: 0003
Revises: 0002
"""

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
