"""Editors manage search synonyms: the list of groups, a form to add one, a delete per group.

The rules live in :mod:`app.data.synonyms`; a refusal is shown under the form (422). A change
takes effect on the next search of every worker (it renews the category tree version).
"""

from __future__ import annotations

from typing import Any

from flask import request, url_for
from flask.typing import ResponseReturnValue

from ..auth.access import editor_required
from ..data import synonyms as service
from ..data.database import get_session
from ..data.lookups import get_or_404
from ..data.models import SearchSynonym
from ..web.htmx import is_htmx
from .blueprint import bp
from .rendering import done, page_or_fragment


async def _render(*, status: int = 200, notice: dict[str, Any] | None = None,
                  error: str | None = None, words: str = "") -> ResponseReturnValue:
    groups = await service.list_synonyms(await get_session())
    return page_or_fragment("editor/synonyms.html", "partials/editor/synonyms.html",
                            status=status, notice=notice, groups=groups, error=error,
                            words=words, max_text=service.MAX_TEXT)


async def _finish(notice: str) -> ResponseReturnValue:
    await (await get_session()).commit()
    if not is_htmx():
        return done(notice, url_for("editor.synonyms"))
    return await _render(notice={"text": notice})


@bp.get("/synonyms")
@editor_required
async def synonyms() -> ResponseReturnValue:
    return await _render()


@bp.post("/synonyms")
@editor_required
async def create_synonyms() -> ResponseReturnValue:
    words = request.form.get("words", "")
    try:
        group = await service.add_synonyms(await get_session(), words)
    except service.SynonymInvalid as error:
        await (await get_session()).rollback()
        return await _render(status=422, error=str(error), words=words[:service.MAX_TEXT])
    return await _finish(f"Added the synonyms “{group.words}”.")


@bp.route("/synonyms/<id32:synonym_id>/delete", methods=["POST", "DELETE"])
@editor_required
async def delete_synonyms(synonym_id: int) -> ResponseReturnValue:
    session = await get_session()
    group = await get_or_404(session, SearchSynonym, synonym_id, lock=True)
    words = group.words
    await service.delete_synonyms(session, group)
    return await _finish(f"Deleted the synonyms “{words}”.")
