"""Admin pages: categories (create, rename, move one level deep, delete only when empty) and
users (create, change role, deactivate; never without an active admin)."""

from __future__ import annotations

import pytest

from app.data.models import ROLES
from app.data.users import MIN_PASSWORD_LENGTH
from tests.support.clients import sign_in_client
from tests.support.html import parse

# -- categories ---------------------------------------------------------------------------------


@pytest.fixture
def tree(sql):
    lighting = sql.category("Lighting")
    lamps = sql.category("Floor Lamps", slug="lighting-floor-lamps", parent_id=lighting)
    garden = sql.category("Garden")
    return {"lighting": lighting, "lamps": lamps, "garden": garden}


def categories(sql):
    return {r["name"]: r for r in sql.all("SELECT id, name, slug, parent_id FROM categories")}


def test_the_categories_page_and_partial(admin, tree):
    page = admin.get("/editor/categories").get_data(as_text=True)
    assert "<!doctype html>" in page and 'id="categories"' in page
    rows = [page.index(f'id="category-row-{tree[name]}"') for name in ("garden", "lighting",
                                                                      "lamps")]
    assert rows == sorted(rows)  # by name, each sub-category under its parent
    partial = admin.get("/editor/categories", htmx=True).get_data(as_text=True)
    assert "<!doctype html>" not in partial and "Floor Lamps" in partial


def test_create_a_category_and_a_sub_category(admin, sql, tree):
    response = admin.post("/editor/categories", {"name": "Rugs  & Mats"})
    assert response.status_code == 200
    assert "Created the category “Rugs &amp; Mats”." in response.get_data(as_text=True)
    rugs = categories(sql)["Rugs & Mats"]
    assert rugs["slug"] == "rugs-mats" and rugs["parent_id"] is None
    admin.post("/editor/categories", {"name": "Runners", "parent_id": str(rugs["id"])})
    assert categories(sql)["Runners"]["parent_id"] == rugs["id"]


def test_category_slugs_are_unique_and_never_empty(admin, sql, tree):
    admin.post("/editor/categories", {"name": "Garden", "parent_id": str(tree["lighting"])})
    admin.post("/editor/categories", {"name": "¿?"})
    slugs = {(row["name"], row["parent_id"]): row["slug"]
             for row in sql.all("SELECT name, parent_id, slug FROM categories")}
    assert slugs[("Garden", tree["lighting"])] == "garden-2"  # "garden" is the top-level one
    assert slugs[("¿?", None)] == "category"


