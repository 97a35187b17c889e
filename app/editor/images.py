"""A product's images in the editor: ``/editor/products/<id>/images`` (the product's page in the
editor, linked from its row and its history), upload, alt text, order, removal.

An upload is checked before anything is stored (:mod:`app.media.validation`, in a thread: it
decodes the image): a refused file is answered with the panel and its reason next to the file
field (422), and nothing is written. An accepted one is stored without its metadata, added at
the end of the product's images (a change of the product: new version, history entry) and its
variants job is queued in the same transaction (:mod:`app.jobs.images`): shoppers see it once
the job has made its sizes. The upload route accepts bodies up to ``IMAGE_MAX_BYTES`` plus a
form's overhead (:func:`~app.runtime.allowances.body_allowance`); a larger body is refused by the
server before it is read, and the refusal is shown in the same place
(:func:`~app.web.errors.errors_in_place`).

**From the row** (the products table): the row's "Add image" (or a file dropped on the row,
``static/js/row-images.js``) opens a small form in a row of its own under the product's row
(``GET .../images/row-form``) that posts to the same upload with ``place=row``: a refusal comes
back as that form (422, its reason in place, the alt text kept), success as the product's row
(retargeted to it) with the outcome in its notice. Same checks, key, CSRF and allowance.

Each write needs an editor, the CSRF token and a one-time command key (:func:`~app.web.commands.
once`), like every editor write. Each endpoint answers htmx with the panel and a browser without
JavaScript with the whole page (after a redirect, for a successful write).
"""

from __future__ import annotations

import asyncio
from typing import Any

from flask import abort, current_app, g, request, url_for
from flask.typing import ResponseReturnValue

from ..auth.access import editor_required
from ..data import images as store
from ..data import products as svc
from ..data.database import get_session
from ..data.lookups import get_or_404
from ..data.models import Product
from ..jobs.images import start_variants
from ..media.validation import ImageRejected, clean_upload, megabytes, too_large_message
from ..runtime.allowances import body_allowance
from ..web.commands import once
from ..web.errors import errors_in_place
from ..web.htmx import is_htmx
from .blueprint import bp
from .rendering import done, fragment, page_or_fragment
from .rows import render_row

PAGE = "editor/images.html"
PANEL = "partials/editor/images.html"
#: Room for the form's other fields and the multipart framing around the file.
FORM_OVERHEAD = 64 * 1024
UPLOAD_ERROR = "#image-upload-error"
ACCEPT = "image/jpeg,image/png,image/webp,image/gif"
NO_FILE = "Choose an image file to add."
ROW_FORM = "partials/editor/row_images.html"


def upload_allowance(config: Any) -> int:
    return int(config["IMAGE_MAX_BYTES"]) + FORM_OVERHEAD


async def _product(product_id: int) -> Product:
    return await get_or_404(await get_session(), Product, product_id, load=svc.WITH_CATEGORY,
                            fresh=True)


async def _panel(product: Product, *, status: int = 200, notice: dict[str, Any] | None = None,
                 upload_error: str | None = None, alt_value: str = "",
                 image_errors: dict[int, str] | None = None) -> ResponseReturnValue:
    images = await store.list_images(await get_session(), product.id)
    max_bytes = int(current_app.config["IMAGE_MAX_BYTES"])
    return page_or_fragment(
        PAGE, PANEL, status=status, product=product, images=images, images_notice=notice,
        upload_error=upload_error, alt_value=alt_value, image_errors=image_errors or {},
        max_bytes=max_bytes, max_megabytes=megabytes(max_bytes), accept=ACCEPT,
        too_large=too_large_message(max_bytes), alt_max=store.ALT_MAX,
        per_product=int(current_app.config["IMAGES_PER_PRODUCT"]),
        title=f"Images of {product.name}")


async def _row_form(product: Product, *, status: int = 200, upload_error: str | None = None,
                    alt_value: str = "") -> ResponseReturnValue:
    """The row's own small upload form (see the module docstring)."""
    max_bytes = int(current_app.config["IMAGE_MAX_BYTES"])
    count = len(await store.list_images(await get_session(), product.id))
    return fragment(ROW_FORM, status=status, product=product, count=count,
                    upload_error=upload_error, alt_value=alt_value, max_bytes=max_bytes,
                    max_megabytes=megabytes(max_bytes), accept=ACCEPT,
                    too_large=too_large_message(max_bytes), alt_max=store.ALT_MAX,
                    per_product=int(current_app.config["IMAGES_PER_PRODUCT"]))


def _from_row() -> bool:
    return is_htmx() and request.form.get("place") == "row"


def _written(product_id: int, text: str) -> ResponseReturnValue | None:
    """After a plain form post: back to the images page (post/redirect/get)."""
    if is_htmx():
        return None
    return done(text, url_for("editor.images", product_id=product_id))


@bp.get("/products/<id64:product_id>/images")
@editor_required
async def images(product_id: int) -> ResponseReturnValue:
    return await _panel(await _product(product_id))


