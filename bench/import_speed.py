"""How long a 100,000-row CSV import takes end to end (a figure, not a test).

    .venv/bin/python -m bench.import_speed --database-url postgresql://... [--no-seed]

Seeds the catalog (``flask seed --replace``, unless ``--no-seed``), creates an editor, starts
one Hypercorn worker and one job worker (``flask worker``), signs in, downloads the export of
every product, changes every row's price (so every row is an update) and, for the second
measure, nothing; uploads it (the dry run, timed: upload + read, then the job worker's check
and plan, polled as the page polls it),
applies it and polls the job until it ends (timed: queue to the job's last batch). Prints both
times, rows per second and the job's outcome. Stops what it started by pid.
"""

from __future__ import annotations

import csv
import html
import io
import re
import signal
import subprocess
import time

import httpx
import psycopg

from bench.editor_catalog import prepare, start_app_server
from bench.servers import ROOT

EMAIL = "import-bench@example.com"
PASSWORD = "import bench password"  # noqa: S105 - a throwaway account on a bench database


def _csrf(html: str) -> str:
    return html.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]


def _bump_prices(data: bytes) -> bytes:
    reader = csv.DictReader(io.StringIO(data.decode("utf-8"), newline=""))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(reader.fieldnames or ()))
    writer.writeheader()
    for row in reader:
        row["price"] = f"{float(row['price']) + 1:.2f}"
        writer.writerow(row)
    return out.getvalue().encode("utf-8")


def _import(client: httpx.Client, data: bytes, label: str) -> None:
    page = client.get("/editor/products/import").text
    token = _csrf(page)
    key = re.search(r'name="command_key" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    started = time.monotonic()
    dry = client.post("/editor/products/import", headers={"HX-Request": "true",
                                                          "X-CSRFToken": token},
                      data={"command_key": key}, files={"file": ("bench.csv", data, "text/csv")})
    assert dry.status_code == 200, dry.text[:1000]
    upload_seconds = time.monotonic() - started
    while 'id="import-checking"' in dry.text:  # a large file is checked by the job worker
        time.sleep(0.2)
        poll = re.search(r'hx-get="([^"]+poll=1)"', dry.text)
        assert poll is not None, dry.text[:1000]
        dry = client.get(poll.group(1).replace("&amp;", "&"), headers={"HX-Request": "true"})
    dry_seconds = time.monotonic() - started
    counts = re.findall(r"<dt>([^<]+)</dt><dd>([\d,]+)", dry.text)
    print(f"{label}: dry run of {len(data) / 1e6:.1f} MB in {dry_seconds:.1f} s (upload "
          f"answered in {upload_seconds:.1f} s): "
          + ", ".join(f"{name.lower()} {value}" for name, value in counts))
    form = re.search(r'action="([^"]+/apply)"', dry.text)
    if form is None:
        print(f"{label}: nothing to apply")
        return
    fields = dict(re.findall(r'name="(command_key|sha256)" value="([^"]+)"', dry.text))
    started = time.monotonic()
    applied = client.post(form.group(1), headers={"HX-Request": "true", "X-CSRFToken": token},
                          data=fields)
    assert applied.status_code == 200, applied.text[:1000]
    job_id = re.search(r'id="job-(\d+)"', applied.text).group(1)  # type: ignore[union-attr]
    while True:
        box = client.get(f"/editor/jobs/{job_id}", headers={"HX-Request": "true"}).text
        if "hx-trigger" not in box:
            break
        time.sleep(0.2)
    apply_seconds = time.monotonic() - started
    words = html.unescape(re.search(r'class="job-words">([^<]+)<', box).group(1))  # type: ignore[union-attr]
    print(f"{label}: applied in {apply_seconds:.1f} s ({dry_seconds + apply_seconds:.1f} s in "
          f"all, {int(counts[1][1].replace(',', '') or 0) / max(apply_seconds, 1e-9):,.0f} "
          f"updates/s): {words}")


def main() -> None:
    prepared = prepare(__doc__.split("\n")[0], EMAIL, PASSWORD)
    args, env, flask = prepared.args, prepared.env, prepared.flask
    server = start_app_server(prepared)
    worker = subprocess.Popen([*flask, "worker"], env=env, cwd=ROOT)
    try:
        with httpx.Client(base_url=server.url, timeout=120) as client:
            page = client.get("/auth/login").text
            token = page.split('name="csrf_token"', 1)[1].split('value="', 1)[1].split('"', 1)[0]
            signed = client.post("/auth/login", data={"email": EMAIL, "password": PASSWORD,
                                                       "csrf_token": token})
            assert signed.status_code == 302, signed.text[:500]
            exported = client.get("/editor/products/export.csv",
                                  headers={"Accept-Encoding": "identity"}).content
            _import(client, _bump_prices(exported), "every price changed")
            again = client.get("/editor/products/export.csv",
                               headers={"Accept-Encoding": "identity"}).content
            _import(client, again, "the same file again")
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(60)
        server.stop()
        with psycopg.connect(args.database_url, autocommit=True) as connection:
            connection.execute("DELETE FROM users WHERE email = %s", (EMAIL,))


if __name__ == "__main__":
    main()
