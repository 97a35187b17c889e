"""Query suggestions as the shopper types: matching categories, brands and products.

One statement, three bounded branches, each backed by an index or by a table whose size does
not grow with the catalog:

``category``  category names where a word starts with the text (the ``categories`` table holds
              tens of rows), with the number of active products in it and its sub-categories
              from the precomputed facet ledger (``catalog_facet_counts``, migration 0002:
              looked up by ``category_id``).
``brand``     brands from the same ledger (its size follows categories x brands, not products),
              the most stocked first.
``product``   active products whose name has a word starting with each typed word (the last one
              may be unfinished), found by the trigram index ``ix_products_name_trgm``
              (``ILIKE 'word%' OR ILIKE '% word%'``); at most :data:`PRODUCT_CANDIDATES` rows
              are read (no ORDER BY: a common
              word matches thousands of products, and ranking them all is what made a suggestion
              slow). Duplicates by name are folded here and names starting with the text come
              first.

The typed text is bounded (:data:`MAX_CHARS`, :data:`MAX_WORDS`), LIKE wildcards in it are
escaped, and fewer than :data:`MIN_CHARS` characters suggest nothing.
``python -m bench.suggest_sql`` times the statement at 100k products.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any, Literal

from sqlalchemy import BigInteger, BindParameter, Text, TextClause, bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

Kind = Literal["category", "brand", "product"]

#: Shortest text that gets suggestions (one letter matches a good part of the catalog).
MIN_CHARS = 2
#: Longest text looked at; a suggestion box is for the start of a search, not a paragraph.
MAX_CHARS = 60
#: Words of the text matched against product names (the rest are ignored for suggestions).
MAX_WORDS = 4
MAX_CATEGORIES = 4
MAX_BRANDS = 4
MAX_PRODUCTS = 5
#: Product rows read at most, before names are folded and ordered.
PRODUCT_CANDIDATES = 40

_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class QuerySuggestion:
    kind: Kind
    value: str                 # category slug, brand name or product slug
    label: str
    count: int | None = None   # products in a category / of a brand
    parent: str | None = None  # a sub-category's department
    price: Decimal | None = None


def words_of(q: str) -> list[str]:
    """The words of ``q`` that are matched (lower-case, at most :data:`MAX_WORDS`)."""
    return _WORD.findall(q[:MAX_CHARS].casefold())[:MAX_WORDS]


def like_escape(value: str) -> str:
    """``value`` as a literal inside a LIKE pattern (ESCAPE '\\')."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def find_suggestions(session: AsyncSession, q: str) -> list[QuerySuggestion]:
    """Categories, brands and products for the typed text ``q``, in that order."""
    text_ = " ".join(q[:MAX_CHARS].split()).casefold()
    words = words_of(text_)
    if len(text_) < MIN_CHARS or not words:
        return []
    phrase = like_escape(text_)
    values: dict[str, Any] = {
        "prefix": f"{phrase}%",
        "word": f"% {phrase}%",
        "n_categories": MAX_CATEGORIES,
        "n_brands": MAX_BRANDS,
        "n_products": PRODUCT_CANDIDATES,
    }
    for i, word in enumerate(words):
        values[f"start_{i}"] = f"{like_escape(word)}%"
        values[f"inner_{i}"] = f"% {like_escape(word)}%"
    rows = (await session.execute(suggestions_statement(len(words)), values)).all()
    return _assemble(text_, list(rows))


@lru_cache(maxsize=MAX_WORDS)
def suggestions_statement(word_count: int) -> TextClause:
    """The statement for text of ``word_count`` words (one shape per count, built once).

    Parameters: ``prefix`` / ``word`` (the escaped text at the start of a name / of a word in
    it), ``start_<i>`` / ``inner_<i>`` the same per word, and the three limits. A word start
    (``'lamp%'``, ``'% lamp%'``) is what the trigram index reads best: pg_trgm pads each word's
    start, so even a two-letter word gives indexable trigrams (``'%au%'`` gives none: a scan)."""
    contains = " AND ".join(
        f"(p.name ILIKE :start_{i} ESCAPE '\\' OR p.name ILIKE :inner_{i} ESCAPE '\\')"
        for i in range(word_count))
    sql = f"""
        (SELECT 'category' AS kind, c.slug AS value, c.name AS label, parent.name AS parent,
                NULL::numeric AS price,
                (SELECT coalesce(sum(f.n), 0) FROM catalog_facet_counts f
                  WHERE f.facet = 'category'
                    AND f.category_id IN (SELECT c.id UNION ALL
                                          SELECT d.id FROM categories d
                                           WHERE d.parent_id = c.id)) AS n
           FROM categories c LEFT JOIN categories parent ON parent.id = c.parent_id
          WHERE lower(c.name) LIKE :prefix ESCAPE '\\' OR lower(c.name) LIKE :word ESCAPE '\\'
          ORDER BY lower(c.name) LIKE :prefix ESCAPE '\\' DESC, c.parent_id IS NOT NULL,
                   lower(c.name)
          LIMIT :n_categories)
        UNION ALL
        (SELECT 'brand', f.value, f.value, NULL, NULL, sum(f.n)
           FROM catalog_facet_counts f
          WHERE f.facet = 'brand'
            AND (lower(f.value) LIKE :prefix ESCAPE '\\' OR lower(f.value) LIKE :word ESCAPE '\\')
          GROUP BY f.value HAVING sum(f.n) > 0
          ORDER BY sum(f.n) DESC, f.value
          LIMIT :n_brands)
        UNION ALL
        (SELECT 'product', p.slug, p.name, NULL, p.price, NULL
           FROM products p
          WHERE p.is_active AND {contains}
          LIMIT :n_products)
    """  # noqa: S608 - only numbered parameter names are formatted in, values are bound
    params: list[BindParameter[Any]] = [bindparam("prefix", type_=Text),
                                        bindparam("word", type_=Text)]
    for i in range(word_count):
        params += [bindparam(f"start_{i}", type_=Text), bindparam(f"inner_{i}", type_=Text)]
    params += [bindparam(name, type_=BigInteger())
               for name in ("n_categories", "n_brands", "n_products")]
    return text(sql).bindparams(*params)


def _assemble(text_: str, rows: list[Any]) -> list[QuerySuggestion]:
    out: list[QuerySuggestion] = []
    products: dict[str, QuerySuggestion] = {}
    for row in rows:
        if row.kind == "category":
            if row.n:
                out.append(QuerySuggestion("category", row.value, row.label, int(row.n),
                                           parent=row.parent))
        elif row.kind == "brand":
            out.append(QuerySuggestion("brand", row.value, row.label, int(row.n)))
        elif row.label.casefold() not in products:
            products[row.label.casefold()] = QuerySuggestion(
                "product", row.value, row.label, price=row.price)
    ordered = sorted(products.values(), key=lambda s: (
        not s.label.casefold().startswith(text_), len(s.label), s.label.casefold()))
    return out + ordered[:MAX_PRODUCTS]


__all__ = ["MAX_CHARS", "MIN_CHARS", "QuerySuggestion", "find_suggestions", "like_escape",
           "suggestions_statement", "words_of"]