@bp.get("/products/<id64:product_id>/images/row-form")
@editor_required
async def row_image_form(product_id: int) -> ResponseReturnValue:
    """The row's upload form for htmx; without it, the images page (the same form)."""
    product = await _product(product_id)
    if not is_htmx():
        return await _panel(product)
    return await _row_form(product)


async def _refused(product: Product, message: str, alt: str) -> ResponseReturnValue:
    if _from_row():
        return await _row_form(product, status=422, upload_error=message, alt_value=alt)
    return await _panel(product, status=422, upload_error=message, alt_value=alt)


@bp.post("/products/<id64:product_id>/images")
@body_allowance(upload_allowance)
@errors_in_place(lambda args: UPLOAD_ERROR,
                 too_large=lambda config: too_large_message(int(config["IMAGE_MAX_BYTES"])))
@editor_required
@once
async def upload_image(product_id: int) -> ResponseReturnValue:
    """Add one image with its alt text (201 with the panel; 422 and nothing written if the
    file or the alt text is refused)."""
    product = await _product(product_id)
    alt = request.form.get("alt", "")
    file = request.files.get("image")
    if file is None or not file.filename:
        return await _refused(product, NO_FILE, alt)
    try:
        clean_alt = store.clean_alt(alt)
    except store.ImageInputError as error:
        return await _refused(product, error.message, alt)
    config = current_app.config
    max_bytes = int(config["IMAGE_MAX_BYTES"])
    data = file.stream.read(max_bytes + 1)
    try:
        clean = await asyncio.to_thread(clean_upload, data, max_bytes=max_bytes,
                                        max_pixels=int(config["IMAGE_MAX_PIXELS"]))
    except ImageRejected as error:
        return await _refused(product, error.message, alt)
    finally:
        del data
    session = await get_session()
    try:
        await store.store_blob(session, sha256=clean.sha256, data=clean.data,
                               content_type=clean.content_type, width=clean.width,
                               height=clean.height)
        image = await store.add_image(session, product_id, original=clean.sha256,
                                      width=clean.width, height=clean.height, alt=clean_alt,
                                      user_id=g.user.id,
                                      limit=int(config["IMAGES_PER_PRODUCT"]))
    except store.ImageInputError as error:  # the wrapper rolls back (422)
        return await _refused(product, error.message, alt)
    await start_variants(session, image.id)
    text = (f"Added the image “{clean_alt}”. Shoppers will see it as soon as its sizes are "
            "ready (a few seconds).")
    if _from_row():  # the product's row, with the outcome where the editor is
        response = await render_row(await _product(product_id), status=201,
                                    row_notice={"text": text}, focus="notice")
        response.headers["HX-Retarget"] = f"#product-{product_id}"
        response.headers["HX-Reswap"] = "outerHTML"
        return response
    return _written(product_id, text) or await _panel(
        await _product(product_id), status=201, notice={"text": text})


@bp.post("/products/<id64:product_id>/images/<id64:image_id>/delete")
@editor_required
@once
async def remove_image(product_id: int, image_id: int) -> ResponseReturnValue:
    session = await get_session()
    try:
        removed = await store.remove_image(session, product_id, image_id, user_id=g.user.id)
    except store.ImageInputError as error:
        return await _panel(await _product(product_id), status=409,
                            notice={"text": error.message, "kind": "error"})
    text = f"Removed the image “{removed.alt}”."
    return _written(product_id, text) or await _panel(await _product(product_id),
                                                      notice={"text": text})


@bp.post("/products/<id64:product_id>/images/order")
@editor_required
@once
async def reorder_images(product_id: int) -> ResponseReturnValue:
    """Put the images in the order of the ``order`` fields (every image's id, once)."""
    raw = request.form.getlist("order")
    if not raw or len(raw) > 100 or not all(value.isdigit() and len(value) < 19
                                            for value in raw):
        abort(400, "This form is missing the images' order. Reload the page and try again.")
    session = await get_session()
    try:
        changed = await store.reorder_images(session, product_id, [int(v) for v in raw],
                                             user_id=g.user.id)
    except store.ImageInputError as error:
        return await _panel(await _product(product_id), status=409,
                            notice={"text": error.message, "kind": "error"})
    text = "Changed the order of the images." if changed else "The images were in that order."
    return _written(product_id, text) or await _panel(await _product(product_id),
                                                      notice={"text": text})


@bp.post("/products/<id64:product_id>/images/<id64:image_id>/alt")
@editor_required
@once
async def image_alt(product_id: int, image_id: int) -> ResponseReturnValue:
    session = await get_session()
    try:
        changed = await store.set_alt(session, product_id, image_id,
                                      request.form.get("alt", ""), user_id=g.user.id)
    except store.ImagesChanged as error:
        return await _panel(await _product(product_id), status=409,
                            notice={"text": error.message, "kind": "error"})
    except store.ImageInputError as error:
        return await _panel(await _product(product_id), status=422,
                            image_errors={image_id: error.message})
    text = "Saved the alt text." if changed else "The alt text was already that."
    return _written(product_id, text) or await _panel(await _product(product_id),
                                                      notice={"text": text})
