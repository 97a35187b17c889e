"""What a versioned change returns: :class:`Saved` or :class:`Conflict` (never a blind write)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..models import Product


@dataclass(frozen=True)
class Saved:
    """The change was applied (or there was nothing to change)."""

    product: Product
    changes: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.changes)


@dataclass(frozen=True)
class Conflict:
    """Someone else saved first: ``current`` is the row as it is now; nothing was written."""

    current: Product
    expected_version: int


UpdateResult = Saved | Conflict
