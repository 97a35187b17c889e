"""CSV import test helpers: files made from rows, the dry run posted as the browser posts it,
what its answer shows, and the import job run on the app's loop (the same task body a worker
runs; tests/jobs/test_import_job.py runs it in a real worker)."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from app.data.csv_format import COLUMNS
from tests.support.clients import command_key
from tests.support.html import parse


def catalog(sql) -> dict[str, int]:
    home = sql.category("Home")
    lighting = sql.category("Lighting", parent_id=home)
    garden = sql.category("Garden")
    return {"home": home, "lighting": lighting, "garden": garden}


def row(**cells: Any) -> dict[str, str]:
    """A complete row (a lamp in home/lighting) with ``cells`` changed."""
    base = {"id": "", "slug": "brass-lamp", "name": "Brass Lamp", "description": "",
            "price": "24.50", "stock": "3", "category": "home/lighting", "active": "true",
            "brand": "", "colour": "", "material": "", "size": "", "version": ""}
    return {**base, **{k: str(v) for k, v in cells.items()}}


def csv_bytes(rows: list[dict[str, str]], *, delimiter: str = ",", bom: bool = False,
              columns: tuple[str, ...] = COLUMNS) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(columns)
    for item in rows:
        writer.writerow([item.get(name, "") for name in columns])
    return (("\ufeff" if bom else "") + buffer.getvalue()).encode("utf-8")


def upload(client, data: bytes, *, filename: str = "products.csv", htmx: bool = True,
           **kwargs: Any):
    return client.post("/editor/products/import", {
        "command_key": command_key(), "file": (io.BytesIO(data), filename)},
        htmx=htmx, content_type="multipart/form-data", **kwargs)


def summary(response) -> dict[str, Any]:
    """What the dry run's answer shows: counts and the rows not applied (line, slug, why)."""
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    page = parse(response.get_data(as_text=True))
    counts = {item.find("dt").text: int(item.find("dd").text.split()[0].replace(",", ""))
              for item in page.select(".import-counts div")}
    problems = [tuple(cell.text for cell in line.find_all("td"))
                for line in page.select(".import-problems tbody tr")]
    return {"counts": counts, "problems": problems, "page": page}


def apply_form(response) -> dict[str, str]:
    page = parse(response.get_data(as_text=True))
    form = page.find("form", hx_target="#import-apply")
    assert form is not None, "no Apply form"
    return {"url": form.get("action") or "",
            **{field.get("name") or "": field.get("value") or ""
               for field in form.find_all("input", type="hidden")}}


def run_import_job(app, job_id: int, *, check: bool = False) -> None:
    """Run the job's task body as a worker would (in this process, on the app's loop): the
    import, or with ``check`` the dry run of a large file."""
    from app.jobs.imports import csv_check, csv_import

    async def go() -> None:
        database = app.extensions["vitrine_db"]
        try:
            await (csv_check if check else csv_import)(app, database, job_id)
        finally:
            await database.dispose_current()

    app.run_blocking(go())


def job_id_of(response) -> int:
    found = re.search(r'id="job-(\d+)"', response.get_data(as_text=True))
    assert found, response.get_data(as_text=True)[:2000]
    return int(found.group(1))
