"""A product's history (who, when, how, before/after) and restoring an earlier version.

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
from ..data.revisions import FIELD_LABELS, list_revisions, restorable_versions
from ..web import parsing
from ..web.htmx import is_htmx
from .blueprint import bp
from .rendering import done, page_or_fragment

SOURCE_LABELS = {"create": "Created", "inline": "Table edit", "bulk": "Bulk action",
                 "api": "API", "restore": "Restore", "duplicate": "Duplicated",
                 "cli": "Command line"}
MISSING_VERSIONS = "This form is missing the versions. Reload the page and try again."


def _value(field: str, value: Any, categories: dict[int, str]) -> str:
    if value is None or value == "":
        return "—"
    if field == "category_id":
        return categories.get(value, f"#{value} (deleted)")
    if field == "is_active":
        return "Active" if value else "Inactive"
    return str(value)


async def _render(product: Product, *, status: int = 200,
                  notice: dict[str, Any] | None = None) -> ResponseReturnValue:
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
    return page_or_fragment("editor/history.html", "partials/editor/history.html",
                            status=status, history_notice=notice, product=product,
                            entries=entries, restorable=restorable,
                            title=f"History of {product.name}")


async def _product(product_id: int) -> Product:
    return await get_or_404(await get_session(), Product, product_id, load=svc.WITH_CATEGORY,
                            fresh=True)


@bp.get("/products/<id64:product_id>/history")
@editor_required
async def history(product_id: int) -> ResponseReturnValue:
    return await _render(await _product(product_id))


@bp.post("/products/<id64:product_id>/restore")
@editor_required
async def restore(product_id: int) -> ResponseReturnValue:
    """Restore the values of ``to_version`` as a new version (source "restore")."""
    try:
        to_version = parsing.version(request.form.get("to_version"), MISSING_VERSIONS)
        version = parsing.version(request.form.get("version"), MISSING_VERSIONS)
    except parsing.BadInput as error:
        abort(400, error.message)
    session = await get_session()
    try:
        result = await svc.restore_version(session, product_id, to_version=to_version,
                                           expected_version=version, user_id=g.user.id)
    except svc.RestoreError as error:
        await session.rollback()
        return await _render(await _product(product_id), status=422,
                             notice={"text": f"Could not restore: {error}.", "kind": "error"})
    if isinstance(result, svc.Conflict):  # nothing written; teardown ends the transaction
        return await _render(result.current, status=409, notice={
            "kind": "error",
            "text": "Someone changed this product after you opened its history, so nothing was "
                    "restored. The history below is up to date; choose again."})
    await session.commit()
    notice = {"text": f"Restored version {to_version} as version {result.product.version}."}
    if not is_htmx():
        return done(notice, url_for("editor.history", product_id=product_id))
    return await _render(result.product, notice=notice)
