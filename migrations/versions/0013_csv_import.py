"""CSV import: uploaded files kept in PostgreSQL, per-row failures of jobs, source ``import``.

* ``import_files``: an uploaded CSV (``bytea``) with its SHA-256 and its dry-run result (NULL
  while a worker checks a large file: ``check_job_id``). Kept in the database so any worker on
  any host reads the very bytes the editor uploaded; applying checks the digest the dry run
  saw. ``job_id`` is set when the file is applied (at most once).
* ``job_failures``: what a job could not do for one row (a rejected row, a version conflict),
  inserted in the transaction of the batch that met it: a retried batch records it once, and a
  failed row never fails the job.
* ``job_batches.outcome``: a batch's counts (created, updated, unchanged...), summed into the
  job's outcome when it ends.
* ``product_revisions.source`` also accepts ``import``.

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

OLD_SOURCES = "'create', 'inline', 'bulk', 'api', 'restore', 'duplicate', 'cli', 'images'"
NEW_SOURCES = OLD_SOURCES + ", 'import'"


def upgrade():
    op.create_table(
        "import_files",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL"),
                  nullable=True),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("dry_run", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("check_job_id", sa.BigInteger(),
                  sa.ForeignKey("jobs.id", ondelete="SET NULL"), nullable=True),
        sa.Column("job_id", sa.BigInteger(), sa.ForeignKey("jobs.id", ondelete="SET NULL"),
                  nullable=True, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.CheckConstraint("size >= 0", name="import_size_not_negative"),
    )
    op.create_index("ix_import_files_created_at", "import_files", ["created_at"])
    op.create_table(
        "job_failures",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("job_id", sa.BigInteger(), sa.ForeignKey("jobs.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("batch", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("item", sa.Text(), nullable=False, server_default=""),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("detail", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.CheckConstraint("kind IN ('rejected', 'conflict')", name="job_failure_kind_known"),
    )
    op.create_index("ix_job_failures_job_line", "job_failures", ["job_id", "line"])
    op.add_column("job_batches", sa.Column("outcome", postgresql.JSONB(astext_type=sa.Text()),
                                           nullable=True))
    op.drop_constraint(op.f("ck_product_revisions_source_known"), "product_revisions", type_="check")
    op.create_check_constraint(op.f("ck_product_revisions_source_known"), "product_revisions",
                               f"source IN ({NEW_SOURCES})")


def downgrade():
    op.execute("DELETE FROM product_revisions WHERE source = 'import'")
    op.drop_constraint(op.f("ck_product_revisions_source_known"), "product_revisions", type_="check")
    op.create_check_constraint(op.f("ck_product_revisions_source_known"), "product_revisions",
                               f"source IN ({OLD_SOURCES})")
    op.drop_column("job_batches", "outcome")
    op.drop_index("ix_job_failures_job_line", table_name="job_failures")
    op.drop_table("job_failures")
    op.drop_index("ix_import_files_created_at", table_name="import_files")
    op.drop_table("import_files")
