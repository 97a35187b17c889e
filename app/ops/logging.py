"""JSON logs on stderr, each line of a request carrying its request id, written off the loop.

The ``vitrine`` loggers hand records to a queue; a :class:`~logging.handlers.QueueListener`
thread formats them with python-json-logger and writes them, so a slow terminal or pipe never
blocks the loop that serves requests. What the emitting code pays is the queue handler's work:
the message is rendered, a traceback turned into text, and the request id (the ASGI adapter's
:data:`~app.runtime.asgi.current_request_id`) read by :class:`RequestIdFilter`.
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


def configure_logging(level: str = "INFO") -> None:
    """Route the ``vitrine`` loggers through a queue to a JSON stderr handler (idempotent:
    later calls only change the level)."""
    global _listener
    logger = logging.getLogger("vitrine")
    logger.setLevel(level)
    if _listener is not None:
        return
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    stream = logging.StreamHandler(sys.stderr)
    stream.setFormatter(VitrineJsonFormatter())
    _listener = logging.handlers.QueueListener(records, stream, respect_handler_level=True)
    _listener.start()
    atexit.register(_listener.stop)
    handler = _PreparingQueueHandler(records)
    handler.addFilter(RequestIdFilter())
    logger.addHandler(handler)
    logger.propagate = False
