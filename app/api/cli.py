"""``flask --app app tokens create|list|revoke``: API tokens from the command line.

``create`` prints the token once; only its SHA-256 digest is stored, so it cannot be shown again.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, TypeVar

import click
from flask import current_app
from flask.cli import with_appcontext

from ..data.bounds import MAX_INT
from ..data.database import get_database
from ..data.users import find_user_by_email
from ..runtime.flask_app import VitrineFlask
from .tokens import (
    DEFAULT_TOKEN_DAYS,
    MAX_TOKEN_DAYS,
    TokenError,
    issue_token,
    list_tokens,
    token_status,
)
from .tokens import revoke_token as revoke_token_row

T = TypeVar("T")


@click.group("tokens")
def tokens_cli() -> None:
    """Issue, list and revoke API tokens."""


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on the app's loop, then stop the loop (the command is over)."""
    app = current_app  # the proxy passes isinstance through to the app it stands for
    if not isinstance(app, VitrineFlask):
        raise click.ClickException("these commands need the Vitrine app (--app app)")
    try:
        return app.run_blocking(coro)
    finally:
        app.close()


@tokens_cli.command("create")
@click.argument("email")
@click.option("--name", required=True, help="What the token is for, e.g. 'price sync'.")
@click.option("--days", default=DEFAULT_TOKEN_DAYS, show_default=True,
              type=click.IntRange(1, MAX_TOKEN_DAYS), help="Days until it expires.")
@with_appcontext
def create_token_command(email: str, name: str, days: int) -> None:
    """Issue a token to the editor with EMAIL and print it (once)."""

    async def run() -> tuple[int, str, str]:
        async with get_database().session() as session:
            user = await find_user_by_email(session, email)
            if user is None:
                raise TokenError(f"no user with email {email}")
            token, raw = await issue_token(session, user, name, days)
            await session.commit()
            return token.id, raw, token.expires_at.isoformat()

    try:
        token_id, raw, expires = _run(run())
    except TokenError as error:
        raise click.ClickException(str(error)) from None
    click.echo(raw)
    click.echo(f"token {token_id} for {email}, expires {expires}; it is shown only this once",
               err=True)


@tokens_cli.command("list")
@click.argument("email")
@with_appcontext
def list_tokens_command(email: str) -> None:
    """List the tokens of the user with EMAIL (never the secrets)."""

    async def run() -> list[str]:
        async with get_database().session() as session:
            user = await find_user_by_email(session, email)
            if user is None:
                raise TokenError(f"no user with email {email}")
            return [f"{t.id}\t{token_status(t)}\t{t.expires_at.isoformat()}\t{t.name}"
                    for t in await list_tokens(session, user.id)]

    try:
        lines = _run(run())
    except TokenError as error:
        raise click.ClickException(str(error)) from None
    for line in lines:
        click.echo(line)


@tokens_cli.command("revoke")
@click.argument("token_id", type=click.IntRange(1, MAX_INT))
@with_appcontext
def revoke_token_command(token_id: int) -> None:
    """Revoke the token with TOKEN_ID."""

    async def run() -> bool:
        async with get_database().session() as session:
            revoked = await revoke_token_row(session, token_id, None)
            await session.commit()
            return revoked

    if not _run(run()):
        raise click.ClickException(f"no active token with id {token_id}")
    click.echo(f"revoked token {token_id}")
