"""``/products/suggest?q=``: the suggestions under the search box, as the shopper types.

An htmx request (the search box's ``hx-get``) gets the listbox fragment the combobox shows
(``partials/catalog/suggestions.html``; ``static/js/suggest.js`` does the keyboard part); a
browser gets a page listing the same suggestions as links. Counted against the search rate
limit, on a counter of its own (a shopper's typing asks for both). Kept apart from
:mod:`.views` so that the result page and the suggestions change independently.
"""

from __future__ import annotations

from flask import request, url_for
from flask.typing import ResponseReturnValue

from ..data.database import get_session
from ..web import parsing
from ..web.htmx import is_htmx, render_page_or_partial, retarget_to_messages
from ..web.limits import limit_blueprint
from .blueprint import bp
from .listing_query import MAX_Q
from .params import CatalogParams
from .suggest import QuerySuggestion, find_suggestions
from .views import category_url, list_url, money

limit_blueprint(bp, "RATELIMIT_SEARCH", scope="suggest", methods=["GET"],
                endpoints={"catalog.suggest"})


@bp.get("/products/suggest")
async def suggest() -> ResponseReturnValue:
    q = request.args.get("q", "")
    if not parsing.storable(q):
        return _invalid("The text contains characters that are not allowed.")
    if len(q) > MAX_Q:
        return _invalid(f"Search text can be at most {MAX_Q} characters.")
    suggestions = await find_suggestions(await get_session(), q)
    return render_page_or_partial(
        "catalog/suggest.html", "partials/catalog/suggestions.html",
        q=q, suggestions=suggestions, suggestion_url=suggestion_url, money=money,
        search_url=list_url(CatalogParams(q=q.strip())) if q.strip() else list_url(CatalogParams()),
    )


def suggestion_url(item: QuerySuggestion) -> str:
    """Where a suggestion leads without JavaScript: the category or brand ticked (the typed
    text dropped: it was there to find the facet), or the product's page."""
    if item.kind == "category":
        return category_url(item.value)
    if item.kind == "brand":
        return list_url(CatalogParams.model_validate({"brand": (item.value,)}))
    return url_for("catalog.product", slug=item.value)


def _invalid(message: str) -> ResponseReturnValue:
    response = render_page_or_partial(
        "catalog/invalid.html", "partials/catalog/invalid.html", status=400,
        message=message, fixed_url=url_for("catalog.index"), all_url=url_for("catalog.index"))
    if is_htmx():
        retarget_to_messages(response)
    return response
