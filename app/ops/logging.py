"""Structured (JSON) logs with the request id, written off the event loop.

Handlers write to stderr from a :class:`~logging.handlers.QueueListener` thread, so a slow
terminal or pipe never blocks the loop that serves requests.
"""

from __future__ import annotations

import atexit
import json
import logging
import logging.handlers
import queue
import sys
import time

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
_listener: logging.handlers.QueueListener | None = None


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and any ``extra`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str = "INFO") -> None:
    """Route the ``vitrine`` loggers through a queue to a JSON stderr handler (idempotent)."""
    global _listener
    logger = logging.getLogger("vitrine")
    logger.setLevel(level)
    if _listener is not None:
        return
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    stream = logging.StreamHandler(sys.stderr)
    stream.setFormatter(JsonFormatter())
    _listener = logging.handlers.QueueListener(records, stream, respect_handler_level=True)
    _listener.start()
    atexit.register(_listener.stop)
    logger.addHandler(logging.handlers.QueueHandler(records))
    logger.propagate = False
