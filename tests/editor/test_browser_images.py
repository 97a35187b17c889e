"""In Chromium, with a real job worker: an editor adds an image to a product (file field on a
desktop, dropped on the upload zone on a phone), its variants are made, and it appears on the
shopper's card and product page; a fake image and an oversized one are refused in place with
nothing stored. axe-core clean; screenshots in ``$VITRINE_SCREENSHOTS``."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from tests.support.a11y import axe_violations
from tests.support.browser import sign_in
from tests.support.job_worker import JobWorker
from tests.support.live import start_server

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("VITRINE_SCREENSHOTS", "/tmp/vitrine-shots"))
MAX_BYTES = 300_000


@pytest.fixture
def server(database_url, tmp_path):
    live = start_server(database_url, tmp_path, env={"VITRINE_IMAGE_MAX_BYTES": str(MAX_BYTES)})
    yield live
    live.stop()


@pytest.fixture
def lamp(sql):
    lighting = sql.category("Lighting")
    sql.user("ed@example.com")
    sql.product("Oak Side Table", category_id=lighting, price="80.00")
    return sql.product("Brass Lamp", category_id=lighting, price="10.00")


def photo() -> bytes:
    image = Image.new("RGB", (1400, 800), (230, 200, 120))
    draw = ImageDraw.Draw(image)
    draw.ellipse((500, 150, 900, 650), fill=(150, 100, 30))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def open_images(page, server, product_id: int) -> None:
    page.goto(f"{server.url}/editor/products")
    page.click(f"#product-{product_id} a[data-key=images]")
    page.wait_for_url(f"**/editor/products/{product_id}/images")


def refuse_a_fake_image(page, tmp_path: Path, form: str, alt: str) -> None:
    """Send a text file named like a PNG through the upload ``form`` (the Images page's or a
    row's): it is refused in place with the reason, and the alt text typed stays to try again."""
    fake = tmp_path / "fake.png"
    fake.write_text("definitely not a picture\n" * 50)
    page.set_input_files("#image-file", str(fake))
    page.fill("#image-alt", alt)
    page.click(f"{form} button[type=submit]")
    error = page.locator(f"{form} #image-upload-error .alert-error")
    error.wait_for()
    assert "not a JPEG, PNG, WebP or GIF image" in error.inner_text()
    assert page.input_value("#image-alt") == alt  # kept to try again


@pytest.mark.parametrize("width", [1280, 390])
def test_an_added_image_appears_for_shoppers(server, page, lamp, sql, width, database_url,
                                             tmp_path):
    page.set_default_timeout(20_000)
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, server.url, "ed@example.com")
    open_images(page, server, lamp)
    assert axe_violations(page) == []
    file = tmp_path / "lamp.jpg"
    file.write_bytes(photo())
    if width > 600:
        page.set_input_files("#image-file", str(file))
    else:  # dropped on the upload zone
        transfer = page.evaluate_handle(
            "(bytes) => { const t = new DataTransfer();"
            " t.items.add(new File([new Uint8Array(bytes)], 'lamp.jpg', {type: 'image/jpeg'}));"
            " return t; }", list(file.read_bytes()))
        page.dispatch_event("[data-drop-zone]", "drop", {"dataTransfer": transfer})
        assert page.evaluate("document.activeElement.id") == "image-alt"
    page.fill("#image-alt", "A brass lamp with a round shade")
    page.click("#image-upload button[type=submit]")
    notice = page.locator("#images-panel [role=status]")
    notice.wait_for()
    assert "Added the image “A brass lamp with a round shade”" in notice.inner_text()
    assert page.evaluate("document.activeElement.getAttribute('role')") == "status"
    assert page.locator(".image-item").count() == 1
    assert page.locator("#images-panel").count() == 1  # swapped whole, not nested
    SHOTS.mkdir(parents=True, exist_ok=True)
    worker = JobWorker(database_url, tmp_path / "worker.log")
    try:
        deadline = time.monotonic() + 60
        while sql.scalar("SELECT state FROM product_images") == "pending":
            assert time.monotonic() < deadline, (tmp_path / "worker.log").read_text()[-2000:]
            time.sleep(0.2)
    finally:
        worker.stop()
    page.reload()
    assert "Shown to shoppers (320, 640, 1280 px wide)" in page.inner_text("#images-panel")
    assert axe_violations(page) == []
    page.screenshot(path=str(SHOTS / f"images-editor-{width}.png"), full_page=True)

    page.goto(f"{server.url}/products?q=lamp")
    card = page.locator(".product-card", has_text="Brass Lamp")
    img = card.locator("picture img")
    img.scroll_into_view_if_needed()
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0",
                           arg=img.element_handle())
    assert img.get_attribute("loading") == "lazy"
    assert page.evaluate("(img) => img.currentSrc", img.element_handle()).endswith(".webp")
    box = img.bounding_box()
    assert box and abs(box["width"] / box["height"] - 16 / 9) < 0.05  # the tile's frame
    assert axe_violations(page) == []
    page.screenshot(path=str(SHOTS / f"images-card-{width}.png"))

    card.locator("a.product-link").click()
    main = page.locator(".product-gallery picture img").first
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0",
                           arg=main.element_handle())
    assert main.get_attribute("alt") == "A brass lamp with a round shade"
    assert axe_violations(page) == []
    page.screenshot(path=str(SHOTS / f"images-product-{width}.png"))


