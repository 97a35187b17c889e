"""The set-up the editor-side figures share (``bench.export_rss``, ``bench.import_speed``): the
command line (``--database-url``, ``--products``, ``--no-seed``), that database migrated and
seeded with the app's own CLI, a throwaway editor account, and one Hypercorn worker on it."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg

from app.data.passwords import hash_password
from bench.servers import ROOT, start_server


@dataclass
class Prepared:
    args: argparse.Namespace
    env: dict[str, str]
    #: ``python -m flask --app app``, to add a command to.
    flask: list[str]


def prepare(description: str, email: str, password: str) -> Prepared:
    """Parse the command line, migrate and (unless ``--no-seed``) seed the database, and
    (re)create the editor ``email`` with ``password``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--no-seed", action="store_true", help="keep the catalog as it is")
    args = parser.parse_args()
    env = {**os.environ, "DATABASE_URL": args.database_url, "VITRINE_CONFIG": "development",
           "VITRINE_LOG_LEVEL": "WARNING"}
    flask = [sys.executable, "-m", "flask", "--app", "app"]
    subprocess.run([*flask, "db", "upgrade"], env=env, cwd=ROOT, check=True)
    if not args.no_seed:
        subprocess.run([*flask, "seed", "--products", str(args.products), "--replace"],
                       env=env, cwd=ROOT, check=True)
    with psycopg.connect(args.database_url, autocommit=True) as connection:
        connection.execute("DELETE FROM users WHERE email = %s", (email,))
        connection.execute(
            "INSERT INTO users (email, password_hash, role) VALUES (%s, %s, 'editor')",
            (email, hash_password(password)))
    return Prepared(args, env, flask)


def start_app_server(prepared: Prepared):  # noqa: ANN201 - bench.servers' own server type
    """One Hypercorn worker serving the app on the prepared database."""
    return start_server("app:create_app()", Path(tempfile.mkdtemp()), workers=1,
                        env=prepared.env)
