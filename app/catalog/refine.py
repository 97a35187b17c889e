"""Refinements: a search that names a category or a brand is offered that facet in one click.

"audio" matches every Audio product (the category path is searched, migration 0007), and the
page offers "Audio — 9,618 products" above the results: a link to the same search with the
Audio facet ticked. A category or brand is offered when every word of its name (ignoring
plurals and words under three letters: "Kestrel & Co" is "kestrel") is among the query's words,
so "floor lamps" offers Floor Lamps but "lamp" offers nothing. The most specific names come
first ("outdoor lighting" offers Outdoor Lighting before Lighting).

Counts come from the facet counts the page computed anyway, without a query of their own: the
category facet is counted per category id over the filter without its category condition, so a
sub-category it does not list (it lists the departments until one is ticked) is the sum over its
sub-tree and the categories already ticked (OR within the facet). Only when those per-category
counts are missing is the refinement counted with one more query.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy.ext.asyncio import AsyncSession

from .facets import FacetResult
from .filters import ProductFilter
from .page_query import Total, count_products
from .tree import CategoryTree, name_words

__all__ = ["MAX_REFINEMENTS", "Refinement", "find_refinements"]

#: Refinements offered at most.
MAX_REFINEMENTS = 3


@dataclass(frozen=True)
class Refinement:
    """Tick ``facet`` = ``value`` (a category slug or a brand): ``total`` products."""

    facet: str
    value: str
    label: str
    total: Total


async def find_refinements(session: AsyncSession, filt: ProductFilter, tree: CategoryTree,
                           facets: FacetResult) -> list[Refinement]:
    """Categories and brands that ``filt.q`` names and the filter does not select yet, most
    specific first, with how many of the current matches each holds."""
    asked = name_words(filt.q)
    if not asked:
        return []
    candidates: list[tuple[int, str, str, str]] = []  # (words, facet, value, label)
    for node in tree.named_by(filt.q):
        if node.slug not in filt.categories:
            candidates.append((len(name_words(node.name)), "category", node.slug, node.name))
    for brand in facets.facets["brand"].values:
        words = name_words(brand.label)
        if words and words <= asked and not brand.selected:
            candidates.append((len(words), "brand", brand.value, brand.label))
    candidates.sort(key=lambda c: (-c[0], c[1], c[3].lower()))
    listed = {(facet, v.value): v for facet in ("category", "brand")
              for v in facets.facets[facet].values}
    found: list[Refinement] = []
    for _words, facet, value, label in candidates:
        shown = listed.get((facet, value))
        if shown is not None:
            total = Total(shown.count, exact=not shown.approximate)
        elif facet == "category" and facets.category_counts is not None:
            total = _category_total(filt, tree, facets, value)
        else:
            refined = (replace(filt, categories=(*filt.categories, value)) if facet == "category"
                       else replace(filt, brands=(*filt.brands, value)))
            total = await count_products(session, refined, tree=tree)
        if total.value:
            found.append(Refinement(facet, value, label, total))
        if len(found) == MAX_REFINEMENTS:
            break
    return found


def _category_total(filt: ProductFilter, tree: CategoryTree, facets: FacetResult,
                    slug: str) -> Total:
    """Matches of ``filt`` with category ``slug`` ticked too, from the category facet's own
    per-category counts (exact unless those were sampled)."""
    counts = facets.category_counts or {}
    ids = tree.expand((*filt.categories, slug))
    return Total(sum(counts.get(i, 0) for i in ids),
                 exact=not facets.facets["category"].approximate)