def test_a_fake_or_oversized_image_is_refused_in_place(server, page, lamp, sql, tmp_path):
    page.set_default_timeout(20_000)
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, server.url, "ed@example.com")
    open_images(page, server, lamp)
    refuse_a_fake_image(page, tmp_path, "#image-upload", "Holiday")
    assert page.locator("#images-panel").count() == 1
    assert page.evaluate("document.activeElement.closest('#image-upload-error') !== null")
    assert axe_violations(page) == []
    page.screenshot(path=str(SHOTS / "images-refused-fake-1280.png"))

    big = tmp_path / "huge.png"
    noisy = Image.effect_noise((600, 600), 90).convert("RGB")
    noisy.save(big, "PNG")
    assert big.stat().st_size > MAX_BYTES
    page.set_input_files("#image-file", str(big))
    page.wait_for_selector("#image-upload-error >> text=larger than 0.3 MB")
    assert page.input_value("#image-file") == ""  # nothing left to send
    assert page.get_attribute("#image-file", "aria-invalid") == "true"
    page.screenshot(path=str(SHOTS / "images-refused-large-1280.png"))
    assert sql.scalar("SELECT count(*) FROM product_images") == 0
    assert sql.scalar("SELECT count(*) FROM image_blobs") == 0


def test_images_are_reordered_described_and_removed_from_the_keyboard(server, page, lamp, sql,
                                                                      tmp_path):
    page.set_default_timeout(20_000)
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, server.url, "ed@example.com")
    open_images(page, server, lamp)
    for alt, colour in (("Front", (200, 40, 40)), ("Side", (40, 40, 200))):
        file = tmp_path / f"{alt}.png"
        Image.new("RGB", (300, 200), colour).save(file, "PNG")
        page.set_input_files("#image-file", str(file))
        page.fill("#image-alt", alt)
        page.click("#image-upload button[type=submit]")
        page.wait_for_selector(f"#images-panel [role=status] >> text=“{alt}”")
    alts = lambda: [page.input_value(f"#{field.get_attribute('id')}")  # noqa: E731
                    for field in page.locator(".alt-form input[name=alt]").all()]
    assert alts() == ["Front", "Side"]
    page.locator(".image-item").first.get_by_role("button", name="Move down").press("Enter")
    page.wait_for_selector("#images-panel [role=status] >> text=Changed the order")
    assert alts() == ["Side", "Front"]
    page.fill(".image-item >> nth=1 >> input[name=alt]", "Front, lit")
    page.locator(".image-item").nth(1).get_by_role("button", name="Save alt text").click()
    page.wait_for_selector("#images-panel [role=status] >> text=Saved the alt text")
    page.locator(".image-item").first.get_by_role("button", name="Remove").click()
    page.wait_for_selector("#confirm-dialog[open]")
    assert "Remove the image “Side”" in page.inner_text("#confirm-dialog-text")
    page.click("#confirm-dialog-yes")
    page.wait_for_selector("#images-panel [role=status] >> text=Removed the image “Side”")
    assert alts() == ["Front, lit"]
    assert axe_violations(page) == []
    assert [row["alt"] for row in sql.all("SELECT alt FROM product_images")] == ["Front, lit"]
    history = sql.all("SELECT changes->'images'->'after' AS after FROM product_revisions"
                      " WHERE source = 'images' ORDER BY version")
    assert [row["after"] for row in history] == [
        ["Front"], ["Front", "Side"], ["Side", "Front"], ["Side", "Front, lit"], ["Front, lit"]]


