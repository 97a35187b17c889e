"""Background jobs: procrastinate's queue schema, and our progress and exactly-once records.

* procrastinate 3.10.0's schema (``migrations/sql/procrastinate-3.10.0-schema.sql``, vendored
  unchanged: the schema a fresh database gets must not depend on the version installed when
  it is migrated). A later procrastinate version brings its own ``sql/migrations/*.sql``; they
  go into later Alembic migrations, so ``flask db upgrade`` remains the single command.
* ``jobs``: one row per job the app started (its procrastinate job id), with what the editor
  sees - kind, who started it, rows done of the total, state and outcome - kept after
  procrastinate's own row is gone, across reloads and worker restarts.
* ``job_batches``: one row per batch a job applied, inserted in the same transaction as the
  batch's writes. A retried job (its worker was killed) finds the batches already applied and
  skips them, so every row is changed exactly once (:mod:`app.jobs.batches`).

Revision ID: 0009
Revises: 0008
"""
from pathlib import Path

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

SCHEMA = Path(__file__).resolve().parent.parent / "sql" / "procrastinate-3.10.0-schema.sql"


def upgrade():
    # The driver's own execute: no bind-parameter parsing of the functions' bodies.
    op.get_bind().exec_driver_sql(SCHEMA.read_text(encoding="utf-8").replace("%", "%%"))
    op.create_table(
        "jobs",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="SET NULL"),
                  nullable=True),
        sa.Column("state", sa.String(length=16), server_default="queued", nullable=False),
        sa.Column("total", sa.Integer(), server_default="0", nullable=False),
        sa.Column("done", sa.Integer(), server_default="0", nullable=False),
        sa.Column("params", postgresql.JSONB(astext_type=sa.Text()),
                  server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.Column("outcome", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.CheckConstraint("state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')",
                           name="job_state_known"),
        sa.CheckConstraint("done >= 0 AND total >= 0", name="job_counts_not_negative"),
    )
    op.create_index("ix_jobs_user_created", "jobs", ["user_id", "created_at"])
    op.create_table(
        "job_batches",
        sa.Column("job_id", sa.BigInteger(), sa.ForeignKey("jobs.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("batch", sa.Integer(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.PrimaryKeyConstraint("job_id", "batch", name="pk_job_batches"),
    )


def downgrade():
    op.drop_table("job_batches")
    op.drop_index("ix_jobs_user_created", table_name="jobs")
    op.drop_table("jobs")
    op.get_bind().exec_driver_sql(DROP_PROCRASTINATE.replace("%", "%%"))


#: Drops every table, routine and type procrastinate's schema made (by name prefix, so the list
#: cannot go out of step with the vendored file).
DROP_PROCRASTINATE = """
        DO $$
        DECLARE item record;
        BEGIN
            FOR item IN SELECT tablename FROM pg_tables
                        WHERE schemaname = current_schema() AND tablename LIKE 'procrastinate\\_%'
            LOOP EXECUTE format('DROP TABLE IF EXISTS %I CASCADE', item.tablename); END LOOP;
            FOR item IN SELECT p.oid::regprocedure AS signature FROM pg_proc p
                        JOIN pg_namespace n ON n.oid = p.pronamespace
                        WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate\\_%'
            LOOP EXECUTE format('DROP ROUTINE IF EXISTS %s CASCADE', item.signature); END LOOP;
            FOR item IN SELECT t.typname FROM pg_type t
                        JOIN pg_namespace n ON n.oid = t.typnamespace
                        WHERE n.nspname = current_schema() AND t.typname LIKE 'procrastinate\\_%'
                          AND t.typtype IN ('e', 'c')
            LOOP EXECUTE format('DROP TYPE IF EXISTS %I CASCADE', item.typname); END LOOP;
        END $$;
"""
