"""A deterministic, realistic demo catalog, bulk-loaded with COPY.

The same ``seed`` always yields the same catalog: ~40 categories in two levels, brands, colours,
sizes and materials that fit each department, plausible names and multi-sentence descriptions,
log-normally spread prices, some products out of stock and some inactive.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


@dataclass(frozen=True)
class Department:
    name: str
    subcategories: tuple[str, ...]
    nouns: tuple[str, ...]
    materials: tuple[str, ...]
    sizes: tuple[str, ...]
    base_price: float


DEPARTMENTS: tuple[Department, ...] = (
    Department(
        "Lighting",
        ("Floor Lamps", "Table Lamps", "Pendants", "Wall Lights"),
        ("Lamp", "Pendant", "Sconce", "Lantern", "Light"),
        ("brass", "linen", "glass", "oak", "steel", "ceramic"),
        ("S", "M", "L"),
        90,
    ),
    Department(
        "Furniture",
        ("Chairs", "Tables", "Sofas", "Shelving"),
        ("Chair", "Table", "Sofa", "Bench", "Shelf", "Stool"),
        ("oak", "walnut", "leather", "steel", "velvet", "rattan"),
        ("S", "M", "L", "XL"),
        320,
    ),
    Department(
        "Kitchen",
        ("Cookware", "Knives", "Tableware", "Storage"),
        ("Pan", "Knife", "Bowl", "Plate", "Jar", "Kettle", "Mug"),
        ("stainless steel", "cast iron", "ceramic", "glass", "bamboo"),
        ("S", "M", "L"),
        35,
    ),
    Department(
        "Textiles",
        ("Rugs", "Cushions", "Throws", "Bedding"),
        ("Rug", "Cushion", "Throw", "Duvet Cover", "Blanket"),
        ("wool", "linen", "cotton", "jute", "velvet"),
        ("S", "M", "L", "XL"),
        60,
    ),
    Department(
        "Apparel",
        ("Jackets", "Shirts", "Knitwear", "Trousers"),
        ("Jacket", "Shirt", "Sweater", "Cardigan", "Trousers", "Coat"),
        ("wool", "cotton", "linen", "leather", "denim"),
        ("XS", "S", "M", "L", "XL"),
        75,
    ),
    Department(
        "Footwear",
        ("Boots", "Sneakers", "Sandals", "Slippers"),
        ("Boot", "Sneaker", "Sandal", "Slipper", "Loafer"),
        ("leather", "suede", "canvas", "rubber", "wool"),
        ("38", "39", "40", "41", "42", "43", "44"),
        95,
    ),
    Department(
        "Garden",
        ("Planters", "Tools", "Outdoor Furniture", "Lighting Outdoors"),
        ("Planter", "Trowel", "Lounger", "Lantern", "Watering Can"),
        ("terracotta", "steel", "teak", "resin", "zinc"),
        ("S", "M", "L"),
        45,
    ),
    Department(
        "Stationery",
        ("Notebooks", "Pens", "Desk Organisers", "Bags"),
        ("Notebook", "Pen", "Organiser", "Backpack", "Folder"),
        ("paper", "leather", "canvas", "brass", "cork"),
        ("A6", "A5", "A4"),
        18,
    ),
    Department(
        "Audio",
        ("Headphones", "Speakers", "Turntables", "Accessories"),
        ("Headphones", "Speaker", "Turntable", "Cable", "Stand"),
        ("aluminium", "walnut", "plastic", "fabric"),
        ("S", "M", "L"),
        140,
    ),
    Department(
        "Bath",
        ("Towels", "Accessories", "Mirrors", "Storage Baskets"),
        ("Towel", "Soap Dish", "Mirror", "Basket", "Bath Mat"),
        ("cotton", "ceramic", "glass", "seagrass", "bamboo"),
        ("S", "M", "L"),
        28,
    ),
)

BRANDS = (
    "Nordhavn",
    "Atelier Rue",
    "Kestrel & Co",
    "Mossgrove",
    "Halden",
    "Tamsin Vale",
    "Orrery",
    "Brightwater",
    "Solvik",
    "Marlow House",
    "Juniper Lane",
    "Cobalt Works",
    "Fennwick",
    "Aster & Pine",
    "Lumen Field",
    "Greywood",
)
COLOURS = (
    "black",
    "white",
    "grey",
    "navy",
    "olive",
    "ochre",
    "terracotta",
    "sand",
    "rust",
    "forest green",
    "blush",
    "charcoal",
    "ivory",
    "teal",
)
ADJECTIVES = (
    "Classic",
    "Modern",
    "Arched",
    "Slim",
    "Rounded",
    "Heritage",
    "Compact",
    "Folding",
    "Soft",
    "Woven",
    "Minimal",
    "Rustic",
    "Coastal",
    "Studio",
    "Everyday",
    "Grand",
)
OPENERS = (
    "Made for everyday use, this {noun} pairs {material} with a clean {colour} finish.",
    "The {adj} {noun} from {brand} is built from {material} and made to last.",
    "A {colour} {noun} in {material}, designed in {brand}'s studio.",
)
MIDDLES = (
    "Its proportions suit small flats and large rooms alike.",
    "Every piece is checked by hand before it leaves the workshop.",
    "The finish softens with use and ages gracefully.",
    "It is easy to clean and needs no special care.",
    "Details are kept simple so that the material speaks for itself.",
    "It arrives ready to use, with no assembly needed.",
)
CLOSERS = (
    "Pairs well with the rest of the {brand} range.",
    "Backed by a two-year guarantee.",
    "Sustainably sourced {material}, responsibly made.",
    "A quiet favourite among our customers.",
)


def slugify(value: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")


def category_rows() -> list[tuple[str, str, str | None]]:
    """(name, slug, parent slug) for every department and its sub-categories."""
    rows: list[tuple[str, str, str | None]] = []
    for department in DEPARTMENTS:
        rows.append((department.name, slugify(department.name), None))
        for sub in department.subcategories:
            rows.append((sub, slugify(f"{department.name} {sub}"), slugify(department.name)))
    return rows


def generate_products(count: int, seed: int,
                      category_ids: Mapping[str, int | str]) -> list[tuple[Any, ...]]:
    """Rows for COPY into ``products`` (name, slug, description, price, stock, is_active,
    attributes, category_id, created_at, updated_at); ``category_ids`` maps each category slug
    to its id, or to a stand-in that the caller swaps for the id later."""
    rng = random.Random(seed)
    now = datetime(2026, 11, 1, tzinfo=UTC)
    rows = []
    leaves = [(d, slugify(f"{d.name} {sub}")) for d in DEPARTMENTS for sub in d.subcategories]
    for index in range(count):
        department, category_slug = leaves[rng.randrange(len(leaves))]
        brand = rng.choice(BRANDS)
        noun = rng.choice(department.nouns)
        material = rng.choice(department.materials)
        colour = rng.choice(COLOURS)
        adjective = rng.choice(ADJECTIVES)
        name = f"{brand} {adjective} {material.title()} {noun}"
        fill = {
            "noun": noun.lower(),
            "material": material,
            "colour": colour,
            "adj": adjective.lower(),
            "brand": brand,
        }
        sentences = [
            rng.choice(OPENERS),
            *rng.sample(MIDDLES, rng.randint(1, 3)),
            rng.choice(CLOSERS),
        ]
        description = " ".join(sentence.format(**fill) for sentence in sentences)
        price = Decimal(
            str(round(max(2.0, rng.lognormvariate(0, 0.55) * department.base_price), 2))
        )
        stock = 0 if rng.random() < 0.1 else int(rng.paretovariate(1.2) * 5)
        is_active = rng.random() >= 0.03
        attributes = {
            "brand": brand,
            "colour": colour,
            "material": material,
            "size": rng.choice(department.sizes),
        }
        created = now - timedelta(seconds=rng.randrange(2 * 365 * 24 * 3600))
        rows.append(
            (
                name,
                f"{slugify(name)}-{index:x}",
                description,
                price,
                min(stock, 9999),
                is_active,
                json.dumps(attributes),
                category_ids[category_slug],
                created,
                created,
            )
        )
    return rows


PRODUCT_COLUMNS = (
    "name",
    "slug",
    "description",
    "price",
    "stock",
    "is_active",
    "attributes",
    "category_id",
    "created_at",
    "updated_at",
)


async def product_count(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return (await connection.execute(text("SELECT count(*) FROM products"))).scalar_one()


async def seed_catalog(engine: AsyncEngine, *, products: int, seed: int, replace: bool) -> int:
    """Load the categories and ``products`` products; with ``replace``, empty the catalog first.

    Returns the number of products loaded. All in one transaction: a failure loads nothing.

    The rows are generated before the transaction opens (a million take about a minute of
    Python, longer than the app's ``idle_in_transaction_session_timeout``), with category slugs
    standing in for ids until the categories exist; the bulk COPY runs without the app's
    per-request ``statement_timeout`` (``SET LOCAL``: this transaction only).
    """
    slugs = {slug: slug for _name, slug, _parent in category_rows()}
    generated = generate_products(products, seed, slugs)
    async with engine.begin() as connection:
        await connection.execute(text("SET LOCAL statement_timeout = 0"))
        if replace:
            await connection.execute(
                text("TRUNCATE product_revisions, products, categories RESTART IDENTITY CASCADE")
            )
        category_ids: dict[str, int] = {}
        for name, slug, parent in category_rows():
            result = await connection.execute(
                text(
                    "INSERT INTO categories (name, slug, parent_id) VALUES (:name, :slug, :parent) "
                    "ON CONFLICT (slug) DO UPDATE SET name = EXCLUDED.name RETURNING id"
                ),
                {
                    "name": name,
                    "slug": slug,
                    "parent": category_ids.get(parent) if parent else None,
                },
            )
            category_ids[slug] = result.scalar_one()
        category = PRODUCT_COLUMNS.index("category_id")
        rows = [(*row[:category], category_ids[row[category]], *row[category + 1:])
                for row in generated]
        del generated
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection  # asyncpg's own connection (None only once closed)
        assert driver is not None
        await driver.copy_records_to_table(
            "products", records=rows, columns=PRODUCT_COLUMNS
        )
    async with engine.begin() as connection:  # fresh statistics for the planner
        await connection.execute(text("SET LOCAL statement_timeout = 0"))
        await connection.execute(text("ANALYZE products"))
        await connection.execute(text("ANALYZE categories"))
    return len(rows)
