"""What an editor sees when colleagues changed the product while they were editing it.

The product service merges field by field (:mod:`app.data.merge`). A clean merge is saved, and
:func:`saved_notice` names whose changes were kept ("Merged with ana@example.com's change to
Brand"). A conflict (fields both sides changed to different values) is the 409 of
:func:`conflict_response`: only those fields, each with "keep mine" / "keep theirs". Its form
resends the whole change against the current version: the conflicting fields as chosen, the
editor's other changes as they were, everything else as it is now - so "keep mine" applies
only the fields the editor changed, and a colleague's other fields are never reverted. Nothing
was written when the 409 is shown.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask.typing import ResponseReturnValue

from ..data import products as svc
from ..data.categories import category_choices
from ..data.database import get_session
from ..data.merge import Merge, without_base
from ..data.products import ATTRIBUTE_KEYS
from ..data.revisions import ATTRIBUTE_PREFIX, FIELD_LABELS, snapshot
from .rendering import page_or_fragment

ROW_PAGE = "editor/product.html"
ROW_CONFLICT = "partials/editor/row_conflict.html"

#: The row form's fields in the row's order: (state key, form field name).
ROW_FIELDS = (("name", "name"), ("price", "price"), ("stock", "stock"),
              ("category_id", "category_id"), ("is_active", "is_active"),
              *((f"{ATTRIBUTE_PREFIX}{key}", key) for key in ATTRIBUTE_KEYS))
FORM_NAMES = dict(ROW_FIELDS)


def display(field: str, value: Any, categories: dict[int, str]) -> str:
    """A tracked field's value as people read it."""
    if value is None or value == "":
        return "—"
    if field == "category_id":
        return categories.get(value, f"#{value} (deleted)") if isinstance(value, int) else "—"
    if field == "is_active":
        return "Active" if value else "Inactive"
    if field == "price":
        try:
            return f"{Decimal(str(value)):.2f}"
        except ArithmeticError:
            return str(value)
    return str(value)


def form_value(field: str, value: Any, method: str) -> str:
    """A tracked field's value as the row form (``put``) or a single-field edit (``patch``)
    sends it."""
    if field == "is_active":
        if method == "patch":
            return "1" if value else "0"
        return "y" if value else ""  # a checked checkbox; "" is unchecked for BooleanField
    return "" if value is None else str(value)


def who(author: str | None, source: str) -> str:
    """Who made a change, for a note beside a conflicting value."""
    name = author or "an automated task"
    return f"{name}, bulk change" if source == "bulk" else name


def merged_text(merged_with: tuple[svc.MergedChange, ...]) -> str:
    """"Merged with ana@example.com’s change to Brand and Price." (one clause per author and
    kind of change)."""
    by_author: dict[tuple[str, bool], list[str]] = {}
    for change in merged_with:
        label = FIELD_LABELS.get(change.field, change.field)
        key = (change.author or "an automated task", change.source == "bulk")
        by_author.setdefault(key, []).append(label)
    clauses = []
    for (author, bulk), labels in by_author.items():
        listed = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]
        kind = "bulk change" if bulk else "change"
        clauses.append(f"{author}’s {kind}{'s' if len(labels) > 1 else ''} to {listed}")
    return "Merged with " + "; ".join(clauses) + "."


def saved_notice(result: svc.Saved, template: str | None = None) -> dict[str, Any]:
    """The notice after a save: what happened, and whose changes it was merged with."""
    name = result.product.name
    if template:
        text = template.format(name=name)
    else:
        text = f"Saved “{name}”." if result.changed else f"No changes to “{name}”."
    if result.merged_with:
        text = f"{text} {merged_text(result.merged_with)}"
    return {"text": text, "merged": bool(result.merged_with)}


async def conflict_response(conflict: svc.Conflict, resend_url: str,
                            method: str) -> ResponseReturnValue:
    """409: the conflicting fields, mine beside theirs with a choice each; the form resends to
    ``resend_url`` with ``method`` (``put``: the whole row form, ``patch``: a single field)
    at the current version."""
    current = conflict.current
    merge: Merge = conflict.merge or without_base({}, snapshot(current))
    categories = dict(await category_choices(await get_session()))
    rows = []
    for field, conflicting in merge.conflicts.items():
        author, source = conflict.authors.get(field, (None, "inline"))
        rows.append({
            "field": field, "name": FORM_NAMES.get(field, field),
            "label": FIELD_LABELS.get(field, field),
            "mine": display(field, conflicting.mine, categories),
            "theirs": display(field, conflicting.theirs, categories),
            "mine_value": form_value(field, conflicting.mine, method),
            "theirs_value": form_value(field, conflicting.theirs, method),
            "who": who(author, source) if field in conflict.authors else None,
        })
    hidden: dict[str, str] = {}
    if method == "put":  # the row form: every other field as the merge leaves it
        merged = merge.result()
        for field, name in ROW_FIELDS:
            if field not in merge.conflicts:
                value = form_value(field, merged.get(field), method)
                if not (field == "is_active" and value == ""):
                    hidden[name] = value
    kept = [FIELD_LABELS.get(field, field) for field in merge.theirs_kept]
    mine_merged = [FIELD_LABELS.get(field, field) for field in merge.mine
                   if field not in merge.conflicts]
    return page_or_fragment(ROW_PAGE, ROW_CONFLICT, status=409, product=current, rows=rows,
                            hidden=hidden, overwrite_url=resend_url, method=method,
                            kept=kept, mine_merged=mine_merged, title=current.name)
