"""Background jobs on procrastinate (PostgreSQL: ``LISTEN/NOTIFY``, no other server).

Why procrastinate: the app already runs on PostgreSQL, and a queue in the same database can be
deferred to *in the same transaction* as the row that describes the job (a job exists exactly
when its ``jobs`` row does); it is async, maintained, and its workers run on any number of
hosts. Its schema is applied by our migration 0009, so ``flask db upgrade`` stays the one
command.

* :mod:`.queue` - the procrastinate ``App`` (psycopg connector on ``DATABASE_URL``, the
  embedded server by default), the tasks' blueprint, and :func:`~.queue.defer` in a session's
  transaction.
* :mod:`.batches` - exactly-once batches: each batch's writes and its ``job_batches`` row
  commit together, so a retried job skips what it already applied.
* :mod:`.running` - what every job's task does around its work (the app from the worker's
  context, a failure its editor sees).
* :mod:`.bulk` - bulk product changes run as a job; :mod:`.imports` - a CSV file's dry run
  and its import; :mod:`.images` - an uploaded image's variants; :mod:`.purge` - deleting
  what ended long ago.
* :mod:`.worker` - ``flask --app app worker``: runs jobs and retries those whose worker died.
"""