@pytest.mark.parametrize("width", [1280, 390])
def test_an_image_dropped_or_chosen_on_a_row_reaches_the_shoppers_card(
        server, page, lamp, sql, width, database_url, tmp_path):
    page.set_default_timeout(20_000)
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, server.url, "ed@example.com")
    row = page.locator(f"#product-{lamp}")
    file = tmp_path / "lamp.jpg"
    file.write_bytes(photo())
    if width > 600:  # from the keyboard: the row's one Tab stop, then the arrow keys
        row.locator("a.edit").focus()
        for _ in range(12):
            if page.evaluate("document.activeElement.dataset.key") == "add-image":
                break
            page.keyboard.press("ArrowRight")
        assert page.evaluate("document.activeElement.dataset.key") == "add-image"
        page.keyboard.press("Enter")
        page.wait_for_selector("tr.row-images #image-file")
        assert page.evaluate("document.activeElement.id") == "image-file"
        # A fake image first: refused in place, in the row's form, with nothing stored.
        refuse_a_fake_image(page, tmp_path, "tr.row-images", "A brass lamp with a round shade")
        assert sql.scalar("SELECT count(*) FROM image_blobs") == 0
        assert axe_violations(page) == []
        page.screenshot(path=str(SHOTS / f"row-image-refused-{width}.png"), full_page=True)
        page.set_input_files("#image-file", str(file))
    else:  # a file dropped on the product's card
        transfer = page.evaluate_handle(
            "(bytes) => { const t = new DataTransfer();"
            " t.items.add(new File([new Uint8Array(bytes)], 'lamp.jpg', {type: 'image/jpeg'}));"
            " return t; }", list(file.read_bytes()))
        row.locator("td.name").dispatch_event("drop", {"dataTransfer": transfer})
        page.wait_for_selector("tr.row-images #image-file")
        page.wait_for_function("() => document.activeElement.id === 'image-alt'")
        assert page.evaluate("document.getElementById('image-file').files.length") == 1
        page.fill("#image-alt", "A brass lamp with a round shade")
    assert axe_violations(page) == []
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"row-image-form-{width}.png"), full_page=True)
    page.click("tr.row-images button[type=submit]")
    notice = row.locator(".row-notice")
    notice.wait_for()
    assert "Added the image “A brass lamp with a round shade”" in notice.inner_text()
    assert page.locator("tr.row-images").count() == 0
    assert page.evaluate("document.activeElement.classList.contains('row-notice')")
    assert row.locator("[data-add-image]").is_visible()
    assert axe_violations(page) == []
    page.screenshot(path=str(SHOTS / f"row-image-added-{width}.png"), full_page=True)
    # The row keeps one Tab stop with the arrow keys reaching its controls.
    row.locator("a.edit").focus()
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.closest('tr').id") == f"product-{lamp}"

    worker = JobWorker(database_url, tmp_path / "worker.log")
    try:
        deadline = time.monotonic() + 60
        while sql.scalar("SELECT state FROM product_images") == "pending":
            assert time.monotonic() < deadline, (tmp_path / "worker.log").read_text()[-2000:]
            time.sleep(0.2)
    finally:
        worker.stop()
    assert sql.scalar("SELECT state FROM product_images") == "ready"
    page.goto(f"{server.url}/products?q=lamp")
    img = page.locator(".product-card", has_text="Brass Lamp").locator("picture img")
    img.scroll_into_view_if_needed()
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0",
                           arg=img.element_handle())
    assert page.evaluate("(img) => img.currentSrc", img.element_handle()).endswith(".webp")
    page.screenshot(path=str(SHOTS / f"row-image-card-{width}.png"))
