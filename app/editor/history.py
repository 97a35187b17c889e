"""A product's history (who, when, how, before/after) and restoring an earlier version.

A restore is a change like any other (:mod:`app.data.merge`): opened at version C, restoring
version V brings back V's values where they differ from C. Fields a colleague changed after C
that the restore does not touch are kept; a field both changed is not reverted silently: the
409 shows each such field (the restored value beside the current one and who set it) and the
editor chooses, field by field. Applied at most once (:func:`app.web.commands.once`).

The page's whole ``#history`` region - heading, summary, entries - is the fragment a restore
swaps, so nothing on the page still shows the name or version from before the restore; the
outcome of a restore is shown at the top of that region and gets the focus (editor.js)."""

from __future__ import annotations

from typing import Any

from flask import abort, g, request, url_for
from flask.typing import ResponseReturnValue

from ..auth.access import editor_required
from ..data import products as svc
from ..data.categories import category_choices
from ..data.database import get_session
from ..data.lookups import get_or_404
from ..data.models import Product
from ..data.revisions import FIELD_LABELS, list_revisions, restorable_versions, snapshot
from ..web import parsing
from ..web.commands import once
from ..web.htmx import is_htmx
from .blueprint import bp
from .conflicts import display, merged_text, who
from .presence import editors_of
from .rendering import done, page_or_fragment

SOURCE_LABELS = {"create": "Created", "inline": "Table edit", "bulk": "Bulk action",
                 "api": "API", "restore": "Restore", "duplicate": "Duplicated",
                 "cli": "Command line", "images": "Images"}
MISSING_VERSIONS = "This form is missing the versions. Reload the page and try again."
BAD_FIELDS = "This form names fields a product does not have. Reload the page and try again."
MAX_FIELDS = 64
RESTORE_CONFLICT = "partials/editor/restore_conflict.html"


def _value(field: str, value: Any, categories: dict[int, str]) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list):  # the images' alt texts in order (app.data.images)
        return "; ".join(f"{number}. {alt}" for number, alt in enumerate(value, start=1))
    if field == "category_id":
        return categories.get(value, f"#{value} (deleted)")
    if field == "is_active":
        return "Active" if value else "Inactive"
    return str(value)


async def _render(product: Product, *, status: int = 200,
                  notice: dict[str, Any] | None = None,
                  template: str = "partials/editor/history.html",
                  **extra: Any) -> ResponseReturnValue:
    session = await get_session()
    categories = dict(await category_choices(session))
    entries = []
    for entry in await list_revisions(session, product.id):
        changes = [{"label": FIELD_LABELS.get(field, field),
                    "before": _value(field, change.get("before"), categories),
                    "after": _value(field, change.get("after"), categories)}
                   for field, change in entry.changes.items()]
        entries.append({"entry": entry, "source": SOURCE_LABELS.get(entry.source, entry.source),
                        "changes": changes})
    restorable = await restorable_versions(session, product)
    editors = (await editors_of(session, [product.id])).get(product.id, [])
    return page_or_fragment("editor/history.html", template,
                            status=status, history_notice=notice, product=product,
                            entries=entries, restorable=restorable, editors=editors,
                            title=f"History of {product.name}", **extra)


async def _product(product_id: int) -> Product:
    return await get_or_404(await get_session(), Product, product_id, load=svc.WITH_CATEGORY,
                            fresh=True)


@bp.get("/products/<id64:product_id>/history")
@editor_required
async def history(product_id: int) -> ResponseReturnValue:
    return await _render(await _product(product_id))


def _fields(product: Product) -> list[str] | None:
    """The fields to restore (None: all); 400 for names no product field has."""
    names = request.form.getlist("fields")
    if not names and request.form.get("choose") != "1":
        return None
    known = snapshot(product)
    if len(names) > MAX_FIELDS or any(name not in known and not name.startswith(
            "attributes.") or len(name) > 120 for name in names):
        abort(400, BAD_FIELDS)
    return names


@bp.post("/products/<id64:product_id>/restore")
@editor_required
@once
async def restore(product_id: int) -> ResponseReturnValue:
    """Restore the values of ``to_version`` as a new version (source "restore"), merged with
    what changed since the page was opened (``version``); ``fields`` (with ``choose=1``)
    limits it to the fields the editor chose after a conflict."""
    try:
        to_version = parsing.version(request.form.get("to_version"), MISSING_VERSIONS)
        version = parsing.version(request.form.get("version"), MISSING_VERSIONS)
    except parsing.BadInput as error:
        abort(400, error.message)
    session = await get_session()
    fields = _fields(await _product(product_id))
    try:
        result = await svc.restore_version(session, product_id, to_version=to_version,
                                           expected_version=version, user_id=g.user.id,
                                           merge=True, fields=fields)
    except svc.RestoreError as error:
        await session.rollback()
        return await _render(await _product(product_id), status=422,
                             notice={"text": f"Could not restore: {error}.", "kind": "error"})
    if isinstance(result, svc.Conflict):  # nothing written; the wrapper rolls back
        return await _restore_conflict(result, to_version)
    notice = {"text": f"Restored version {to_version} as version {result.product.version}."
              if result.changed else f"Version {to_version} has the current values already; "
              "nothing was restored."}
    if result.merged_with:
        notice["text"] += " " + merged_text(result.merged_with)
    if not is_htmx():
        return done(notice, url_for("editor.history", product_id=product_id))
    return await _render(result.product, notice=notice)


async def _restore_conflict(conflict: svc.Conflict, to_version: int) -> ResponseReturnValue:
    """409: the fields changed since the page was opened that the restore would revert, each
    with a choice; the form restores the chosen ones (and the rest of the restore) at the
    current version."""
    assert conflict.merge is not None  # a merging restore always compares fields
    merge = conflict.merge
    categories = dict(await category_choices(await get_session()))
    rows = []
    for field, conflicting in merge.conflicts.items():
        author, source = conflict.authors.get(field, (None, "inline"))
        rows.append({"field": field, "label": FIELD_LABELS.get(field, field),
                     "restored": display(field, conflicting.mine, categories),
                     "current": display(field, conflicting.theirs, categories),
                     "who": who(author, source)})
    restoring = [field for field in merge.mine if field not in merge.conflicts]
    notice = {"kind": "error",
              "text": "Someone changed this product after you opened its history, so nothing "
                      "was restored yet. Choose below, field by field, what to restore."}
    product = conflict.current
    if is_htmx():
        return await _render(product, status=409, notice=notice, template=RESTORE_CONFLICT,
                             rows=rows, restoring=restoring, to_version=to_version)
    return page_or_fragment("editor/message.html", RESTORE_CONFLICT, status=409,
                            notice=notice, product=product, rows=rows, restoring=restoring,
                            to_version=to_version, entries=[],
                            restorable=set(), standalone=True,
                            back=url_for("editor.history", product_id=product.id))
