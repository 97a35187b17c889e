"""The category rules hold in the database itself (migration 0005), whatever writes the rows: a
name is unique among its siblings regardless of case, and the tree stays one level deep."""

from __future__ import annotations

import psycopg
import pytest


@pytest.fixture
def tree(sql) -> dict[str, int]:
    lighting = sql.category("Lighting")
    return {"lighting": lighting, "garden": sql.category("Garden"),
            "lamps": sql.category("Lamps", parent_id=lighting)}


def test_a_name_is_unique_among_siblings_regardless_of_case(sql, tree):
    with pytest.raises(psycopg.errors.UniqueViolation, match="uq_categories_parent_name"):
        sql.category("GARDEN", slug="garden-2")
    with pytest.raises(psycopg.errors.UniqueViolation, match="uq_categories_parent_name"):
        sql.category("lamps", slug="lamps-2", parent_id=tree["lighting"])
    # The same name elsewhere in the tree is fine.
    sql.category("Lamps", slug="garden-lamps", parent_id=tree["garden"])
    sql.category("lamps", slug="lamps-top")


@pytest.mark.parametrize("change", [
    "INSERT INTO categories (name, slug, parent_id) VALUES ('Arc', 'arc', {lamps})",
    "UPDATE categories SET parent_id = {lamps} WHERE id = {garden}",
    "UPDATE categories SET parent_id = {garden} WHERE id = {lighting}",
])
def test_a_write_that_would_nest_two_levels_is_refused(sql, tree, change):
    with pytest.raises(psycopg.errors.CheckViolation, match="categories_one_level|cannot"):
        sql.execute(change.format(**tree))
    assert sql.all("SELECT c.id FROM categories c JOIN categories p ON p.id = c.parent_id"
                   " WHERE p.parent_id IS NOT NULL") == []


def test_moves_within_the_rule_are_allowed(sql, tree):
    sql.execute("UPDATE categories SET parent_id = %s WHERE id = %s", tree["garden"],
                tree["lamps"])
    sql.execute("UPDATE categories SET parent_id = %s WHERE id = %s", tree["garden"],
                tree["lighting"])
    sql.execute("UPDATE categories SET name = 'Lights' WHERE id = %s", tree["lighting"])
    assert sql.scalar("SELECT count(*) FROM categories WHERE parent_id = %s",
                      tree["garden"]) == 2


def test_the_migration_repairs_trees_and_names_that_break_the_rules(database_url):
    """Races before 0005 could leave a grandchild (invisible in the admin and to shoppers) and
    two siblings of one name: upgrading moves the grandchild up to its top-level category and
    renames the later sibling, so the new index and trigger can be created."""
    from flask_migrate import upgrade

    from app import create_app
    from app.data.embedded import ensure_database
    from app.data.urls import async_url, libpq_dsn

    url = async_url(database_url)
    url = url.set(database=f"{url.database}_0005")
    ensure_database(libpq_dsn(url.set(database="postgres")), url.database or "")
    dsn = libpq_dsn(url)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    app = create_app("testing", DATABASE_URL=url.render_as_string(hide_password=False))
    try:
        with app.app_context():
            upgrade(revision="0004")
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute("INSERT INTO categories (id, name, slug, parent_id) VALUES"
                             " (1, 'Home', 'home', NULL), (2, 'Lighting', 'lighting', 1),"
                             " (3, 'Lamps', 'lamps', 2), (4, 'Garden', 'garden', NULL),"
                             " (5, 'garden', 'garden-2', NULL)")
            upgrade()
            with psycopg.connect(dsn) as conn:
                rows = {row[0]: row[1:] for row in conn.execute(
                    "SELECT id, name, parent_id FROM categories").fetchall()}
    finally:
        app.close()
    assert rows == {1: ("Home", None), 2: ("Lighting", 1), 3: ("Lamps", 1),
                    4: ("Garden", None), 5: ("garden (5)", None)}
