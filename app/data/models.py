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
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR, aggregate_order_by
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

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

#: The attributes kept as columns for facet filters and counts (migration 0014).
_FACETS = ("brand", "colour", "size")


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
    #: The facet attributes as columns (migration 0014): what the catalog filters and counts
    #: facets on, through the covering indexes below.
    facet_brand: Mapped[str | None] = mapped_column(
        Text, Computed("attributes ->> 'brand'", persisted=True), deferred=True)
    facet_colour: Mapped[str | None] = mapped_column(
        Text, Computed("attributes ->> 'colour'", persisted=True), deferred=True)
    facet_size: Mapped[str | None] = mapped_column(
        Text, Computed("attributes ->> 'size'", persisted=True), deferred=True)

    category: Mapped[Category] = relationship(lazy="raise")
    if TYPE_CHECKING:  # column properties over product_images, added below ProductImage
        card_image: Mapped[dict[str, Any] | None]
        shop_images: Mapped[list[dict[str, Any]] | None]

    __table_args__ = (
        CheckConstraint("price >= 0", name="price_not_negative"),
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("jsonb_typeof(attributes) = 'object'", name="attributes_object"),
        # The GIN indexes' pending lists, which every search through them reads, are kept short
        # (migration 0019, which also has the table vacuumed after 1% of it changed).
        Index("ix_products_search_vector", "search_vector", postgresql_using="gin",
              postgresql_with={"gin_pending_list_limit": 128}),
        Index(
            "ix_products_name_trgm",
            "name",
            postgresql_using="gin",
            postgresql_ops={"name": "gin_trgm_ops"},
            postgresql_with={"gin_pending_list_limit": 128},
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
            postgresql_with={"gin_pending_list_limit": 128},
        ),
        # Facet counts of an attribute filter as index-only scans (migration 0014); a facet
        # value within categories and a price range as one index range (migration 0015).
        *(Index(f"ix_products_active_facet_{facet}", f"facet_{facet}", "category_id", "price",
                postgresql_include=[*(f"facet_{other}" for other in _FACETS if other != facet),
                                    "stock"],
                postgresql_where=text("is_active"))
          for facet in _FACETS),
        # A facet count's sample by id ranges reads only the entries in its ranges (0016).
        Index("ix_products_active_category_id", "category_id", "id",
              postgresql_where=text("is_active")),
        *(Index(f"ix_products_active_{facet}_id", f"facet_{facet}", "id",
                postgresql_where=text("is_active"))
          for facet in _FACETS),
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
            " 'images', 'import')",
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


class LiveEventRow(Model):
    """One announced change (migration 0010): written by triggers on ``products``,
    ``categories`` and ``users`` in the writing transaction, or by :func:`app.live.outbox.publish`;
    read by each worker's listener (:mod:`app.live`) and deleted after a short retention."""

    __tablename__ = "live_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(Text, nullable=False)
    entity_ids: Mapped[list[int]] = mapped_column(
        ARRAY(BigInteger), nullable=False, server_default=text("'{}'"))
    payload: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, server_default=text("'{}'"))
    created_at: Mapped[datetime] = utcnow_column()

    __table_args__ = (Index("live_events_created_at", "created_at"),)


class ImageBlob(Model):
    """One stored image file, keyed by the SHA-256 of its bytes (migration 0012): an upload's
    cleaned original or one of its variants. Served by :mod:`app.catalog.images` with plain
    SQL (the bytes never pass through the ORM)."""

    __tablename__ = "image_blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(32), nullable=False)
    width: Mapped[int] = mapped_column(Integer, nullable=False)
    height: Mapped[int] = mapped_column(Integer, nullable=False)
    data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False, deferred=True)
    created_at: Mapped[datetime] = utcnow_column()

    __table_args__ = (
        CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="sha256_hex"),
        CheckConstraint("content_type IN ('image/jpeg', 'image/png', 'image/webp')",
                        name="content_type_known"),
    )


class ProductImage(Model):
    """One of a product's images, in the editor's order, with its required alt text.
    ``variants`` (``[{"w", "h", "webp", "jpeg"}]``, widths ascending) is set by the variants
    job, which also turns ``state`` from ``pending`` to ``ready`` (or ``failed``)."""

    __tablename__ = "product_images"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    alt: Mapped[str] = mapped_column(Text, nullable=False)
    original: Mapped[str] = mapped_column(ForeignKey("image_blobs.sha256"), nullable=False)
    width: Mapped[int] = mapped_column(Integer, nullable=False)
    height: Mapped[int] = mapped_column(Integer, nullable=False)
    variants: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    state: Mapped[str] = mapped_column(String(16), nullable=False, server_default="pending")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = utcnow_column()
    if TYPE_CHECKING:  # a column property, added below
        original_type: Mapped[str]

    __table_args__ = (
        CheckConstraint("state IN ('pending', 'ready', 'failed')", name="state_known"),
        CheckConstraint("char_length(btrim(alt)) BETWEEN 1 AND 250", name="alt_present"),
        CheckConstraint("position >= 1", name="position_positive"),
        Index("ix_product_images_product_position", "product_id", "position", "id"),
    )


#: The stored original's content type (the editor's preview URL needs its extension).
ProductImage.original_type = column_property(
    select(ImageBlob.content_type).where(ImageBlob.sha256 == ProductImage.original)
    .correlate_except(ImageBlob).scalar_subquery())


def _shop_image_object() -> Any:
    return func.jsonb_build_object("alt", ProductImage.alt, "w", ProductImage.width,
                                   "h", ProductImage.height, "variants", ProductImage.variants,
                                   type_=JSONB)


#: The product's first image that shoppers can see (variants ready), as one JSON value, or
#: NULL: a correlated subquery the catalog's page query undefers, so the cards stay one query.
Product.card_image = column_property(
    select(_shop_image_object())
    .where(ProductImage.product_id == Product.id, ProductImage.state == "ready")
    .order_by(ProductImage.position, ProductImage.id)
    .limit(1)
    .correlate_except(ProductImage)
    .scalar_subquery(),
    deferred=True,
)
#: All of them in order (the product page), as one JSON array, or NULL.
Product.shop_images = column_property(
    select(func.jsonb_agg(aggregate_order_by(_shop_image_object(), ProductImage.position,
                                             ProductImage.id), type_=JSONB))
    .where(ProductImage.product_id == Product.id, ProductImage.state == "ready")
    .correlate_except(ProductImage)
    .scalar_subquery(),
    deferred=True,
)


class Presence(Model):
    """One row form an editor has open (issue 15, migration 0011): shown to colleagues as
    "ana@example.com is editing" until it ends (Save, Cancel, leaving the page) or its
    heartbeat stops (``expires_at`` passes). ``token`` is the random key the form was rendered
    with; an ended row is kept briefly as a tombstone (:mod:`app.data.presence`)."""

    __tablename__ = "presence"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         nullable=False)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"),
                                            nullable=False)
    started_at: Mapped[datetime] = utcnow_column()
    last_heartbeat: Mapped[datetime] = utcnow_column()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: ``closed`` (Save, Cancel: final) or ``lapsed`` (its heartbeat stopped, the page was
    #: hidden: the same form's next heartbeat brings it back).
    ended_by: Mapped[str | None] = mapped_column(String(8))

    __table_args__ = (
        CheckConstraint("ended_by IN ('closed', 'lapsed')", name="ended_by_known"),
        Index("ix_presence_product_live", "product_id",
              postgresql_where=text("ended_at IS NULL")),
        Index("ix_presence_expires_at", "expires_at"),
        Index("ix_presence_user", "user_id"),
    )


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
