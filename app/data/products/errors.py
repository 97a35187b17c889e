"""Why a product write was refused. Each carries a message meant for people, so the editor and
the API show the same words; neither HTTP nor forms are known here (the callers map them to
422/404/409 and to form fields)."""

from __future__ import annotations

from collections.abc import Mapping


class ProductNotFound(LookupError):
    """No product with that id."""


class ProductValidationError(ValueError):
    """Input that cannot be stored; ``errors`` maps each field (``attributes.<key>`` for an
    attribute) to a message for people."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = dict(errors)


class RestoreError(ValueError):
    """An earlier version cannot be restored (missing history, or not an earlier version)."""


class BulkError(ValueError):
    """A bulk action was refused or failed as a whole; nothing was changed."""
