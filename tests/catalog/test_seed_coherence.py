"""The demo catalog makes sense (issue 13): every product's noun, material and size belong to
its own sub-category, and each size facet value is of one kind."""

from __future__ import annotations

import json

from app.data.seed import (
    CLOTHING_SIZES,
    DEPARTMENTS,
    PAPER_SIZES,
    SHOE_SIZES,
    category_rows,
    generate_products,
    slugify,
)


def test_every_product_fits_its_sub_category():
    ids = {slug: slug for _, slug, _ in category_rows()}
    by_slug = {slugify(f"{d.name} {leaf.name}"): leaf for d in DEPARTMENTS for leaf in d.leaves}
    assert set(by_slug) == {slug for _, slug, parent in category_rows() if parent}
    seen_sizes: dict[str, set[str]] = {}
    for name, _slug, _description, *_rest, attributes, category, _created, _updated in (
            generate_products(3000, 11, ids)):
        leaf = by_slug[category]
        attributes = json.loads(attributes)
        assert any(name.endswith(f" {noun}") for noun in leaf.nouns), (name, leaf.name)
        assert attributes["material"] in leaf.materials, (name, leaf.name)
        assert name.split(" ", 1)[0] in attributes["brand"]
        if leaf.sizes:
            assert attributes["size"] in leaf.sizes
            seen_sizes.setdefault(leaf.name, set()).add(attributes["size"])
        else:
            assert "size" not in attributes, (name, leaf.name)
    # The examples from the issue cannot happen.
    nouns = {leaf.name: leaf.nouns for d in DEPARTMENTS for leaf in d.leaves}
    assert "Towel" not in " ".join(nouns["Mirrors"]) and "Turntable" not in nouns["Headphones"]
    # Clothing, shoes and paper sizes each live in their own departments.
    kinds = {"Apparel": set(CLOTHING_SIZES), "Footwear": set(SHOE_SIZES)}
    for department in DEPARTMENTS:
        for leaf in department.leaves:
            if department.name in kinds:
                assert set(leaf.sizes) == kinds[department.name]
            elif leaf.name == "Notebooks":
                assert set(leaf.sizes) == set(PAPER_SIZES)
            else:
                assert not set(leaf.sizes) & (set(CLOTHING_SIZES) | set(SHOE_SIZES)
                                              | set(PAPER_SIZES))
    assert seen_sizes["Boots"] <= set(SHOE_SIZES) and len(seen_sizes["Boots"]) > 5
