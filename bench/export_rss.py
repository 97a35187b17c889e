"""Worker memory while the editor exports a large filter as CSV (a figure, not a timing).

    .venv/bin/python -m bench.export_rss --database-url postgresql://... --products 100000

Seeds the catalog (``flask seed --replace``: the database is replaced), creates an editor,
starts one Hypercorn worker, signs in, downloads ``/editor/products/export.csv`` reading it
as it arrives, and prints the worker's RSS before, at its peak during and after the export,
with the bytes and rows received. Stops the server it started by its pid.
"""

from __future__ import annotations

import csv
import io

import httpx
import psutil
import psycopg

from bench.editor_catalog import prepare, start_app_server

EMAIL = "export-bench@example.com"
PASSWORD = "export bench password"  # noqa: S105 - a throwaway account on a bench database


def worker_rss(server_pid: int) -> int:
    """RSS in MB of the server's one worker (its largest child: the others are
    multiprocessing's helpers)."""
    return max(child.memory_info().rss for child in psutil.Process(server_pid).children()
               ) // (1024 * 1024)


def main() -> None:
    prepared = prepare(__doc__.split("\n")[0], EMAIL, PASSWORD)
    args = prepared.args
    server = start_app_server(prepared)
    try:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            page = client.get("/auth/login").text
            token = page.split('name="csrf_token"', 1)[1].split('value="', 1)[1].split('"', 1)[0]
            signed = client.post("/auth/login", data={"email": EMAIL, "password": PASSWORD,
                                                       "csrf_token": token})
            assert signed.status_code == 302, signed.text[:500]
            client.get("/editor/products")  # warm: the worker's pool, templates, tree
            before = peak = worker_rss(server.pid)
            received = 0
            tail = bytearray()
            with client.stream("GET", "/editor/products/export.csv",
                               headers={"Accept-Encoding": "identity"}) as response:
                assert response.status_code == 200
                for chunk in response.iter_raw(256 * 1024):
                    received += len(chunk)
                    tail += chunk
                    peak = max(peak, worker_rss(server.pid))
            after = worker_rss(server.pid)
            rows = sum(1 for _ in csv.reader(io.StringIO(tail.decode("utf-8"), newline=""))) - 1
        print(f"exported {rows:,} rows, {received / 1e6:.1f} MB; worker RSS before {before} MB, "
              f"peak during {peak} MB, after {after} MB")
    finally:
        server.stop()
        with psycopg.connect(args.database_url, autocommit=True) as connection:
            connection.execute("DELETE FROM users WHERE email = %s", (EMAIL,))


if __name__ == "__main__":
    main()
