"""What shoppers type and click, taken from the seed's own vocabulary so that searches and
facets hit real products at any catalog size."""

from __future__ import annotations

import random

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
