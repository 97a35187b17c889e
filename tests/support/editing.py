"""An editor's save through the real write path (the inline row form), for tests outside the
editor's own."""

from __future__ import annotations

from typing import Any


def save_fields(editor: Any, sql: Any, product_id: int, **changes: str) -> None:
    """Save a product with the editor's inline save: ``changes`` (form fields such as ``name``
    or ``brand``) over its current values."""
    row = sql.one("SELECT version, name, price, stock, category_id, attributes FROM products"
                  " WHERE id = %s", product_id)
    attributes = row["attributes"] or {}
    response = editor.put(f"/editor/products/{product_id}", {
        "version": str(row["version"]), "name": row["name"], "price": str(row["price"]),
        "stock": str(row["stock"]), "category_id": str(row["category_id"]), "is_active": "y",
        **{key: str(attributes.get(key, "")) for key in ("brand", "colour", "material", "size")},
        **changes})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]


def save_name(editor: Any, sql: Any, product_id: int, name: str) -> None:
    """Rename a product with the editor's inline save, keeping its other values."""
    save_fields(editor, sql, product_id, name=name)
