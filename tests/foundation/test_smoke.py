def test_catalog_page_lists_active_products(client, sql):
    category = sql.category("Lighting")
    sql.product("Brass Floor Lamp", category_id=category)
    sql.product("Hidden Lamp", category_id=category, is_active=False)
    response = client.get("/products")
    assert response.status_code == 200
    assert b"Brass Floor Lamp" in response.data
    assert b"Hidden Lamp" not in response.data
