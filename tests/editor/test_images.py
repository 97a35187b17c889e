"""A product's images in the editor: uploads checked before anything is stored, metadata
stripped, variants made by the job, served immutable, every change in the product's history,
shoppers' cards and product page using the variants."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from app.jobs.images import make_image_variants
from tests.support.html import parse
from tests.support.images import image_bytes, jpeg_with_gps_and_orientation, png_bomb

CARD_IMAGE = "(max-width: 40rem) 50vw, 16rem"


@pytest.fixture
def lamp(sql, category) -> int:
    return sql.product("Brass Lamp", category_id=category, price="10.00", stock=5)


def upload(editor, product_id: int, data: bytes, alt: str = "A brass lamp, lit",
           name: str = "lamp.png", **kwargs):
    return editor.post(f"/editor/products/{product_id}/images",
                       {"image": (io.BytesIO(data), name), "alt": alt}, **kwargs)


def nothing_written(sql, product_id: int) -> None:
    assert sql.scalar("SELECT count(*) FROM product_images") == 0
    assert sql.scalar("SELECT count(*) FROM image_blobs") == 0
    assert sql.scalar("SELECT version FROM products WHERE id = %s", product_id) == 1
    assert sql.scalar("SELECT count(*) FROM product_revisions") == 0
    assert sql.scalar("SELECT count(*) FROM procrastinate_jobs") == 0


def run_variants(app, image_id: int) -> str:
    return app.run_blocking(make_image_variants(app.extensions["vitrine_db"], image_id))


# -- uploading ----------------------------------------------------------------------------------

def test_an_upload_is_stored_queued_versioned_and_shown_in_the_panel(editor, sql, lamp):
    response = upload(editor, lamp, image_bytes(800, 450))
    html = response.get_data(as_text=True)
    assert response.status_code == 201, html[:1000]
    assert parse(html).by_id("images-panel")
    assert "Added the image “A brass lamp, lit”" in html
    assert "Preparing its sizes" in html
    row = sql.one("SELECT * FROM product_images")
    assert (row["product_id"], row["position"], row["alt"], row["state"]) == (
        lamp, 1, "A brass lamp, lit", "pending")
    assert (row["width"], row["height"]) == (800, 450)
    assert sql.scalar("SELECT content_type FROM image_blobs WHERE sha256 = %s",
                      row["original"]) == "image/png"
    assert sql.scalar("SELECT version FROM products WHERE id = %s", lamp) == 2
    assert sql.scalar("SELECT task_name FROM procrastinate_jobs") == "vitrine:image_variants"
    assert sql.scalar("SELECT args->>'image_id' FROM procrastinate_jobs") == str(row["id"])


def test_the_full_page_without_htmx_redirects_back_to_the_images(editor, sql, lamp):
    response = upload(editor, lamp, image_bytes(), htmx=False)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/editor/products/{lamp}/images")
    page = editor.get(f"/editor/products/{lamp}/images").get_data(as_text=True)
    assert "<!doctype html>" in page.lower() and "A brass lamp, lit" in page


@pytest.mark.parametrize(("name", "data", "alt", "message"), [
    ("fake.png", b"this is plain text, not a picture\n" * 20, "Lamp",
     "not a JPEG, PNG, WebP or GIF image"),
    ("photo.bmp", image_bytes(fmt="BMP"), "Lamp", "not a JPEG, PNG, WebP or GIF image"),
    ("photo.tif", image_bytes(fmt="TIFF"), "Lamp", "not a JPEG, PNG, WebP or GIF image"),
    ("bomb.png", png_bomb(), "Lamp", "too many pixels"),
    ("cut.png", image_bytes(300, 300)[:200], "Lamp", "damaged or incomplete"),
    ("lamp.png", image_bytes(), "", "Describe the image"),
    ("lamp.png", image_bytes(), "   ", "Describe the image"),
    ("lamp.png", image_bytes(), "x" * 251, "250 characters or fewer"),
    ("empty.png", b"", "Lamp", "The file is empty"),
])
def test_a_refused_upload_says_why_in_place_and_writes_nothing(editor, sql, lamp, name, data,
                                                               alt, message):
    response = upload(editor, lamp, data, alt=alt, name=name)
    html = response.get_data(as_text=True)
    assert response.status_code == 422, html[:500]
    error = parse(html).by_id("image-upload-error")
    assert message in error.text
    assert "HX-Retarget" not in response.headers  # the panel itself, where the editor is
    nothing_written(sql, lamp)


def test_a_file_over_the_byte_limit_is_refused(make_app, sql, lamp):
    from tests.support.clients import sign_in_client

    sql.user("big@example.com", role="editor")
    app = make_app(IMAGE_MAX_BYTES=20_000)
    editor = sign_in_client(app, "big@example.com")
    noisy = Image.effect_noise((140, 140), 80).convert("RGB")
    out = io.BytesIO()
    noisy.save(out, "PNG")
    large = out.getvalue()
    assert 20_000 < len(large) < 20_000 + 64 * 1024
    response = upload(editor, lamp, large)
    assert response.status_code == 422
    assert "larger than" in parse(response.get_data(as_text=True)).by_id(
        "image-upload-error").text
    nothing_written(sql, lamp)
    # Past the route's body allowance the body is refused before the view: 413, in place.
    huge = upload(editor, lamp, large * 8)
    assert huge.status_code == 413
    assert huge.headers["HX-Retarget"] == "#image-upload-error"
    nothing_written(sql, lamp)


def test_metadata_is_stripped_and_the_orientation_applied(editor, sql, lamp):
    original = jpeg_with_gps_and_orientation(40, 20)
    assert b"Secret Camera" in original
    assert upload(editor, lamp, original, name="phone.jpg").status_code == 201
    stored = bytes(sql.scalar("SELECT b.data FROM image_blobs b JOIN product_images i"
                              " ON i.original = b.sha256"))
    image = Image.open(io.BytesIO(stored))
    assert image.format == "JPEG" and image.size == (20, 40)  # turned upright
    assert not image.getexif() and "exif" not in image.info
    assert b"Secret Camera" not in stored and b"GPS" not in stored
    assert sql.one("SELECT width, height FROM product_images") == {"width": 20, "height": 40}


def test_a_gif_is_kept_as_a_png_of_its_first_frame(editor, sql, lamp):
    frames = [Image.new("RGB", (30, 30), c) for c in ((255, 0, 0), (0, 255, 0))]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:])
    assert upload(editor, lamp, out.getvalue(), name="anim.gif").status_code == 201
    stored = sql.one("SELECT b.content_type, b.data FROM image_blobs b")
    assert stored["content_type"] == "image/png"
    first = Image.open(io.BytesIO(bytes(stored["data"]))).convert("RGB")
    assert first.getpixel((5, 5)) == (255, 0, 0)


# -- the variants job and serving ---------------------------------------------------------------

@pytest.mark.parametrize(("width", "widths"), [(1600, [320, 640, 1280]), (500, [320, 500])])
def test_the_job_makes_webp_and_jpeg_of_each_width(app, editor, sql, lamp, width, widths):
    upload(editor, lamp, image_bytes(width, width // 2))
    image_id = sql.scalar("SELECT id FROM product_images")
    version = sql.scalar("SELECT version FROM catalog_version")
    assert run_variants(app, image_id) == "ready"
    row = sql.one("SELECT state, variants FROM product_images")
    assert row["state"] == "ready"
    assert [v["w"] for v in row["variants"]] == widths
    for variant in row["variants"]:
        for key, fmt in (("webp", "WEBP"), ("jpeg", "JPEG")):
            data = bytes(sql.scalar("SELECT data FROM image_blobs WHERE sha256 = %s",
                                    variant[key]))
            decoded = Image.open(io.BytesIO(data))
            assert decoded.format == fmt
            assert decoded.size == (variant["w"], variant["h"])
    # Shoppers' cached pages follow: the job's change renewed the catalog version.
    assert sql.scalar("SELECT version FROM catalog_version") != version
    # Run again (a retried job): nothing new, still ready.
    blobs = sql.scalar("SELECT count(*) FROM image_blobs")
    assert run_variants(app, image_id) == "ready"
    assert sql.scalar("SELECT count(*) FROM image_blobs") == blobs


def test_a_removed_image_is_skipped_by_its_job(app, editor, sql, lamp):
    upload(editor, lamp, image_bytes())
    image_id = sql.scalar("SELECT id FROM product_images")
    sql.execute("DELETE FROM product_images")
    assert run_variants(app, image_id) == "gone"


def test_images_are_served_immutable_with_an_etag_and_304(app, client, editor, sql, lamp):
    upload(editor, lamp, image_bytes(700, 400))
    run_variants(app, sql.scalar("SELECT id FROM product_images"))
    variant = sql.scalar("SELECT variants->0 FROM product_images")
    response = client.get(f"/images/{variant['webp']}.webp")
    assert response.status_code == 200 and response.mimetype == "image/webp"
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.headers["ETag"] == f'"{variant["webp"]}"'
    assert Image.open(io.BytesIO(response.data)).size == (320, variant["h"])
    again = client.get(f"/images/{variant['webp']}.webp",
                       headers={"If-None-Match": f'"{variant["webp"]}"'})
    assert again.status_code == 304 and not again.data
    assert again.headers["ETag"] == f'"{variant["webp"]}"'
    assert client.get(f"/images/{variant['webp']}.jpg").status_code == 404  # not its type
    assert client.get(f"/images/{'0' * 64}.webp").status_code == 404
    assert client.get(f"/images/{'Z' * 64}.webp").status_code == 404
    assert client.get(f"/images/{variant['webp']}.gif").status_code == 404


# -- shoppers -----------------------------------------------------------------------------------

def test_cards_and_the_product_page_use_the_variants_once_ready(app, client, editor, sql, lamp):
    upload(editor, lamp, image_bytes(1600, 900))
    listing = client.get("/products").get_data(as_text=True)
    assert "<picture" not in listing  # pending: the letter tile
    card = parse(listing).select(".product-card")[0]
    assert card.select(".product-thumb")[0].text == "B"
    run_variants(app, sql.scalar("SELECT id FROM product_images"))
    listing = client.get("/products").get_data(as_text=True)
    picture = parse(listing).select(".product-card picture")[0]
    source = picture.find("source")
    assert source.get("type") == "image/webp" and source.get("sizes") == CARD_IMAGE
    assert [part.split()[1] for part in source.get("srcset").split(", ")] == [
        "320w", "640w", "1280w"]
    img = picture.find("img")
    assert (img.get("width"), img.get("height"), img.get("loading")) == ("640", "360", "lazy")
    assert img.get("alt") == "" and ".jpg" in img.get("src")
    page = client.get("/products/brass-lamp").get_data(as_text=True)
    main = parse(page).select(".product-gallery picture img")[0]
    assert main.get("alt") == "A brass lamp, lit"
    assert (main.get("width"), main.get("height")) == ("640", "360")


def test_the_card_query_stays_one_statement(app, client, editor, sql, lamp, category):
    """The first image rides in the page query (a column), not one query per card."""
    from sqlalchemy import event

    for number in range(3):
        other = sql.product(f"Lamp {number}", category_id=category)
        upload(editor, other, image_bytes(400, 300, colour=(number, 0, 0)))
    for image_id in sql.all("SELECT id FROM product_images"):
        run_variants(app, image_id["id"])
    statements: list[str] = []

    async def engine():
        return app.extensions["vitrine_db"].engine

    sync_engine = app.run_blocking(engine()).sync_engine
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(sync_engine, "before_cursor_execute", listener)
    try:
        client.get("/products?sort=name")
    finally:
        event.remove(sync_engine, "before_cursor_execute", listener)
    pages = [s for s in statements if "product_images" in s]
    assert len(pages) == 1 and "LIMIT" in pages[0]


# -- history, order, alt, removal ---------------------------------------------------------------

def image_ids(sql) -> list[int]:
    return [row["id"] for row in sql.all("SELECT id FROM product_images ORDER BY position, id")]


def test_every_image_change_is_in_the_history_and_bumps_the_version(editor, sql, lamp):
    upload(editor, lamp, image_bytes(colour=(1, 1, 1)), alt="Front")
    upload(editor, lamp, image_bytes(colour=(2, 2, 2)), alt="Side")
    front, side = image_ids(sql)
    response = editor.post(f"/editor/products/{lamp}/images/order",
                           {"order": [str(side), str(front)]})
    assert response.status_code == 200 and "Changed the order" in response.get_data(
        as_text=True)
    assert image_ids(sql) == [side, front]
    response = editor.post(f"/editor/products/{lamp}/images/{front}/alt", {"alt": "Front view"})
    assert response.status_code == 200
    response = editor.post(f"/editor/products/{lamp}/images/{side}/delete")
    assert response.status_code == 200 and "Removed the image “Side”" in response.get_data(
        as_text=True)
    assert image_ids(sql) == [front]
    assert sql.scalar("SELECT version FROM products WHERE id = %s", lamp) == 6
    history = editor.get(f"/editor/products/{lamp}/history").get_data(as_text=True)
    entries = [entry for entry in parse(history).select("li.revision")
               if entry.get("id") != "revision-before"]
    assert len(entries) == 5
    rows = [entry.select("table.changes tbody tr")[0] for entry in entries]
    changes = [(row.find("th").text, row.find("td", class_="before").text,
                row.find("td", class_="after").text) for row in rows]
    assert changes == [
        ("Images", "1. Side; 2. Front view", "1. Front view"),
        ("Images", "1. Side; 2. Front", "1. Side; 2. Front view"),
        ("Images", "1. Front; 2. Side", "1. Side; 2. Front"),
        ("Images", "1. Front", "1. Front; 2. Side"),
        ("Images", "—", "1. Front"),
    ]
    assert all("by ed@example.com" in entry.text for entry in entries)
    assert all(entry.select(".source")[0].text == "Images" for entry in entries)


def test_a_row_opened_before_an_image_change_still_saves(editor, sql, lamp, category):
    """An image change moves the version on; a stale row save merges as with any change."""
    upload(editor, lamp, image_bytes())
    response = editor.put(f"/editor/products/{lamp}", {
        "version": "1", "name": "Brass Lamp", "price": "12.00", "stock": "5",
        "category_id": str(category), "is_active": "y"})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert sql.one("SELECT price::text, version FROM products WHERE id = %s", lamp) == {
        "price": "12.00", "version": 3}


def test_a_reorder_that_does_not_name_every_image_changes_nothing(editor, sql, lamp):
    upload(editor, lamp, image_bytes(colour=(1, 1, 1)), alt="Front")
    upload(editor, lamp, image_bytes(colour=(2, 2, 2)), alt="Side")
    front, side = image_ids(sql)
    response = editor.post(f"/editor/products/{lamp}/images/order", {"order": [str(side)]})
    assert response.status_code == 409 and "Reload the page" in response.get_data(as_text=True)
    assert image_ids(sql) == [front, side]
    assert editor.post(f"/editor/products/{lamp}/images/order",
                       {"order": ["x"]}).status_code == 400


def test_an_empty_alt_text_is_refused_next_to_its_field(editor, sql, lamp):
    upload(editor, lamp, image_bytes(), alt="Front")
    (image_id,) = image_ids(sql)
    response = editor.post(f"/editor/products/{lamp}/images/{image_id}/alt", {"alt": " "})
    assert response.status_code == 422
    field = parse(response.get_data(as_text=True)).by_id(f"alt-{image_id}")
    assert field.get("aria-invalid") == "true"
    assert sql.scalar("SELECT alt FROM product_images") == "Front"


def test_the_row_and_the_history_link_to_the_images(editor, lamp):
    table = editor.get("/editor/products").get_data(as_text=True)
    assert f'href="/editor/products/{lamp}/images"' in table
    history = editor.get(f"/editor/products/{lamp}/history").get_data(as_text=True)
    assert f'href="/editor/products/{lamp}/images"' in history


def test_the_images_page_answers_htmx_with_the_panel(editor, lamp):
    partial = editor.get(f"/editor/products/{lamp}/images", htmx=True)
    assert partial.status_code == 200 and "HX-Request" in partial.headers["Vary"]
    html = partial.get_data(as_text=True)
    assert html.lstrip().startswith("<section") and "<html" not in html
    page = editor.get(f"/editor/products/{lamp}/images").get_data(as_text=True)
    assert "<html" in page and 'id="images-panel"' in page


# -- who may, and how -----------------------------------------------------------------------------

def writes(lamp: int, image_id: int) -> list[tuple[str, dict]]:
    return [
        (f"/editor/products/{lamp}/images", {"image": (io.BytesIO(image_bytes()), "a.png"),
                                             "alt": "Another"}),
        (f"/editor/products/{lamp}/images/{image_id}/delete", {}),
        (f"/editor/products/{lamp}/images/order", {"order": [str(image_id)]}),
        (f"/editor/products/{lamp}/images/{image_id}/alt", {"alt": "Changed"}),
    ]


def state(sql) -> tuple:
    return (sql.all("SELECT id, position, alt FROM product_images ORDER BY id"),
            sql.scalar("SELECT max(version) FROM products"),
            sql.scalar("SELECT count(*) FROM product_revisions"))


def test_writes_need_a_signed_in_editor_csrf_and_a_command_key(app, editor, sql, lamp):
    upload(editor, lamp, image_bytes(), alt="Front")
    (image_id,) = image_ids(sql)
    before = state(sql)
    anonymous = app.test_client()
    for url, data in writes(lamp, image_id):
        assert anonymous.post(url, data={**data, "command_key": "k" * 20}).status_code in (
            302, 401, 403), url
    for url, data in writes(lamp, image_id):
        response = editor.post(url, data, csrf=False)
        assert response.status_code == 400, url
    for url, data in writes(lamp, image_id):
        response = editor.post(url, data, key=False)
        assert response.status_code == 400 and "one-time key" in response.get_data(
            as_text=True), url
    assert state(sql) == before


def test_a_repeated_upload_is_applied_once(editor, sql, lamp):
    data = image_bytes()
    first = upload(editor, lamp, data, alt="Front")
    form = {"image": (io.BytesIO(data), "lamp.png"), "alt": "Front", "command_key": "K" * 24}
    first = editor.post(f"/editor/products/{lamp}/images", dict(form))
    form["image"] = (io.BytesIO(data), "lamp.png")
    again = editor.post(f"/editor/products/{lamp}/images", dict(form))
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert sql.scalar("SELECT count(*) FROM product_images") == 2  # the first upload + one
    # The same key with another file is another request: refused, nothing written.
    form["image"] = (io.BytesIO(image_bytes(colour=(9, 9, 9))), "lamp.png")
    assert editor.post(f"/editor/products/{lamp}/images", dict(form)).status_code == 422
    assert sql.scalar("SELECT count(*) FROM product_images") == 2


# -- demo images ----------------------------------------------------------------------------------

def test_the_seed_gives_every_product_a_ready_demo_image_once(app, client, sql, category):
    from app.data.seed_images import seed_images

    for number in range(4):
        sql.product(f"Lamp {number}", category_id=category,
                    attributes={"brand": "Halden", "colour": "teal"})
    sql.product("Oak Table", category_id=category)

    async def seed():
        return await seed_images(app.extensions["vitrine_db"].engine)

    assert app.run_blocking(seed()) == 5
    rows = sql.all("SELECT state, original, variants, alt FROM product_images")
    assert {row["state"] for row in rows} == {"ready"}
    assert len({row["original"] for row in rows}) == 2  # one tile per colour and letter
    digests = {v[key] for row in rows for v in row["variants"] for key in ("webp", "jpeg")}
    assert sql.scalar("SELECT count(*) FROM image_blobs WHERE sha256 = ANY(%s)",
                      sorted(digests)) == len(digests)
    assert any("the letter H on a teal tile" in row["alt"] for row in rows)
    assert app.run_blocking(seed()) == 0  # products that have an image keep it
    assert client.get("/products").get_data(as_text=True).count("<picture") == 5


# -- from the products table's row ---------------------------------------------------------------

def test_the_rows_upload_form_answers_htmx_and_a_plain_browser(editor, sql, lamp):
    url = f"/editor/products/{lamp}/images/row-form"
    partial = editor.get(url, htmx=True)
    assert partial.status_code == 200 and "HX-Request" in partial.headers["Vary"]
    form_row = parse(partial.get_data(as_text=True)).by_id(f"row-images-{lamp}")
    assert form_row.select("input[name=place][value=row]")
    assert form_row.select("input[name=command_key]") and form_row.select("input[name=csrf_token]")
    assert "<html" not in partial.get_data(as_text=True)
    page = editor.get(url)
    assert page.status_code == 200 and "<html" in page.get_data(as_text=True)
    assert parse(page.get_data(as_text=True)).by_id("images-panel")  # the same form, whole page
    row = parse(editor.get("/editor/products", htmx=False).get_data(as_text=True)).by_id(
        f"product-{lamp}")
    (button,) = row.select("[data-add-image]")
    assert button.attrs["hx-get"] == url and "data-rove" in button.attrs


def test_an_upload_from_the_row_redraws_the_row_or_refuses_in_its_form(editor, sql, lamp):
    refused = editor.post(f"/editor/products/{lamp}/images",
                          {"image": (io.BytesIO(b"not an image"), "x.png"), "alt": "Kept",
                           "place": "row"})
    assert refused.status_code == 422
    form_row = parse(refused.get_data(as_text=True)).by_id(f"row-images-{lamp}")
    assert "not a JPEG, PNG, WebP or GIF image" in form_row.text
    assert form_row.select("#image-alt")[0].attrs["value"] == "Kept"
    nothing_written(sql, lamp)

    added = editor.post(f"/editor/products/{lamp}/images",
                        {"image": (io.BytesIO(image_bytes(300, 200)), "x.png"),
                         "alt": "A lamp", "place": "row"})
    assert added.status_code == 201
    assert (added.headers["HX-Retarget"], added.headers["HX-Reswap"]) == (
        f"#product-{lamp}", "outerHTML")
    row = parse(added.get_data(as_text=True)).by_id(f"product-{lamp}")
    assert "Added the image “A lamp”" in row.text
    assert sql.scalar("SELECT count(*) FROM product_images WHERE product_id = %s", lamp) == 1
