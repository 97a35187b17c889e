"""What a versioned change returns: :class:`Saved` or :class:`Conflict` (never a blind write)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..merge import Merge
from ..models import Product


@dataclass(frozen=True)
class MergedChange:
    """A colleague's change to ``field`` that a save merged with (kept as they left it):
    ``author`` is their email (None for a system task or a deleted user), ``source`` how
    they made it (``inline``, ``bulk``, ``api``...)."""

    field: str
    author: str | None
    source: str


@dataclass(frozen=True)
class Saved:
    """The change was applied (or there was nothing to change). ``merged_with`` lists the
    colleagues' changes made since the caller's version that were kept alongside it."""

    product: Product
    changes: dict[str, dict[str, Any]] = field(default_factory=dict)
    merged_with: tuple[MergedChange, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.changes)


@dataclass(frozen=True)
class Conflict:
    """Someone else saved first: ``current`` is the row as it is now; nothing was written.

    For a merging caller, ``merge`` holds the field-level comparison (only
    ``merge.conflicts`` needs a choice) and ``authors`` who changed each field since;
    None when the caller asked for a strict version check."""

    current: Product
    expected_version: int
    merge: Merge | None = None
    authors: dict[str, tuple[str | None, str]] = field(default_factory=dict)


UpdateResult = Saved | Conflict
