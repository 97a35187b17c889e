"""One shopper result page: facets and total, the page of products, highlighted names and a
"Did you mean" - everything ``/products`` renders, computed in one place for both renderings.

A search that finds nothing is not given up at once: a query of several words falls back to the
products matching *any* of its words (with a notice saying so), and whatever the outcome the
words are corrected one by one against the catalog's vocabulary for a "Did you mean" (see
:mod:`.search`). When nothing is found at all, the facets are those of the catalog without the
text (the ledger answers them without a scan), so the shopper can still reach a category.
Those are counted first: when the filters find nothing even without the text, no text can, and
neither fallback is tried under them. A search naming a category or brand is offered that facet
(see :mod:`.refine`).

Pagination is numbered with OFFSET, but never deep: only the first :data:`MAX_RESULT_WINDOW`
matches are reachable by page number (the last page is capped and the page says so, inviting
the shopper to refine). That bounds every OFFSET to a few thousand index entries while keeping
numbered pages for every sort, including relevance, which has no keyset. (The query layer offers
keyset pagination - ``find_products(after=...)`` - for the API and the editor.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from .facet_memo import MemoForRequest
from .facets import FacetResult, PageWanted, compute_facets
from .filters import BoundFilter, ProductFilter, bind_filter, text_query
from .ordering import Sort
from .page_query import Card, Total, count_products, find_cards
from .params import CatalogParams
from .refine import Refinement, find_refinements
from .search import Suggestion, highlight_names, suggest
from .tree import CategoryTree, load_category_tree

#: Matches reachable by page number (the last page is capped to this).
MAX_RESULT_WINDOW = 4_800


@dataclass(frozen=True)
class Pagination:
    page: int
    per_page: int
    total: Total
    last_page: int

    @property
    def capped(self) -> bool:
        """More matches than the numbered pages reach."""
        return self.total.value > MAX_RESULT_WINDOW

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.last_page

    def window(self, around: int = 2) -> list[int | None]:
        """Page numbers to show; None marks a gap: ``1 … 4 5 [6] 7 8 … 20``."""
        wanted = {1, self.last_page, *range(self.page - around, self.page + around + 1)}
        pages = sorted(p for p in wanted if 1 <= p <= self.last_page)
        out: list[int | None] = []
        for number in pages:
            if out and out[-1] is not None and number - out[-1] == 2:
                out.append(number - 1)  # a gap of one page is shown as the page itself
            elif out and out[-1] is not None and number - out[-1] > 2:
                out.append(None)
            out.append(number)
        return out


def paginate(page: int, per_page: int, total: Total) -> Pagination:
    reachable = max(1, math.ceil(min(total.value, MAX_RESULT_WINDOW) / per_page))
    return Pagination(min(max(page, 1), reachable), per_page, total, reachable)


@dataclass
class CatalogPage:
    params: CatalogParams
    filter: ProductFilter
    tree: CategoryTree
    facets: FacetResult
    products: list[Card]
    names: list[Markup]
    pagination: Pagination
    sort: Sort
    suggestion: Suggestion | None
    notices: list[str]
    #: categories and brands the search names, offered as one-click refinements
    refinements: list[Refinement] = field(default_factory=list)
    #: the results match any of the words, not all of them (the zero-result fallback)
    matched_any: bool = False
    #: nothing matched: the facets are the catalog's without the search text
    facets_without_text: bool = False

    @property
    def total(self) -> Total:
        return self.pagination.total

    @property
    def rows(self) -> list[tuple[Card, Markup]]:
        """(product, its name as safe HTML with matches marked) in page order."""
        return list(zip(self.products, self.names, strict=True))


async def load_catalog_page(session: AsyncSession, params: CatalogParams, *,
                            rank_candidates: int | None = None,
                            memo: MemoForRequest | None = None) -> CatalogPage:
    """Everything the shopper's result page shows for ``params`` (normalised further here:
    unknown categories are dropped, a page past the end becomes the last page).

    ``rank_candidates``: relevance ranks at most this many matches per block when the match set
    is larger (the app's ``CATALOG_RANK_CANDIDATES``; see :func:`.page_query._capped_ranking`).
    ``memo``: facet counts kept for this catalog version (see :mod:`.facet_memo`)."""
    tree = await load_category_tree(session, read_only=True)
    notices = list(params.notices)
    unknown = [slug for slug in params.categories if slug not in tree.by_slug]
    if unknown:
        params = params.model_copy(update={"categories": tuple(s for s in params.categories
                                                               if s in tree.by_slug)})
        notices.append("We couldn't find the category "
                       + ", ".join(f"“{slug}”" for slug in unknown) + ", so it is not applied.")
    filt = params.filter()
    bound = bind_filter(filt, tree)
    # The page asked for: an exactly counted text search finds it while counting.
    wanted = PageWanted(params.effective_sort, (params.page - 1) * params.per_page,
                        params.per_page)
    # The filters without the text, counted when the search finds nothing: what the page then
    # shows, and when they find nothing themselves no text can - neither the search, nor any
    # of its words, nor a corrected spelling under these filters. Kept as finding nothing,
    # the search itself is not counted (a shopper typing on under such filters).
    without_text = replace(filt, q="") if filt.has_text and text_query(filt.q) else None
    without_text_bound = bind_filter(without_text, tree) if without_text is not None else None
    without_text_facets = None
    if without_text is not None and without_text_bound is not None and memo is not None:
        without_text_facets = memo.recall_found_nothing(without_text, without_text_bound)
    if without_text_facets is not None:
        facets = without_text_facets
    else:
        facets = await _facets(session, filt, tree, bound, wanted, memo)
    found_nothing = filt.has_text and facets.total.value == 0
    if found_nothing and without_text is not None and without_text_bound is not None \
            and without_text_facets is None:
        without_text_facets = await _facets(session, without_text, tree, without_text_bound,
                                            None, memo)
    filters_find_some = without_text_facets is None or without_text_facets.total.value > 0
    matched_any = False
    if found_nothing and filters_find_some:
        loose = replace(filt, match="any")
        loose_bound = bind_filter(loose, tree)
        if loose_bound.values != bound.values:  # several words: "any" is another query
            loose_facets = await _facets(session, loose, tree, loose_bound, wanted, memo)
            if loose_facets.total.value:
                filt, bound, facets, matched_any = loose, loose_bound, loose_facets, True
                notices.append(f"No product matches all of “{params.q}”, so these match any "
                               "of its words.")
    pagination = paginate(params.page, params.per_page, facets.total)
    if pagination.page != params.page:
        pages = pagination.last_page
        notices.append(f"There {'is' if pages == 1 else 'are'} only {pages:,} "
                       f"page{'' if pages == 1 else 's'} of results, so this is the last one.")
        params = params.model_copy(update={"page": pagination.page})

    sort = params.effective_sort
    found = facets.page_ids if facets.page == PageWanted(
        sort, pagination.offset, pagination.per_page) else None
    products = await find_cards(session, filt, sort=sort, limit=pagination.per_page,
                                offset=pagination.offset, tree=tree, known_total=facets.total,
                                rank_candidates=rank_candidates,
                                catalog_rows=facets.catalog_rows,
                                text_postings=facets.text_postings, bound=bound, ids=found)
    if not products and pagination.page > 1 and not facets.total.exact:
        # The estimate promised more pages than there are: count, and show the real last page.
        total = await count_products(session, filt, tree=tree, exact_limit=MAX_RESULT_WINDOW)
        pagination = paginate(pagination.page, pagination.per_page, total)
        params = params.model_copy(update={"page": pagination.page})
        products = await find_cards(session, filt, sort=sort, limit=pagination.per_page,
                                    offset=pagination.offset, tree=tree, known_total=total,
                                    rank_candidates=rank_candidates,
                                    catalog_rows=facets.catalog_rows,
                                    text_postings=facets.text_postings, bound=bound)

    names = await highlight_names(session, filt.q, [p.name for p in products],
                                  synonyms=tree.synonyms, match=filt.match)
    suggestion = None
    if found_nothing:
        suggestion = await suggest(session, replace(filt, match="all"), tree,
                                   filters_find_some=filters_find_some, memo=memo)
    refinements: list[Refinement] = []
    counted_without_text = False
    if products and filt.has_text:
        refinements = await find_refinements(session, filt, tree, facets)
    elif without_text_facets is not None and facets.total.value == 0:
        # Nothing at all: show the catalog's facets (without the text) as ways in.
        facets = without_text_facets
        counted_without_text = True
        notices.append(f"Nothing matches “{params.q}”, so the filters count the whole catalog.")
    return CatalogPage(params=params, filter=filt, tree=tree, facets=facets, products=products,
                       names=names, pagination=pagination, sort=sort, suggestion=suggestion,
                       notices=notices, refinements=refinements, matched_any=matched_any,
                       facets_without_text=counted_without_text)


async def _facets(session: AsyncSession, filt: ProductFilter, tree: CategoryTree,
                  bound: BoundFilter, page: PageWanted | None,
                  memo: MemoForRequest | None) -> FacetResult:
    """:func:`.facets.compute_facets`, or the counts ``memo`` kept for ``filt``."""
    if memo is not None and (kept := memo.recall(filt, bound)) is not None:
        return kept
    result = await compute_facets(session, filt, tree, bound=bound, page=page, expansions=memo)
    if memo is not None:
        memo.keep(filt, bound, result)
    return result
