"""Hypercorn with a metrics directory of its own: ``python -m app.ops.server [hypercorn args]``.

prometheus-client's multiprocess mode needs, before any worker starts, a directory that holds
nothing from an earlier run: each worker writes its values there, and a scrape of any worker
merges them. This runs Hypercorn's own entry point in this process (its master) after creating
``$TMPDIR/vitrine-metrics-<pid>-…`` and setting ``PROMETHEUS_MULTIPROC_DIR`` for the workers it
spawns; the directory is removed when Hypercorn returns (SIGINT or SIGTERM included), and one
left by a launcher that was killed is removed by the next start.

If ``PROMETHEUS_MULTIPROC_DIR`` is already set, that directory is used (created if missing) and
emptied of metric files, but kept.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from hypercorn.__main__ import main as hypercorn_main

from .processes import alive

VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
PREFIX = "vitrine-metrics-"
_OWNED = re.compile(rf"^{PREFIX}(\d+)-")


@contextlib.contextmanager
def metrics_directory() -> Iterator[Path]:
    """Set ``PROMETHEUS_MULTIPROC_DIR`` to a fresh directory while the block runs."""
    given = os.environ.get(VARIABLE)
    if given:
        directory = Path(given)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink()
        yield directory
        return
    _remove_orphans(Path(tempfile.gettempdir()))
    directory = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))
    os.environ[VARIABLE] = str(directory)
    try:
        yield directory
    finally:
        os.environ.pop(VARIABLE, None)
        shutil.rmtree(directory, ignore_errors=True)


def _remove_orphans(parent: Path) -> None:
    """Remove directories of launchers that died without cleaning up (SIGKILL)."""
    for path in parent.glob(f"{PREFIX}*"):
        match = _OWNED.match(path.name)
        if match is None or not path.is_dir():
            continue
        if not alive(int(match.group(1))):
            shutil.rmtree(path, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    with metrics_directory():
        return hypercorn_main(argv)


if __name__ == "__main__":
    sys.exit(main())
