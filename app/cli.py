"""``flask --app app seed`` and ``flask --app app users create``."""

from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import with_appcontext

from .data.database import get_database
from .data.seed import product_count, seed_catalog
from .data.users import UserError, create_user


@click.command("seed")
@click.option("--products", default=2000, show_default=True, type=click.IntRange(0, 5_000_000),
              help="How many products to generate.")
@click.option("--seed", "seed_value", default=42, show_default=True, type=int,
              help="Random seed: the same seed gives the same catalog.")
@click.option("--replace", is_flag=True, help="Empty the catalog (and its history) first.")
@click.option("--if-empty", is_flag=True, help="Do nothing if the catalog has products.")
@with_appcontext
def seed_command(products: int, seed_value: int, replace: bool, if_empty: bool) -> None:
    """Load a deterministic demo catalog."""
    app = current_app._get_current_object()
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
    try:
        loaded = app.run_blocking(run())
    finally:
        app.close()
    if loaded is not None:
        click.echo(f"seeded {loaded} products in {time.perf_counter() - started:.1f}s")


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
    app = current_app._get_current_object()
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
