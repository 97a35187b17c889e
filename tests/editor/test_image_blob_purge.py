"""The periodic purge deletes image blobs no image references any more (a removed image's
original and variants), in bounded batches, and never a blob an upload may be about to
reference: fresh ones, ones stored again (touched), ones a running transaction holds."""

from __future__ import annotations

import io

import psycopg
import pytest

from app.data.images import _STORE
from app.data.urls import libpq_dsn
from app.jobs.images import make_image_variants
from app.jobs.purge import purge_unreferenced_blobs
from tests.support.images import image_bytes


@pytest.fixture
def lamp(sql, category) -> int:
    return sql.product("Brass Lamp", category_id=category, price="10.00", stock=5)


def add_ready_image(app, editor, sql, product_id: int, data: bytes) -> tuple[int, set[str]]:
    """Upload through the editor, make its variants; the image id and all its digests."""
    response = editor.post(f"/editor/products/{product_id}/images",
                           {"image": (io.BytesIO(data), "x.png"), "alt": "A lamp"})
    assert response.status_code == 201
    image_id = sql.scalar("SELECT max(id) FROM product_images")
    assert app.run_blocking(make_image_variants(app.extensions["vitrine_db"], image_id)) == "ready"
    row = sql.one("SELECT original, variants FROM product_images WHERE id = %s", image_id)
    digests = {row["original"]} | {v[k] for v in row["variants"] for k in ("webp", "jpeg")}
    return image_id, digests


def blobs(sql) -> set[str]:
    return {r["sha256"] for r in sql.all("SELECT sha256 FROM image_blobs")}


def purge_all(run_db, batch: int = 2) -> list[int]:
    """Run the purge in batches until a batch is not full, as the job does; each count."""
    counts: list[int] = []
    while True:
        counts.append(run_db(lambda s: purge_unreferenced_blobs(s, grace_hours=1, batch=batch),
                             commit=True))
        if counts[-1] < batch:
            return counts


def test_a_removed_images_blobs_are_purged_once_old_and_kept_ones_stay(
        app, editor, sql, lamp, run_db):
    kept_id, kept = add_ready_image(app, editor, sql, lamp, image_bytes(700, 400))
    blue = image_bytes(500, 300, colour=(20, 90, 200))
    removed_id, removed = add_ready_image(app, editor, sql, lamp, blue)
    assert not kept & removed and len(removed) >= 3
    sql.execute("DELETE FROM product_images WHERE id = %s", removed_id)

    # Within the grace period nothing goes, referenced or not.
    assert purge_all(run_db) == [0]
    assert blobs(sql) == kept | removed

    sql.execute("UPDATE image_blobs SET created_at = now() - interval '2 hours'")
    counts = purge_all(run_db, batch=2)
    assert sum(counts) == len(removed) and max(counts) <= 2  # bounded batches
    assert blobs(sql) == kept  # the remaining image's original and every variant stay
    assert sql.scalar("SELECT state FROM product_images WHERE id = %s", kept_id) == "ready"


def test_an_old_blob_stored_again_is_touched_and_survives(app, editor, sql, lamp, run_db):
    data = image_bytes(600, 300)
    image_id, digests = add_ready_image(app, editor, sql, lamp, data)
    sql.execute("DELETE FROM product_images WHERE id = %s", image_id)
    sql.execute("UPDATE image_blobs SET created_at = now() - interval '2 hours'")
    # The same file is uploaded again: its original is stored again, i.e. renewed.
    add_ready_image(app, editor, sql, lamp, data)
    assert purge_all(run_db) == [0]
    assert digests <= blobs(sql)


def test_a_blob_held_by_a_transaction_in_flight_is_not_deleted(
        app, editor, sql, lamp, run_db, database_url):
    image_id, digests = add_ready_image(app, editor, sql, lamp, image_bytes(640, 320))
    original = sql.scalar("SELECT original FROM product_images WHERE id = %s", image_id)
    sql.execute("DELETE FROM product_images WHERE id = %s", image_id)
    sql.execute("UPDATE image_blobs SET created_at = now() - interval '2 hours'")
    row = sql.one("SELECT content_type, width, height FROM image_blobs WHERE sha256 = %s",
                  original)
    # An upload of the same bytes has stored (touched) the blob but not committed yet.
    with psycopg.connect(libpq_dsn(database_url)) as upload:
        upload.execute(
            str(_STORE).replace(":sha256", "%(sha256)s").replace(":content_type",
                                                                 "%(content_type)s")
            .replace(":width", "%(width)s").replace(":height", "%(height)s")
            .replace(":data", "%(data)s"),
            {"sha256": original, "data": b"unused on conflict", **row})
        deleted = run_db(lambda s: purge_unreferenced_blobs(s, grace_hours=1, batch=100),
                         commit=True)
        assert deleted == len(digests) - 1  # every variant, not the blob in flight
        upload.commit()
    assert blobs(sql) == {original}
