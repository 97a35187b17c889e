"""Live events: an outbox of catalog and session changes, announced at commit.

Every committed change to ``products`` and ``categories`` - whichever code path made it (an
editor's row, a bulk action or job, the API, a restore, the CLI, psql) - must reach every open
screen, and a rolled-back one never. So the announcement is written by the database itself, in
the writing transaction:

* statement-level ``AFTER`` triggers with transition tables insert **one** ``live_events`` row
  per statement (a bulk change of 2,000 products is one event listing their ids and new
  versions, not 2,000), with the columns whose value changed and who made the change. Who and
  the source come from two transaction-local settings the write services set
  (``vitrine.actor``, ``vitrine.source``, :mod:`app.data.live_actor`); a write that set neither
  (psql, a migration) is announced with no actor and the source ``sql``;
* each insert calls ``pg_notify('vitrine_live', id)``. PostgreSQL delivers a notification only
  when its transaction commits, and drops it on rollback (a rolled-back savepoint included);
  the row disappears with it. Listeners wake on the notification and read the rows (the
  payload is only a hint: a notification's 8,000-byte limit could not hold a bulk change).

A row-level trigger on ``users`` adds a ``session`` event when a user's sessions end
(``session_generation`` bumped by sign-out, a role change or a deactivation; a new password;
the account deleted), so an open event stream of that user closes without polling.

``kind`` is free text: other kinds (``presence``) are inserted by the app with the same
notification (:func:`app.live.outbox.publish`). Rows are kept briefly - they exist for replay
after a listener's reconnection and a client's ``Last-Event-ID`` - and deleted by age, in
bounded batches, by the workers (:mod:`app.live.retention`); the index on ``created_at`` keeps
that delete cheap.

Revision ID: 0010
Revises: 0009
"""
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

#: Columns derived from others or bumped on every write: not "what changed" for a reader.
#: (So are the generated ``facet_*`` columns of later migrations: excluded by name pattern.)
IGNORED_COLUMNS = ("version", "updated_at", "created_at", "search_vector", "category_path",
                   "search_document", "search_text")


def _ignored() -> str:
    return ", ".join(f"'{name}'" for name in IGNORED_COLUMNS)


