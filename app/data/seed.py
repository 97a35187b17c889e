"""A deterministic, realistic demo catalog, bulk-loaded with COPY.

The same ``seed`` always yields the same catalog: ~40 categories in two levels, brands, colours,
nouns, materials and sizes that fit each sub-category (clothing XS-XL, shoes 36-46, paper A6-A4,
bedding Single-King; no size where none applies), plausible names and multi-sentence descriptions,
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

#: Size scales, one per kind of product (a facet never mixes shoe sizes with paper sizes).
CLOTHING_SIZES = ("XS", "S", "M", "L", "XL")
SHOE_SIZES = tuple(str(n) for n in range(36, 47))
PAPER_SIZES = ("A6", "A5", "A4")
BED_SIZES = ("Single", "Double", "King")


@dataclass(frozen=True)
class Subcategory:
    """A leaf category and what its products can be: every product's noun, material and size
    come from its own sub-category (no towel among the mirrors)."""

    name: str
    nouns: tuple[str, ...]
    materials: tuple[str, ...]
    sizes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Department:
    name: str
    leaves: tuple[Subcategory, ...]
    base_price: float

    @property
    def subcategories(self) -> tuple[str, ...]:
        return tuple(leaf.name for leaf in self.leaves)

    @property
    def nouns(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(n for leaf in self.leaves for n in leaf.nouns))

    @property
    def materials(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(m for leaf in self.leaves for m in leaf.materials))

    @property
    def sizes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s for leaf in self.leaves for s in leaf.sizes))


S = Subcategory
DEPARTMENTS: tuple[Department, ...] = (
    Department("Lighting", (
        S("Floor Lamps", ("Floor Lamp", "Arc Lamp", "Reading Lamp"),
          ("brass", "oak", "walnut", "steel", "linen")),
        S("Table Lamps", ("Table Lamp", "Desk Lamp", "Bedside Lamp"),
          ("brass", "ceramic", "glass", "walnut", "oak")),
        S("Pendants", ("Pendant Light", "Pendant", "Ceiling Light"),
          ("glass", "brass", "rattan", "linen", "steel")),
        S("Wall Lights", ("Wall Light", "Sconce", "Picture Light"),
          ("brass", "steel", "glass", "ceramic")),
    ), 90),
    Department("Furniture", (
        S("Chairs", ("Dining Chair", "Armchair", "Lounge Chair", "Stool"),
          ("oak", "walnut", "leather", "velvet", "rattan")),
        S("Tables", ("Dining Table", "Coffee Table", "Side Table", "Desk"),
          ("oak", "walnut", "marble", "steel")),
        S("Sofas", ("Sofa", "Loveseat", "Corner Sofa", "Daybed"),
          ("velvet", "linen", "leather", "wool")),
        S("Shelving", ("Bookcase", "Shelf", "Shelving Unit", "Sideboard"),
          ("oak", "walnut", "steel", "pine")),
    ), 320),
    Department("Kitchen", (
        S("Cookware", ("Frying Pan", "Saucepan", "Casserole Dish", "Wok"),
          ("stainless steel", "cast iron", "copper", "enamel")),
        S("Knives", ("Chef Knife", "Paring Knife", "Bread Knife", "Knife Block"),
          ("stainless steel", "carbon steel", "ceramic")),
        S("Tableware", ("Plate", "Bowl", "Mug", "Cup", "Serving Platter"),
          ("ceramic", "stoneware", "porcelain", "glass")),
        S("Storage", ("Storage Jar", "Canister", "Bread Bin", "Spice Rack"),
          ("glass", "bamboo", "ceramic", "stainless steel")),
    ), 35),
    Department("Textiles", (
        S("Rugs", ("Rug", "Runner", "Doormat"), ("wool", "jute", "cotton")),
        S("Cushions", ("Cushion", "Cushion Cover", "Floor Cushion"),
          ("linen", "velvet", "cotton", "wool")),
        S("Throws", ("Throw", "Blanket"), ("wool", "cotton", "cashmere", "linen")),
        S("Bedding", ("Duvet Cover", "Pillowcase", "Sheet Set", "Quilt"),
          ("cotton", "linen", "silk"), BED_SIZES),
    ), 60),
    Department("Apparel", (
        S("Jackets", ("Jacket", "Coat", "Parka", "Blazer"),
          ("wool", "cotton", "leather", "denim"), CLOTHING_SIZES),
        S("Shirts", ("Shirt", "T-Shirt", "Oxford Shirt", "Polo Shirt"),
          ("cotton", "linen", "silk"), CLOTHING_SIZES),
        S("Knitwear", ("Sweater", "Cardigan", "Jumper"),
          ("wool", "cashmere", "cotton", "merino"), CLOTHING_SIZES),
        S("Trousers", ("Trousers", "Chinos", "Jeans", "Shorts"),
          ("cotton", "linen", "denim", "wool"), CLOTHING_SIZES),
    ), 75),
    Department("Footwear", (
        S("Boots", ("Boot", "Chelsea Boot", "Hiking Boot", "Ankle Boot"),
          ("leather", "suede", "rubber"), SHOE_SIZES),
        S("Sneakers", ("Sneaker", "Trainer", "Running Shoe"),
          ("canvas", "leather", "mesh", "suede"), SHOE_SIZES),
        S("Sandals", ("Sandal", "Slide", "Espadrille"),
          ("leather", "cork", "canvas", "rubber"), SHOE_SIZES),
        S("Slippers", ("Slipper", "Moccasin", "Mule"),
          ("wool", "suede", "sheepskin"), SHOE_SIZES),
    ), 95),
    Department("Garden", (
        S("Planters", ("Planter", "Plant Pot", "Window Box"),
          ("terracotta", "zinc", "concrete", "ceramic")),
        S("Tools", ("Trowel", "Pruner", "Watering Can", "Garden Fork", "Spade"),
          ("steel", "ash", "zinc", "stainless steel")),
        S("Outdoor Furniture", ("Garden Chair", "Lounger", "Bistro Table", "Garden Bench",
                                "Hammock"),
          ("teak", "acacia", "steel", "rattan")),
        S("Outdoor Lighting", ("Lantern", "String Lights", "Solar Light", "Wall Lantern"),
          ("steel", "glass", "zinc", "brass")),
    ), 45),
    Department("Stationery", (
        S("Notebooks", ("Notebook", "Journal", "Sketchbook", "Planner"),
          ("paper", "leather", "linen", "recycled paper"), PAPER_SIZES),
        S("Pens", ("Fountain Pen", "Ballpoint Pen", "Pencil Set", "Rollerball Pen"),
          ("brass", "aluminium", "resin", "wood")),
        S("Desk Organisers", ("Desk Organiser", "Pen Pot", "Letter Tray", "Desk Tidy"),
          ("cork", "oak", "leather", "steel")),
        S("Bags", ("Backpack", "Tote Bag", "Laptop Sleeve", "Messenger Bag"),
          ("canvas", "leather", "nylon")),
    ), 18),
    Department("Audio", (
        S("Headphones", ("Headphones", "Earbuds", "Over-Ear Headphones"),
          ("aluminium", "plastic", "leather")),
        S("Speakers", ("Speaker", "Bookshelf Speaker", "Bluetooth Speaker", "Soundbar"),
          ("walnut", "fabric", "aluminium", "oak")),
        S("Turntables", ("Turntable", "Record Player"), ("walnut", "oak", "aluminium", "acrylic")),
        S("Accessories", ("Speaker Cable", "Headphone Stand", "Record Brush", "Speaker Stand"),
          ("aluminium", "walnut", "steel", "plastic")),
    ), 140),
    Department("Bath", (
        S("Towels", ("Bath Towel", "Hand Towel", "Bath Sheet", "Towel Set"),
          ("cotton", "linen", "bamboo")),
        S("Accessories", ("Soap Dish", "Toothbrush Holder", "Soap Dispenser", "Bath Tray"),
          ("ceramic", "marble", "bamboo", "glass")),
        S("Mirrors", ("Mirror", "Round Mirror", "Vanity Mirror", "Wall Mirror"),
          ("glass", "brass", "oak", "rattan")),
        S("Storage Baskets", ("Basket", "Laundry Basket", "Storage Basket"),
          ("seagrass", "rattan", "jute", "cotton")),
    ), 28),
)
del S

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
#: Words that suit any product (no "Woven" pendant, no "Folding" mirror).
ADJECTIVES = (
    "Classic",
    "Modern",
    "Slim",
    "Rounded",
    "Heritage",
    "Compact",
    "Minimal",
    "Rustic",
    "Coastal",
    "Studio",
    "Everyday",
    "Grand",
    "Nordic",
    "Original",
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
    leaves = [(d, leaf, slugify(f"{d.name} {leaf.name}")) for d in DEPARTMENTS
              for leaf in d.leaves]
    for index in range(count):
        department, leaf, category_slug = leaves[rng.randrange(len(leaves))]
        brand = rng.choice(BRANDS)
        noun = rng.choice(leaf.nouns)
        material = rng.choice(leaf.materials)
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
        attributes = {"brand": brand, "colour": colour, "material": material}
        if leaf.sizes:
            attributes["size"] = rng.choice(leaf.sizes)
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
        # The facet ledgers the load's triggers filled (else the planner takes them as empty
        # until autovacuum gets to them).
        await connection.execute(text("ANALYZE catalog_facet_counts"))
        await connection.execute(text("ANALYZE catalog_facet_pairs"))
    return len(rows)
