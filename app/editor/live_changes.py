"""What colleagues changed in a product while this editor has its row open (issue 15).

The editor stream tells the page that a product moved on; a row open for edit is never
replaced (what the editor typed stays, and so does the version the form was opened at, which
the merge needs). Instead editor-live.js asks :func:`changes` what changed since that version
and shows the answer in the row: "ana@example.com set the price to 12.00 — your save will
merge." The wording follows the merge rules (:mod:`app.data.merge`): fields only colleagues
changed are kept by the save; a field the editor changed too (``typed``, the names of the
form's fields the editor edited) is said to overlap: the save shows both values if they differ.
"""

from __future__ import annotations

from typing import Any

from flask import abort, request, url_for
from flask.typing import ResponseReturnValue

from ..auth.access import editor_required
from ..data import products as svc
from ..data.categories import category_choices
from ..data.database import get_session
from ..data.lookups import get_or_404
from ..data.merge import changed
from ..data.models import Product
from ..data.revisions import FIELD_LABELS, HistoryIncomplete, history_since, snapshot
from ..web import parsing
from .blueprint import bp
from .conflicts import ROW_FIELDS, display, who
from .rendering import page_or_fragment

BAD_SINCE = "This row is missing the version it was opened at. Reload the page."
NOTICE = "partials/editor/live_notice.html"
#: The row form's field names, to the merge's field names.
FIELD_OF = {name: field for field, name in ROW_FIELDS}


def phrase(field: str, value: Any, categories: dict[int, str]) -> str:
    """One change as a colleague's action: "set the price to 12.00", "hid it from shoppers"."""
    if field == "is_active":
        return "showed it to shoppers" if value else "hid it from shoppers"
    label = FIELD_LABELS.get(field, field).lower()
    if field == "description":
        return "changed the description"
    if value is None or value == "":
        return f"cleared the {label}"
    return f"set the {label} to {display(field, value, categories)}"


def listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _typed() -> set[str]:
    """The merge fields the editor changed in the form (unknown names are ignored)."""
    return {FIELD_OF[name] for name in request.args.getlist("typed")[:32] if name in FIELD_OF}


async def describe(product: Product, since_version: int, typed: set[str]) -> dict[str, Any]:
    """The notice for a row opened at ``since_version``: ``text`` (empty when nothing changed
    since), ``overlap`` (labels of fields both changed), ``fields`` (their fields)."""
    if since_version >= product.version:
        return {"text": "", "overlap": [], "fields": []}
    session = await get_session()
    try:
        since = await history_since(session, product, since_version)
    except HistoryIncomplete:
        return {"text": "Someone changed this product since you opened it. Your save will "
                        "merge what it can and show you any field you both changed.",
                "overlap": [], "fields": [], "kind": "warning"}
    theirs = changed(since.base, snapshot(product))
    if not theirs:
        return {"text": "", "overlap": [], "fields": []}
    categories = dict(await category_choices(session))
    by_author: dict[str, list[str]] = {}
    for field, value in theirs.items():
        author, source = since.authors.get(field, (None, "inline"))
        by_author.setdefault(who(author, source), []).append(phrase(field, value, categories))
    clauses = "; ".join(f"{author} {listed(phrases)}" for author, phrases in by_author.items())
    overlap = [field for field in theirs if field in typed]
    if overlap:
        labels = listed([FIELD_LABELS.get(field, field) for field in overlap])
        text = (f"{clauses}. You changed {labels} too: if your value differs, saving will show "
                "you both to choose from; everything else merges.")
    else:
        text = f"{clauses} — your save will merge."
    if text.startswith("an automated task"):  # an email stays as it is written
        text = "A" + text[1:]
    return {"text": text, "overlap": overlap, "fields": list(theirs),
            "kind": "warning" if overlap else "info"}


@bp.get("/products/<id64:product_id>/changes")
@editor_required
async def changes(product_id: int) -> ResponseReturnValue:
    """What changed since ``since`` (the version the row form was opened at), as the row's
    notice for htmx, a page otherwise."""
    try:
        since_version = parsing.version(request.args.get("since"), BAD_SINCE)
    except parsing.BadInput as error:
        abort(400, error.message)
    product = await get_or_404(await get_session(), Product, product_id,
                               load=svc.WITH_CATEGORY, fresh=True)
    live = await describe(product, since_version, _typed())
    return page_or_fragment("editor/changes.html", NOTICE, product=product, live=live,
                            title=f"Changes to {product.name}",
                            edit_url=url_for("editor.edit_row", product_id=product_id),
                            history_url=url_for("editor.history", product_id=product_id))