def upgrade():
    op.execute("""
        CREATE TABLE live_events (
            id bigserial PRIMARY KEY,
            kind text NOT NULL,
            entity_ids bigint[] NOT NULL DEFAULT '{}',
            payload jsonb NOT NULL DEFAULT '{}',
            created_at timestamptz NOT NULL DEFAULT now()
        )
    """)
    op.execute("CREATE INDEX live_events_created_at ON live_events (created_at)")
    op.execute("""
        CREATE FUNCTION live_actor() RETURNS jsonb
        LANGUAGE sql STABLE AS $$
            SELECT jsonb_build_object('id', u.id, 'email', u.email)
              FROM users AS u
             WHERE u.id = CAST(NULLIF(current_setting('vitrine.actor', true), '') AS integer)
        $$
    """)
    op.execute("""
        CREATE FUNCTION live_announce(kind text, ids bigint[], payload jsonb) RETURNS bigint
        LANGUAGE plpgsql AS $$
        DECLARE
            event_id bigint;
        BEGIN
            INSERT INTO live_events (kind, entity_ids, payload)
            VALUES (kind, ids, payload) RETURNING id INTO event_id;
            PERFORM pg_notify('vitrine_live', event_id::text);
            RETURN event_id;
        END
        $$
    """)
    for table, kind, versions in (("products", "product", True), ("categories", "category", False)):
        version_expr = "array_agg(n.version ORDER BY n.id)" if versions else "'{}'::int[]"
        old_version_expr = "array_agg(o.version ORDER BY o.id)" if versions else "'{}'::int[]"
        op.execute(f"""
            CREATE FUNCTION live_{table}_changed() RETURNS trigger
            LANGUAGE plpgsql AS $$
            DECLARE
                ids bigint[];
                versions int[];
                fields text[] := '{{}}';
            BEGIN
                IF TG_OP = 'UPDATE' THEN
                    SELECT array_agg(n.id ORDER BY n.id), {version_expr}
                      INTO ids, versions
                      FROM new_rows AS n JOIN old_rows AS o ON o.id = n.id
                     WHERE to_jsonb(n) IS DISTINCT FROM to_jsonb(o);
                    IF ids IS NULL THEN
                        RETURN NULL;
                    END IF;
                    SELECT coalesce(array_agg(DISTINCT e.key ORDER BY e.key), '{{}}')
                      INTO fields
                      FROM new_rows AS n JOIN old_rows AS o ON o.id = n.id,
                           LATERAL jsonb_each(to_jsonb(n)) AS e
                     WHERE e.key NOT IN ({_ignored()})
                       AND e.key NOT LIKE 'facet\\_%'
                       AND to_jsonb(o) -> e.key IS DISTINCT FROM e.value;
                ELSIF TG_OP = 'INSERT' THEN
                    SELECT array_agg(n.id ORDER BY n.id), {version_expr}
                      INTO ids, versions FROM new_rows AS n;
                ELSE
                    SELECT array_agg(o.id ORDER BY o.id), {old_version_expr}
                      INTO ids, versions FROM old_rows AS o;
                END IF;
                IF ids IS NULL THEN
                    RETURN NULL;
                END IF;
                PERFORM live_announce('{kind}', ids, jsonb_build_object(
                    'op', lower(TG_OP),
                    'versions', to_jsonb(versions),
                    'fields', to_jsonb(fields),
                    'actor', live_actor(),
                    'source', coalesce(NULLIF(current_setting('vitrine.source', true), ''),
                                       'sql')));
                RETURN NULL;
            END
            $$
        """)
        for event, tables in (("INSERT", "NEW TABLE AS new_rows"),
                              ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
                              ("DELETE", "OLD TABLE AS old_rows")):
            op.execute(f"""
                CREATE TRIGGER live_{event.lower()}
                AFTER {event} ON {table}
                REFERENCING {tables}
                FOR EACH STATEMENT EXECUTE FUNCTION live_{table}_changed()
            """)
    op.execute("""
        CREATE FUNCTION live_sessions_ended() RETURNS trigger
        LANGUAGE plpgsql AS $$
        DECLARE
            user_id bigint := CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END;
        BEGIN
            PERFORM live_announce('session', ARRAY[user_id],
                                  jsonb_build_object('user_id', user_id));
            RETURN NULL;
        END
        $$
    """)
    op.execute("""
        CREATE TRIGGER live_sessions_ended
        AFTER UPDATE ON users
        FOR EACH ROW
        WHEN (OLD.session_generation IS DISTINCT FROM NEW.session_generation
              OR OLD.password_hash IS DISTINCT FROM NEW.password_hash
              OR OLD.role IS DISTINCT FROM NEW.role
              OR OLD.is_active IS DISTINCT FROM NEW.is_active)
        EXECUTE FUNCTION live_sessions_ended()
    """)
    op.execute("""
        CREATE TRIGGER live_sessions_deleted
        AFTER DELETE ON users
        FOR EACH ROW EXECUTE FUNCTION live_sessions_ended()
    """)


def downgrade():
    op.execute("DROP TRIGGER IF EXISTS live_sessions_deleted ON users")
    op.execute("DROP TRIGGER IF EXISTS live_sessions_ended ON users")
    op.execute("DROP FUNCTION IF EXISTS live_sessions_ended()")
    for table in ("products", "categories"):
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS live_{event} ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS live_{table}_changed()")
    op.execute("DROP FUNCTION IF EXISTS live_announce(text, bigint[], jsonb)")
    op.execute("DROP FUNCTION IF EXISTS live_actor()")
    op.execute("DROP TABLE IF EXISTS live_events")
