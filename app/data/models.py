"""The catalog's tables, declared once with Flask-SQLAlchemy's model base.

Models are used from async code only (``AsyncSession``); Flask-SQLAlchemy's sync ``Model.query``
is never used in requests. PostgreSQL is the only dialect: JSONB, tsvector, pg_trgm.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    PrimaryKeyConstraint,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import Base

if TYPE_CHECKING:
    # Flask-SQLAlchemy builds ``db.Model`` at run time (``Base`` plus its mixins), so a type
    # checker cannot see it; what it needs to know is that the models are ``Base`` classes.
    Model = Base
else:
    Model = db.Model

ROLES = ("editor", "admin")

#: What a shopper's words are matched against, by weight (migration 0007): the name ('A'), the
#: brand and the category path ('B'), every other attribute value - colour, material, size -
#: ('C'), the description ('D'). 'english' stems plurals and tenses.
SEARCH_VECTOR_SQL = (
    "setweight(to_tsvector('english', coalesce(name, '')), 'A') || "
    "setweight(to_tsvector('english', coalesce(attributes ->> 'brand', '') || ' ' || "
    "coalesce(category_path, '')), 'B') || "
    "setweight(to_tsvector('english', attributes - 'brand'), 'C') || "
    "setweight(to_tsvector('english', coalesce(description, '')), 'D')"
)


def utcnow_column(**kwargs: Any) -> Mapped[datetime]:
    return mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False, **kwargs
    )


class Category(Model):
    """A product category; ``parent`` allows one level of sub-categories."""

    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    slug: Mapped[str] = mapped_column(String(140), nullable=False, unique=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("categories.id", ondelete="RESTRICT"), index=True
    )
    created_at: Mapped[datetime] = utcnow_column()

    parent: Mapped[Category | None] = relationship(remote_side=[id], lazy="raise")

    __table_args__ = (
        CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
        # Names are unique among siblings, case-insensitive (migration 0005).
        Index("uq_categories_parent_name", func.coalesce(text("parent_id"), 0),
              func.lower(text("name")), unique=True),
    )


class Product(Model):
    """A catalog entry. ``version`` guards against lost updates (optimistic locking)."""

    __tablename__ = "products"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    slug: Mapped[str] = mapped_column(String(220), nullable=False, unique=True)
    description: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    price: Mapped[Decimal] = mapped_column(Numeric(10, 2), nullable=False)
    stock: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"))
    attributes: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, server_default=text("'{}'::jsonb")
    )
    category_id: Mapped[int] = mapped_column(
        ForeignKey("categories.id", ondelete="RESTRICT"), nullable=False
    )
    created_at: Mapped[datetime] = utcnow_column()
    updated_at: Mapped[datetime] = utcnow_column()
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    #: "Parent Category", kept by triggers from ``categories`` (migration 0007) for the search
    #: vector; whatever a writer sends is replaced.
    category_path: Mapped[str] = mapped_column(Text, nullable=False, server_default="",
                                               deferred=True)
    search_vector: Mapped[Any] = mapped_column(
        TSVECTOR, Computed(SEARCH_VECTOR_SQL, persisted=True), deferred=True
    )

    category: Mapped[Category] = relationship(lazy="raise")

    __table_args__ = (
        CheckConstraint("price >= 0", name="price_not_negative"),
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("jsonb_typeof(attributes) = 'object'", name="attributes_object"),
        Index("ix_products_search_vector", "search_vector", postgresql_using="gin"),
        Index(
            "ix_products_name_trgm",
            "name",
            postgresql_using="gin",
            postgresql_ops={"name": "gin_trgm_ops"},
        ),
        Index("ix_products_category_id", "category_id"),
        # Listing sorts; the id tie-breaker makes pages stable and keyset pagination possible.
        Index("ix_products_active_price", "is_active", "price", "id"),
        Index("ix_products_active_created", "is_active", "created_at", "id"),
        Index("ix_products_active_name", "is_active", "name", "id"),
        # A category's products by price (migration 0002): the catalog's most common browse.
        Index(
            "ix_products_active_category_price",
            "category_id",
            "price",
            "id",
            postgresql_where=text("is_active"),
        ),
        # The editor's default order (newest first) over active and inactive products alike.
        Index("ix_products_created_id", "created_at", "id"),
        Index(
            "ix_products_attributes",
            "attributes",
            postgresql_using="gin",
            postgresql_ops={"attributes": "jsonb_path_ops"},
        ),
    )


class SearchSynonym(Model):
    """Words a shopper may use for one another ("sofa, couch"): a search for any of them
    matches every one. Editors manage them; a change renews ``category_tree_version``."""

    __tablename__ = "search_synonyms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    words: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = utcnow_column()

    __table_args__ = (
        CheckConstraint("length(words) BETWEEN 3 AND 300", name="words_length"),
    )


class User(Model):
    """An editor or admin. Emails are unique regardless of case."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False, server_default="editor")
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"))
    created_at: Mapped[datetime] = utcnow_column()
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: Part of every signed session cookie; bumping it (sign-out, role change, deactivation)
    #: invalidates every session issued before (migration 0003, app/auth/sessions.py).
    session_generation: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")

    __table_args__ = (
        CheckConstraint("role IN ('editor', 'admin')", name="role_known"),
        Index("uq_users_email_lower", func.lower(text("email")), unique=True),
    )


