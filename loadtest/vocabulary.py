"""What shoppers type and click, taken from the seed's own vocabulary so that searches and
facets hit real products at any catalog size."""

from __future__ import annotations

import random
from urllib.parse import urlencode

from app.data.seed import BRANDS, COLOURS, DEPARTMENTS, category_rows

#: Phrases people type: nouns, materials, brands, colours and a few combinations.
PHRASES: tuple[str, ...] = tuple(dict.fromkeys(
    [noun.lower() for d in DEPARTMENTS for noun in d.nouns]
    + [material for d in DEPARTMENTS for material in d.materials]
    + [f"{material} {noun.lower()}" for d in DEPARTMENTS for noun in d.nouns[:2]
       for material in d.materials[:2]]
    + [brand.lower() for brand in BRANDS[:6]]
    + [f"{colour} {d.nouns[0].lower()}" for d in DEPARTMENTS for colour in COLOURS[:3]]
    + ["lether sofa", "wolen throw", "ceramik bowl"]  # typos: "did you mean"
))
CATEGORY_SLUGS: tuple[str, ...] = tuple(slug for _name, slug, _parent in category_rows())
SIZES: tuple[str, ...] = ("S", "M", "L", "XL")
SORTS: tuple[str, ...] = ("", "price_asc", "price_desc", "newest", "name")
PER_PAGE: tuple[int, ...] = (12, 24, 48)


def phrase(rng: random.Random) -> str:
    return rng.choice(PHRASES)


def facet_choice(rng: random.Random) -> tuple[str, str]:
    """One facet value a shopper might tick: (parameter, value)."""
    kind = rng.choice(("brand", "brand", "colour", "category", "size"))
    if kind == "brand":
        return "brand", rng.choice(BRANDS)
    if kind == "colour":
        return "colour", rng.choice(COLOURS)
    if kind == "category":
        return "category", rng.choice(CATEGORY_SLUGS)
    return "size", rng.choice(SIZES)


# -- a shopper's filters, as the catalog page changes them -------------------------------------
#: parameter -> value, or the ticked values of a facet
State = dict[str, list[str] | str]


def query_string(state: State) -> str:
    """The page's query string for ``state`` (empty fields left out, as the form sends them)."""
    pairs: list[tuple[str, str]] = []
    for key, value in state.items():
        for item in value if isinstance(value, list) else [value]:
            if item != "":
                pairs.append((key, item))
    return urlencode(pairs)


def toggle_facet(rng: random.Random, state: State) -> None:
    """Tick a facet value (at most three per facet), or untick it; back to page 1."""
    key, value = facet_choice(rng)
    values = state.setdefault(key, [])
    assert isinstance(values, list)
    if value in values:
        values.remove(value)
    elif len(values) < 3:
        values.append(value)
    state.pop("page", None)


def refine(rng: random.Random, state: State) -> None:
    """Sort, price range, in-stock, page size: one control at a time, as on the page."""
    choice = rng.randrange(4)
    if choice == 0:
        state["sort"] = rng.choice(SORTS)
    elif choice == 1:
        low = rng.choice((0, 10, 20, 50, 100))
        state["min_price"] = str(low) if low else ""
        state["max_price"] = str(low + rng.choice((25, 50, 200, 1000)))
    elif choice == 2:
        state["in_stock"] = "" if state.get("in_stock") else "1"
    else:
        state["per_page"] = str(rng.choice(PER_PAGE))
    state.pop("page", None)


def next_page(state: State) -> None:
    """The next page, back to the first after the sixth."""
    page = int(state.get("page") or 1)  # type: ignore[arg-type]
    state["page"] = str(page + 1 if page < 6 else 1)
