"""CPU time per request, read from procfs: the server's process tree, and PostgreSQL's backends.

The server's is the Hypercorn process and its workers. PostgreSQL's is the backends serving one
variant, found by the ``application_name`` its pool connects with (each variant of a run gets
its own, :func:`application_name`), so two variants running side by side on one database are
told apart. Backends are read from ``/proc`` too, which needs the database on this machine
(the embedded server, or a local one): for a remote database the column reads ``n/a``.
"""

from __future__ import annotations

import os
from pathlib import Path

from app.ops.processes import children

_TICK = os.sysconf("SC_CLK_TCK")


def _process_cpu(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / _TICK


def cpu_seconds(pid: int) -> float:
    """User + system CPU of ``pid`` and its direct children (Hypercorn's workers)."""
    return sum(_process_cpu(process) or 0.0 for process in (pid, *children(pid)))


def application_name(index: int) -> str:
    """The ``application_name`` of the ``index``-th variant of a run."""
    return f"vitrine-bench-{index}"


class BackendCpu:
    """CPU seconds of the PostgreSQL backends connected as one ``application_name``."""

    def __init__(self, dsn: str, name: str) -> None:
        self.dsn = dsn
        self.name = name

    def pids(self) -> list[int]:
        import psycopg

        with psycopg.connect(self.dsn, autocommit=True) as connection:
            rows = connection.execute(
                "SELECT pid FROM pg_stat_activity WHERE application_name = %s",
                (self.name,)).fetchall()
        return [row[0] for row in rows]

    def sample(self) -> dict[int, float] | None:
        """CPU seconds per backend pid; None when the backends are not on this machine."""
        found = {pid: _process_cpu(pid) for pid in self.pids()}
        if any(value is None for value in found.values()):
            return None
        return {pid: value for pid, value in found.items() if value is not None}

    @staticmethod
    def spent(before: dict[int, float] | None, after: dict[int, float] | None) -> float | None:
        """CPU seconds between two samples (a backend that appeared in between counts whole;
        one that ended in between is lost - pools keep theirs open)."""
        if before is None or after is None:
            return None
        return sum(value - before.get(pid, 0.0) for pid, value in after.items())