class ProductRevision(Model):
    """One change to a product: who, when, how, and the before/after of each changed field.

    ``changes`` maps a field name to ``{"before": ..., "after": ...}`` (JSON-safe values).
    """

    __tablename__ = "product_revisions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(16), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    changes: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    created_at: Mapped[datetime] = utcnow_column()

    __table_args__ = (
        CheckConstraint(
            "source IN ('create', 'inline', 'bulk', 'api', 'restore', 'duplicate', 'cli',"
            " 'import')",
            name="source_known",
        ),
        Index("ix_product_revisions_product_created", "product_id", "created_at"),
    )


class ApiToken(Model):
    """A bearer token for the JSON API; only its SHA-256 digest is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    created_at: Mapped[datetime] = utcnow_column()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_api_tokens_user_id", "user_id"),)


class CommandKey(Model):
    """One state-changing command, applied at most once (:mod:`app.data.commands`).

    A form or an API client sends a one-time key with each command; the row is inserted in the
    same transaction as the change, so a repeat of the key finds it (or waits for the
    transaction that is inserting it) and gets the stored outcome instead of a second change.
    ``scope`` separates the editor's forms (``web``) from each API user's own keys
    (``api:<user id>``); ``fingerprint`` is a digest of the endpoint and body the key was first
    used with; ``status``, ``headers`` and ``body`` (zlib) are the response to replay. Rows
    older than ``COMMAND_KEY_TTL`` are deleted lazily (migration 0006).
    """

    __tablename__ = "command_keys"

    scope: Mapped[str] = mapped_column(String(40), nullable=False)
    key: Mapped[str] = mapped_column(String(255), nullable=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)
    status: Mapped[int | None] = mapped_column(Integer)
    headers: Mapped[list[Any] | None] = mapped_column(JSONB)
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = utcnow_column()

    __table_args__ = (
        PrimaryKeyConstraint("scope", "key", name="pk_command_keys"),
        Index("ix_command_keys_created_at", "created_at"),
    )


class Job(Model):
    """A background job the app started (procrastinate's job id): what the editor sees of it -
    kind, who started it, rows done of the total, state and outcome - kept after the queue's
    own row is gone, so progress survives a reload and a worker restart (migration 0009)."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(String(16), nullable=False, server_default="queued")
    total: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    done: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    params: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, server_default=text("'{}'::jsonb"))
    outcome: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = utcnow_column()
    updated_at: Mapped[datetime] = utcnow_column()

    __table_args__ = (
        CheckConstraint("state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')",
                        name="job_state_known"),
        CheckConstraint("done >= 0 AND total >= 0", name="job_counts_not_negative"),
        Index("ix_jobs_user_created", "user_id", "created_at"),
    )


class JobBatch(Model):
    """One batch a job applied, inserted in the batch's own transaction: a retried job skips
    the batches it finds here, so each row is changed exactly once (migration 0009)."""

    __tablename__ = "job_batches"

    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"),
                                        nullable=False)
    batch: Mapped[int] = mapped_column(Integer, nullable=False)
    rows: Mapped[int] = mapped_column(Integer, nullable=False)
    #: The batch's counts (an import's created, updated...), summed into the job's outcome.
    outcome: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    applied_at: Mapped[datetime] = utcnow_column()

    __table_args__ = (PrimaryKeyConstraint("job_id", "batch", name="pk_job_batches"),)


class JobFailure(Model):
    """One row a job could not apply (rejected, or a version conflict), recorded in the
    transaction of the batch that met it: a failed row never fails the job, and a retried
    batch records it once (migration 0013)."""

    __tablename__ = "job_failures"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"),
                                        nullable=False)
    batch: Mapped[int] = mapped_column(Integer, nullable=False)
    line: Mapped[int] = mapped_column(Integer, nullable=False)
    item: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSONB)

    __table_args__ = (
        CheckConstraint("kind IN ('rejected', 'conflict')", name="job_failure_kind_known"),
        Index("ix_job_failures_job_line", "job_id", "line"),
    )


class ImportFile(Model):
    """An uploaded CSV file, kept whole so that any worker on any host applies the very bytes
    the editor checked; ``dry_run`` is what its dry run found, ``sha256`` the digest applying
    checks; ``job_id`` is the job that applied it (at most one) (migration 0013)."""

    __tablename__ = "import_files"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    content: Mapped[bytes] = mapped_column(LargeBinary, nullable=False, deferred=True)
    #: None while a worker checks a large file (``check_job_id``).
    dry_run: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    check_job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"),
                                               unique=True)
    created_at: Mapped[datetime] = utcnow_column()

    __table_args__ = (
        CheckConstraint("size >= 0", name="import_size_not_negative"),
        Index("ix_import_files_created_at", "created_at"),
    )
