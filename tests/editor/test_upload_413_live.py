"""Both upload routes over a real Hypercorn: a body past the route's allowance is refused by the
adapter before the view (413) and, through the one 413 handler (``errors_in_place``'s
``too_large``), worded for that upload and sent to its own error slot; nothing is written."""

from __future__ import annotations

import httpx
import pytest

from tests.support.clients import PASSWORD, command_key
from tests.support.html import csrf_token, parse

pytestmark = pytest.mark.live
APP_LIMIT = 16 * 1024
IMAGE_MAX, IMPORT_MAX = 200_000, 30_000
OVER = 400 * 1024  # past both allowances (limit + 64 KB of form overhead)


@pytest.fixture
def server(database_url, tmp_path):
    from tests.support.live import start_server

    server = start_server(database_url, tmp_path, env={
        "VITRINE_MAX_CONTENT_LENGTH": str(APP_LIMIT), "VITRINE_IMAGE_MAX_BYTES": str(IMAGE_MAX),
        "VITRINE_IMPORT_MAX_BYTES": str(IMPORT_MAX)})
    yield server
    server.stop()


@pytest.fixture
def http(server, sql):
    sql.user("ed@example.com", role="editor")
    with httpx.Client(base_url=server.url, timeout=20) as client:
        page = client.get("/auth/login")
        answer = client.post("/auth/login", data={
            "email": "ed@example.com", "password": PASSWORD,
            "csrf_token": csrf_token(page.text)})
        assert answer.status_code == 302
        client.headers["X-CSRFToken"] = csrf_token(client.get("/editor/products").text)
        yield client


def post(http, url: str, files: dict, data: dict, *, htmx: bool = True) -> httpx.Response:
    headers = {"HX-Request": "true"} if htmx else {}
    return http.post(url, files=files, data={**data, "command_key": command_key()},
                     headers=headers)


def test_an_image_past_its_allowance_is_refused_in_its_error_slot(http, sql, category):
    lamp = sql.product("Brass Lamp", category_id=category)
    response = post(http, f"/editor/products/{lamp}/images",
                    {"image": ("big.png", b"\x89PNG" + b"x" * OVER, "image/png")},
                    {"alt": "A lamp"})
    assert response.status_code == 413
    # its body was left unread, so the server closes the connection - and says so, or the
    # client would send its next request on a connection that is going away
    assert response.headers["Connection"] == "close"
    assert response.headers["HX-Retarget"] == "#image-upload-error"
    assert parse(response.text).text == "This file is larger than 0.2 MB, so it was not added."
    assert sql.scalar("SELECT count(*) FROM image_blobs") == 0

    plain = post(http, f"/editor/products/{lamp}/images",
                 {"image": ("big.png", b"x" * OVER, "image/png")}, {"alt": "A lamp"},
                 htmx=False)
    assert plain.status_code == 413 and "so it was not added" in plain.text


def test_a_csv_past_its_allowance_is_refused_in_place_of_the_dry_run(http, sql):
    response = post(http, "/editor/products/import",
                    {"file": ("big.csv", b"slug,name\n" + b"a,b\n" * (OVER // 4), "text/csv")},
                    {})
    assert response.status_code == 413
    assert response.headers["HX-Retarget"] == "#import-result"
    assert "The file is larger than 29 KB. Split it into smaller files." in response.text
    assert sql.scalar("SELECT count(*) FROM import_files") == 0

    plain = post(http, "/editor/products/import",
                 {"file": ("big.csv", b"x" * OVER, "text/csv")}, {}, htmx=False)
    assert plain.status_code == 413 and "Split it into smaller files" in plain.text