@pytest.mark.parametrize(("data", "message"), [
    ({"name": ""}, "Enter a name."),
    ({"name": "   "}, "Enter a name."),
    ({"name": "x" * 121}, "Name can be at most 120 characters."),
    ({"name": "garden"}, "There is already a category called"),
    ({"name": "Bulbs", "parent_id": "9999"}, "That parent category does not exist."),
])
def test_create_errors_are_shown_at_the_create_form(admin, sql, tree, data, message):
    response = admin.post("/editor/categories", data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="category-new-error"' in html and message in html
    assert len(categories(sql)) == 3


def test_categories_go_one_level_deep(admin, sql, tree):
    response = admin.post("/editor/categories", {"name": "Arc Lamps",
                                                 "parent_id": str(tree["lamps"])})
    assert response.status_code == 422
    assert "is itself a sub-category" in response.get_data(as_text=True)
    # A category with children cannot be moved under another.
    response = admin.post(f"/editor/categories/{tree['lighting']}",
                          {"name": "Lighting", "parent_id": str(tree["garden"])})
    assert response.status_code == 422
    assert "has sub-categories" in response.get_data(as_text=True)
    assert categories(sql)["Lighting"]["parent_id"] is None


def test_rename_and_move(admin, sql, tree):
    response = admin.post(f"/editor/categories/{tree['lamps']}",
                          {"name": "Standing Lamps", "parent_id": str(tree["garden"])})
    assert response.status_code == 200
    moved = categories(sql)["Standing Lamps"]
    assert moved["parent_id"] == tree["garden"]
    assert moved["slug"] == "lighting-floor-lamps"  # links keep working
    admin.post(f"/editor/categories/{tree['lamps']}", {"name": "Standing Lamps",
                                                       "parent_id": ""})
    assert categories(sql)["Standing Lamps"]["parent_id"] is None


def test_a_category_cannot_be_its_own_parent(admin, sql, tree):
    response = admin.post(f"/editor/categories/{tree['garden']}",
                          {"name": "Garden", "parent_id": str(tree["garden"])})
    assert response.status_code == 422
    assert "cannot be its own parent" in response.get_data(as_text=True)


def test_delete_only_when_empty(admin, sql, tree):
    sql.product("Trowel", category_id=tree["garden"])
    response = admin.post(f"/editor/categories/{tree['garden']}/delete")
    assert response.status_code == 409
    assert "still has 1 product" in response.get_data(as_text=True)
    response = admin.post(f"/editor/categories/{tree['lighting']}/delete")
    assert response.status_code == 409
    assert "still has sub-categories" in response.get_data(as_text=True)
    response = admin.post(f"/editor/categories/{tree['lamps']}/delete")
    assert response.status_code == 200
    assert set(categories(sql)) == {"Lighting", "Garden"}


def test_category_changes_without_htmx_redirect(admin, sql, tree):
    response = admin.post("/editor/categories", {"name": "Bath"}, htmx=False)
    assert response.status_code == 303 and response.headers["Location"] == "/editor/categories"
    assert "Created the category" in admin.get("/editor/categories").get_data(as_text=True)


def test_category_pages_need_csrf(admin, sql, tree):
    assert admin.post("/editor/categories", {"name": "Bath"}, csrf=False).status_code == 400
    assert "Bath" not in categories(sql)


# -- users --------------------------------------------------------------------------------------

def users(sql):
    return {r["email"]: r for r in sql.all(
        "SELECT id, email, role, is_active, session_generation FROM users")}


def test_the_users_page_and_partial(admin, sql):
    sql.user("ed@example.com")
    page = admin.get("/editor/users").get_data(as_text=True)
    assert "<!doctype html>" in page and "ed@example.com" in page and "(you)" in page
    partial = admin.get("/editor/users", htmx=True).get_data(as_text=True)
    assert "<!doctype html>" not in partial and "ed@example.com" in partial
    # Every role the app knows is offered, for each user and for a new one.
    html = parse(page)
    selects = html.select("select[name=role]")
    assert len(selects) == 3  # the new user's, and one per user
    for select in selects:
        assert [option.get("value") for option in select.find_all("option")] == list(ROLES)
    assert html.find("input", type="password").get("minlength") == str(MIN_PASSWORD_LENGTH)


def test_create_a_user_who_can_then_sign_in(app, admin, sql):
    response = admin.post("/editor/users", {"email": "new@example.com",
                                            "password": "long enough pw", "role": "editor"})
    assert response.status_code == 200
    assert "Created the editor new@example.com." in response.get_data(as_text=True)
    assert sign_in_client(app, "new@example.com", "long enough pw").get(
        "/editor/products").status_code == 200


@pytest.mark.parametrize(("data", "message"), [
    ({"email": "", "password": "long enough pw"}, "Enter an email address."),
    ({"email": "new@example.com", "password": "short"}, "at least 10 characters"),
    ({"email": "not-an-email", "password": "long enough pw"}, "Email must be an address"),
    ({"email": "AD@example.com", "password": "long enough pw"}, "already exists"),
    ({"email": "x@example.com", "password": "long enough pw", "role": "owner"},
     "Not a valid choice"),
])
def test_user_creation_errors(admin, sql, data, message):
    response = admin.post("/editor/users", {"role": "editor", **data})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert len(users(sql)) == 1


def test_changing_a_role_takes_effect_and_ends_their_sessions(app, admin, sql):
    sql.user("ed@example.com")
    editor = sign_in_client(app, "ed@example.com")
    ed = users(sql)["ed@example.com"]
    response = admin.post(f"/editor/users/{ed['id']}/role", {"role": "admin"})
    assert response.status_code == 200 and "is now an admin" in response.get_data(as_text=True)
    assert users(sql)["ed@example.com"]["role"] == "admin"
    assert editor.get("/editor/products").status_code == 302  # signed out
    assert sign_in_client(app, "ed@example.com").get("/editor/users").status_code == 200


def test_deactivating_a_user_signs_them_out_and_keeps_them_out(app, admin, sql):
    sql.user("ed@example.com")
    editor = sign_in_client(app, "ed@example.com")
    ed = users(sql)["ed@example.com"]
    response = admin.post(f"/editor/users/{ed['id']}/active", {"is_active": "0"})
    assert response.status_code == 200
    assert users(sql)["ed@example.com"]["is_active"] is False
    assert editor.get("/editor/products").status_code == 302
    admin.post(f"/editor/users/{ed['id']}/active", {"is_active": "1"})
    assert users(sql)["ed@example.com"]["is_active"] is True


def test_the_last_admin_cannot_demote_or_deactivate_themselves(admin, sql):
    me = users(sql)["ad@example.com"]
    for url, data in ((f"/editor/users/{me['id']}/role", {"role": "editor"}),
                      (f"/editor/users/{me['id']}/active", {"is_active": "0"})):
        response = admin.post(url, data)
        assert response.status_code == 409
        assert "at least one active admin" in response.get_data(as_text=True)
    assert users(sql)["ad@example.com"]["role"] == "admin"
    assert users(sql)["ad@example.com"]["is_active"] is True


def test_with_another_admin_an_admin_may_step_down_and_stays_signed_in(admin, sql):
    sql.user("other@example.com", role="admin")
    me = users(sql)["ad@example.com"]
    response = admin.post(f"/editor/users/{me['id']}/role", {"role": "editor"})
    assert response.status_code == 200
    assert users(sql)["ad@example.com"]["role"] == "editor"
    assert admin.get("/editor/products").status_code == 200
    assert admin.get("/editor/users").status_code == 403


def test_an_inactive_admin_does_not_count(admin, sql):
    sql.user("old@example.com", role="admin", is_active=False)
    me = users(sql)["ad@example.com"]
    assert admin.post(f"/editor/users/{me['id']}/role", {"role": "editor"}).status_code == 409


def test_user_changes_without_htmx_redirect(admin, sql):
    sql.user("ed@example.com")
    ed = users(sql)["ed@example.com"]
    response = admin.post(f"/editor/users/{ed['id']}/role", {"role": "admin"}, htmx=False)
    assert response.status_code == 303 and response.headers["Location"] == "/editor/users"


def test_user_changes_need_csrf(admin, sql):
    sql.user("ed@example.com")
    ed = users(sql)["ed@example.com"]
    response = admin.post(f"/editor/users/{ed['id']}/active", {"is_active": "0"}, csrf=False)
    assert response.status_code == 400
    assert users(sql)["ed@example.com"]["is_active"] is True
