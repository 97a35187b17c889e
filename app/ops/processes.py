"""What this machine's process table says about a pid: alive or not, and its children.

The embedded database's handle list, the metrics directory's dead workers and the ``make run``
supervisor all have to tell a live process from an exited one; a zombie (exited, its status not
yet collected by its parent) counts as exited, which ``kill(pid, 0)`` alone would not say.
"""

from __future__ import annotations

import os
from pathlib import Path


def alive(pid: int) -> bool:
    """Whether ``pid`` is a running process (another user's counts; a zombie does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    fields = _stat_fields(pid)
    return fields is None or fields[0] != "Z"  # without procfs, trust kill()


def children(pid: int) -> list[int]:
    """The pids whose parent is ``pid`` (from procfs; empty where there is none)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        fields = _stat_fields(int(stat.parent.name))
        if fields is not None and int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _stat_fields(pid: int) -> list[str] | None:
    """``/proc/<pid>/stat`` after the command name: state, parent pid, ..."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
