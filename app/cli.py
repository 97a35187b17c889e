"""``flask --app app seed``, ``flask --app app users create``, ``flask --app app serve`` and
``flask --app app worker``."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.engine import make_url

from .data.database import get_database
from .data.embedded import stop_embedded_server
from .data.seed import product_count, seed_catalog
from .data.seed_images import seed_images
from .data.urls import libpq_dsn
from .data.users import UserError, create_user
from .ops.replica_cluster import LocalServer, replicate_locally
from .ops.supervisor import Stopped, Supervisor, hypercorn_command, job_worker_command
from .runtime import VitrineFlask


@click.command("seed")
@click.option("--products", default=2000, show_default=True, type=click.IntRange(0, 5_000_000),
              help="How many products to generate.")
@click.option("--seed", "seed_value", default=42, show_default=True, type=int,
              help="Random seed: the same seed gives the same catalog.")
@click.option("--replace", is_flag=True, help="Empty the catalog (and its history) first.")
@click.option("--if-empty", is_flag=True, help="Do nothing if the catalog has products.")
@click.option("--images", is_flag=True,
              help="Give each product a simple generated image (its variants made inline).")
@with_appcontext
def seed_command(products: int, seed_value: int, replace: bool, if_empty: bool,
                 images: bool) -> None:
    """Load a deterministic demo catalog."""
    app = _current_app()
    try:
        _seed(app, products, seed_value, replace=replace, if_empty=if_empty, images=images)
    finally:
        app.close()


def _seed(app: VitrineFlask, products: int, seed_value: int, *, replace: bool,
          if_empty: bool, images: bool = False) -> None:
    database = get_database()

    async def run() -> int | None:
        existing = await product_count(database.engine)
        if existing and if_empty:
            click.echo(f"catalog already has {existing} products; nothing to do")
            return None
        if existing and not replace:
            raise click.ClickException(
                f"catalog already has {existing} products; use --replace to start over"
            )
        return await seed_catalog(database.engine, products=products, seed=seed_value,
                                  replace=replace)

    started = time.perf_counter()
    loaded = app.run_blocking(run())
    if loaded is not None:
        click.echo(f"seeded {loaded} products in {time.perf_counter() - started:.1f}s")
        if images:
            started = time.perf_counter()
            drawn = app.run_blocking(_seed_images(database))
            click.echo(f"seeded {drawn} product images in {time.perf_counter() - started:.1f}s")


async def _seed_images(database: Any) -> int:
    return await seed_images(database.engine)  # the engine of the loop this runs on


@click.command("serve")
@click.option("--bind", default="127.0.0.1:8000", show_default=True,
              help="Address Hypercorn listens on.")
@click.option("--products", default=2000, show_default=True, type=click.IntRange(0, 5_000_000),
              help="How many products to seed if the catalog is empty.")
@click.option("--replica", is_flag=True,
              help="Also start a local streaming replica for shopper reads (make run REPLICA=1).")
@with_appcontext
def serve_command(bind: str, products: int, replica: bool) -> None:
    """Migrate, seed an empty catalog and serve with Hypercorn (``make run``), with one job
    worker beside it (``flask --app app worker``: bulk changes run as jobs).

    This process owns the embedded PostgreSQL it started: the workers get its URL and hold no
    handle, and it releases the server when serving ends, on Ctrl+C, SIGTERM and SIGHUP alike.
    With ``--replica`` it also clones the database into a hot standby (``instance/pgreplica``,
    :mod:`app.ops.replica_cluster`), gives the workers its URL as ``DATABASE_REPLICA_URL`` and
    stops it by pid when serving ends.
    """
    from flask_migrate import upgrade

    app = _current_app()
    root = Path(app.root_path).parent
    status = 0
    standby: LocalServer | None = None
    with Supervisor() as supervisor:
        try:
            upgrade()
            _seed(app, products, 42, replace=False, if_empty=True, images=True)
            app.close()
            env = {**os.environ, "DATABASE_URL": app.config["DATABASE_URL"]}
            if replica:
                standby, env["DATABASE_REPLICA_URL"] = _start_replica(app)
            status = supervisor.run(hypercorn_command(bind, root / "hypercorn.toml"), cwd=root,
                                    env=env, companions=[job_worker_command()])
        except Stopped as stopped:
            click.echo(f"stopped by {stopped} before serving", err=True)
        finally:
            app.close()
            if standby is not None:
                standby.stop()
            stop_embedded_server(app.instance_path)
    if status:
        raise click.exceptions.Exit(status)


def _start_replica(app: VitrineFlask) -> tuple[LocalServer, str]:
    """A local replica of the app's database, caught up with it, and its URL."""
    url = make_url(app.config["DATABASE_URL"])
    standby, replica_url = replicate_locally(
        libpq_dsn(url), Path(app.instance_path) / "pgreplica", str(url.database))
    click.echo(f"read replica: {standby.url(str(url.database))} (pid {standby.pid})")
    return standby, replica_url


@click.group("users")
def users_cli() -> None:
    """Manage editor and admin accounts."""


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(["editor", "admin"]), default="editor", show_default=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="Prompted for when not given.")
@with_appcontext
def create_user_command(email: str, role: str, password: str) -> None:
    """Create a user who can sign in to the editor."""
    app = _current_app()
    database = get_database()

    async def run() -> int:
        async with database.session() as session:
            user = await create_user(session, email, password, role)
            await session.commit()
            return user.id

    try:
        user_id = app.run_blocking(run())
    except UserError as error:
        raise click.ClickException(str(error)) from None
    finally:
        app.close()
    click.echo(f"created {role} {email} (id {user_id})")


def _current_app() -> VitrineFlask:
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # werkzeug LocalProxy
    assert isinstance(app, VitrineFlask)
    return app


@click.command("worker")
@click.option("--concurrency", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Jobs this process runs at once.")
@with_appcontext
def worker_command(concurrency: int) -> None:
    """Run background jobs (bulk changes) until SIGINT/SIGTERM; start as many as needed."""
    import asyncio

    from .jobs.worker import run_worker

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    asyncio.run(run_worker(app, concurrency=concurrency))
