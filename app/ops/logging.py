"""JSON logs on stderr, each line of a request carrying its request id, written off the loop.

The ``vitrine`` loggers, and the few library loggers that matter (:data:`LIBRARY_LOGGERS`, at
WARNING by default: ``VITRINE_LIBRARY_LOG_LEVEL``), hand records to a queue; a
:class:`~logging.handlers.QueueListener` thread formats them with python-json-logger and writes
them, so a slow terminal or pipe never blocks the loop that serves requests. What the emitting
code pays is the queue handler's work: the message is rendered, a traceback turned into text,
and the request id (the ASGI adapter's :data:`~app.runtime.asgi.current_request_id`) read by
:class:`RequestIdFilter` - for a library's line too, when it is logged during a request.
"""

from __future__ import annotations

import atexit
import copy
import logging
import logging.handlers
import queue
import sys
import time
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from ..runtime.asgi import current_request_id

_listener: logging.handlers.QueueListener | None = None


class RequestIdFilter(logging.Filter):
    """Give a record the id of the request it was logged in (a given ``request_id`` wins)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            request_id = current_request_id.get()
            if request_id is not None:
                record.request_id = request_id
        return True


class _PreparingQueueHandler(logging.handlers.QueueHandler):
    """Queues a copy with the message rendered and the traceback as text, as the standard
    handler does, but keeps the traceback apart from the message (``exc_info`` in the JSON)."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        prepared = copy.copy(record)
        prepared.msg = prepared.message = record.getMessage()
        prepared.args = None
        if record.exc_info:
            prepared.exc_text = _TRACEBACKS.formatException(record.exc_info)
            prepared.exc_info = None
        return prepared


_TRACEBACKS = logging.Formatter()


class VitrineJsonFormatter(JsonFormatter):
    """``ts`` (UTC, milliseconds), ``level`` (lower case), ``logger``, ``message``, then the
    record's ``extra`` fields, then ``exc_info``."""

    def __init__(self) -> None:
        super().__init__(
            "{asctime}{levelname}{name}{message}",
            style="{",
            rename_fields={"asctime": "ts", "levelname": "level", "name": "logger"},
        )

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        return f"{seconds}.{int(record.msecs):03d}Z"

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        log_data["level"] = log_data["level"].lower()
        return log_data


#: Library loggers whose warnings an operator must see: Flask-Limiter falling back to memory
#: (rate limits per worker), `limits` (its storage), Hypercorn's own errors, and SQLAlchemy's
#: pool (connections dropped or reset). Without a handler they went nowhere: Flask-Limiter even
#: installs a ``NullHandler``, which keeps Python's last-resort stderr output away too.
LIBRARY_LOGGERS = ("flask-limiter", "limits", "hypercorn.error", "sqlalchemy.pool")

#: The queue handlers of the ``vitrine`` loggers and of the libraries (one queue, one listener).
_handlers: tuple[logging.Handler, logging.Handler] | None = None


def configure_logging(level: str = "INFO", library_level: str = "WARNING") -> None:
    """Route the ``vitrine`` loggers (at ``level``) and the :data:`LIBRARY_LOGGERS` (at
    ``library_level``) through one queue to a JSON stderr handler (idempotent: later calls only
    change the levels)."""
    logger = logging.getLogger("vitrine")
    logger.setLevel(level)
    own, library = _queue_handlers()
    library.setLevel(library_level)
    if own not in logger.handlers:
        logger.addHandler(own)
        logger.propagate = False
    for name in LIBRARY_LOGGERS:
        library_logger = logging.getLogger(name)
        if name != "hypercorn.error":  # Hypercorn sets its level itself (``loglevel``)
            library_logger.setLevel(library_level)
        if library not in library_logger.handlers:
            library_logger.addHandler(library)
        library_logger.propagate = False


def hypercorn_handler() -> logging.Handler:
    """The handler for Hypercorn's ``logconfig_dict`` (``hypercorn.toml``).

    In a worker Hypercorn creates its ``hypercorn.error`` logger after the app is loaded and
    replaces its handlers with a plain-text stderr one, so :func:`configure_logging` cannot
    keep it; the dictConfig that Hypercorn applies right after puts this one back."""
    return _queue_handlers()[1]


def _queue_handlers() -> tuple[logging.Handler, logging.Handler]:
    """The queue handlers for ``vitrine`` and for the libraries (the library one filters at its
    own level), created with their listener on first use."""
    global _listener, _handlers
    if _handlers is not None:
        return _handlers
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    stream = logging.StreamHandler(sys.stderr)
    stream.setFormatter(VitrineJsonFormatter())
    _listener = logging.handlers.QueueListener(records, stream, respect_handler_level=True)
    _listener.start()
    atexit.register(_listener.stop)
    library = _queue_handler(records)
    library.setLevel(logging.WARNING)
    _handlers = (_queue_handler(records), library)
    return _handlers


def _queue_handler(records: queue.SimpleQueue[logging.LogRecord]) -> logging.Handler:
    handler = _PreparingQueueHandler(records)
    handler.addFilter(RequestIdFilter())
    return handler
