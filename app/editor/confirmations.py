"""Bulk confirmations bound to what they show.

A bulk action on many rows (more than ``BULK_CONFIRM_LIMIT``), or one that hides several
products, is first *previewed*: the editor sees the action with its parameters, which rows (the
filter in words, or "the N selected products") and exactly how many, and a button that carries a
signed token of exactly that - action, parameters, filter or selected ids, count and a digest of
the matching ids - made with itsdangerous as Flask signs its own session, under its own salt and
with a maximum age. The confirming request is rebuilt from the token alone (the form's other
fields cannot change what is applied); if the matching rows are no longer the ones previewed,
it is refused with the new count and a fresh confirmation, never applied.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from ..catalog.tree import CategoryTree
from .listing import STATUSES, STOCKS, EditorFilters

SALT = "vitrine.editor.bulk-confirmation"
#: Seconds a confirmation stays valid.
MAX_AGE = 15 * 60
#: Filter arguments that do not change which rows match.
_NOT_A_FILTER = ("page", "sort")

Scope = Literal["selected", "filter"]


@dataclass(frozen=True)
class BulkChoice:
    """What the editor chose: the action (a ``BulkForm.ACTIONS`` key) with its parameters, and
    which rows - the selected ids, or every product matching ``filter_args``."""

    action: str
    scope: Scope
    category_id: int | None = None
    value: str | None = None
    filter_args: Mapping[str, str] = field(default_factory=dict)
    ids: tuple[int, ...] = ()

    @classmethod
    def for_filter(cls, action: str, filters: EditorFilters, **params: Any) -> BulkChoice:
        args = {name: str(value) for name, value in filters.args().items()
                if name not in _NOT_A_FILTER}
        return cls(action, "filter", filter_args=args, **params)

    @property
    def filters(self) -> EditorFilters:
        return EditorFilters.from_args(self.filter_args)


@dataclass(frozen=True)
class Confirmed:
    """A valid token: the choice, and the rows it was shown for."""

    choice: BulkChoice
    count: int
    digest: str


class InvalidConfirmation(Exception):
    """Not a token this app signed (tampered, or for something else)."""


class ExpiredConfirmation(Exception):
    """A genuine token older than :data:`MAX_AGE`; ``choice`` is what it confirmed."""

    def __init__(self, choice: BulkChoice) -> None:
        super().__init__("confirmation expired")
        self.choice = choice


def digest(ids: Sequence[int]) -> str:
    """A short fingerprint of the matching ids: a different set gives a different digest."""
    return hashlib.sha256(",".join(map(str, sorted(ids))).encode()).hexdigest()[:32]


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key or "", salt=SALT)


def sign(choice: BulkChoice, ids: Sequence[int]) -> str:
    """The token of the confirmation button."""
    return _serializer().dumps({
        "a": choice.action, "s": choice.scope, "c": choice.category_id, "v": choice.value,
        "f": dict(choice.filter_args), "i": list(choice.ids), "n": len(ids),
        "d": digest(ids)})


def _choice(payload: Any) -> tuple[BulkChoice, int, str]:
    try:
        choice = BulkChoice(
            action=str(payload["a"]), scope=payload["s"], category_id=payload["c"],
            value=payload["v"], filter_args={str(k): str(v) for k, v in payload["f"].items()},
            ids=tuple(int(i) for i in payload["i"]))
        return choice, int(payload["n"]), str(payload["d"])
    except (KeyError, TypeError, ValueError, AttributeError):
        raise InvalidConfirmation from None


def verify(token: str) -> Confirmed:
    """The confirmation in ``token``; :class:`InvalidConfirmation` or
    :class:`ExpiredConfirmation` (older than :data:`MAX_AGE`) otherwise."""
    try:
        payload = _serializer().loads(token, max_age=MAX_AGE)
    except SignatureExpired as error:
        if error.payload is None:  # pragma: no cover - only for unsigned payloads
            raise InvalidConfirmation from None
        payload = _serializer().load_payload(error.payload)
        raise ExpiredConfirmation(_choice(payload)[0]) from None
    except BadSignature:
        raise InvalidConfirmation from None
    return Confirmed(*_choice(payload))


# -- what the confirmation says ----------------------------------------------------------------

def action_text(choice: BulkChoice, categories: Mapping[int, str], currency: str) -> str:
    """The action with its parameters: "Change price by +10 %", "Move to “Garden”"."""
    if choice.action == "set_category":
        name = categories.get(choice.category_id or 0, f"#{choice.category_id}")
        return f"Move to the category “{name}”"
    if choice.action in ("price_percent", "price_amount"):
        value = choice.value or "0"
        sign_ = "−" if value.startswith("-") else "+"
        number = value.lstrip("-")
        if choice.action == "price_percent":
            return f"Change the price by {sign_}{number} %"
        return f"Change the price by {sign_}{currency}{number}"
    return {"activate": "Activate (show to shoppers)",
            "deactivate": "Deactivate (hide from shoppers)"}.get(choice.action, choice.action)


def verb(choice: BulkChoice) -> str:
    """The confirmation button's verb: "Yes, <verb> 1,963 products"."""
    return {"activate": "activate", "deactivate": "deactivate", "set_category": "move"}.get(
        choice.action, "change the price of")


def filter_text(choice: BulkChoice, tree: CategoryTree) -> list[str]:
    """The filter in words, one item per condition (empty: no filter at all)."""
    filters = choice.filters
    words = []
    if filters.q:
        words.append(f"search “{filters.q}”")
    if filters.category:
        node = tree.by_slug.get(filters.category)
        words.append(f"category “{node.name if node else filters.category}”")
    if filters.brand:
        words.append(f"brand “{filters.brand}”")
    if filters.min_price is not None:
        words.append(f"price from {filters.min_price}")
    if filters.max_price is not None:
        words.append(f"price up to {filters.max_price}")
    if filters.status != "all":
        words.append(STATUSES[filters.status].lower())
    if filters.stock:
        words.append(STOCKS[filters.stock].lower())
    return words
