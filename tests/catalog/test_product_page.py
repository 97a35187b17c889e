"""``/products/<slug>``: what a shopper needs to decide, a way back to the list they came from,
and nothing for inactive or unknown products."""

from tests.support.html import parse

from .conftest import HX


def test_detail_page_shows_attributes_price_and_stock(client, shop):
    response = client.get("/products/brass-floor-lamp")
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    root = parse(response.data)
    detail = root.by_id("product-detail")
    assert detail.find("h1").text == "Brass Floor Lamp"
    assert detail.find("p", class_="product-detail-price").text == "£120.00"
    assert detail.find("p", class_="stock").text == "Only 3 left"
    facts = dict(zip([dt.text for dt in detail.find_all("dt")],
                     [dd.text for dd in detail.find_all("dd")], strict=True))
    assert facts == {"Category": "Floor Lamps", "Brand": "Nordhavn", "Colour": "black",
                     "Material": "mixed", "Size": "L"}
    assert "made to last" in detail.find("p", class_="product-description").text


def test_stock_states(client, shop):
    def stock(slug):
        return parse(client.get(f"/products/{slug}").data).find("p", class_="stock").text

    assert stock("linen-floor-lamp") == "Out of stock"
    assert stock("brass-table-lamp") == "In stock"


def test_breadcrumbs_lead_back_to_the_filtered_list(client, shop):
    root = parse(client.get("/products/brass-floor-lamp?q=lamp&brand=Nordhavn&page=2"
                            "&sort=price_asc&junk=1").data)
    crumbs = root.find("nav", class_="breadcrumbs").find_all("a")
    assert [(a.text, a.get("href")) for a in crumbs] == [
        ("Back to results", "/products?q=lamp&brand=Nordhavn&sort=price_asc&page=2"),
        ("Lighting", "/products?category=lighting"),
        ("Floor Lamps", "/products?category=lighting-floor-lamps"),
    ]


def test_result_links_carry_the_list_query(client, shop):
    root = parse(client.get("/products?q=brass&sort=name").data)
    hrefs = [a.get("href") for a in root.find_all("a", class_="product-link")]
    assert hrefs == ["/products/brass-floor-lamp?q=brass&sort=name",
                     "/products/brass-table-lamp?q=brass&sort=name"]


def test_bad_list_parameters_do_not_break_the_detail_page(client, shop):
    root = parse(client.get("/products/brass-floor-lamp?min_price=-1&page=x").data)
    assert root.find("nav", class_="breadcrumbs").find("a").get("href") == "/products"


def test_htmx_gets_the_fragment(client, shop):
    response = client.get("/products/brass-floor-lamp", headers=HX)
    assert response.status_code == 200
    assert b"<html" not in response.data and b'id="product-detail"' in response.data
    assert "HX-Request" in response.headers["Vary"]


def test_inactive_and_unknown_products_are_404(client, shop):
    assert client.get("/products/hidden-chair").status_code == 404
    assert client.get("/products/no-such-thing").status_code == 404
    assert client.get("/products/" + "x" * 500).status_code == 404
    assert client.get("/products/hidden-chair", headers=HX).status_code == 404
