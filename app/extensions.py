"""Extension instances, created unbound and attached to the app in :func:`app.create_app`."""

from __future__ import annotations

from functools import cached_property
from typing import Any

import click
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from .data.base import Base

#: Flask-SQLAlchemy holds the model declarations and the *sync* engine that migrations use.
#: Requests never touch it: they use the async engine in :mod:`app.data.database`.
db = SQLAlchemy(model_class=Base)
csrf = CSRFProtect()


class _MigrationsConfig:
    """``app.extensions["migrate"]`` as Flask-Migrate reads it (``.migrate``, ``.db``,
    ``.configure_args``), building Flask-Migrate's own object on first use."""

    def __init__(self, database: SQLAlchemy, directory: str) -> None:
        self.db = database
        self.directory = directory

    @cached_property
    def _config(self) -> Any:
        from flask_migrate import Migrate, _MigrateConfig

        migrate = Migrate(db=self.db, directory=self.directory)
        return _MigrateConfig(migrate, self.db, **migrate.alembic_ctx_kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._config, name)


class _MigrationCommands(click.Group):
    """``flask db ...``: Flask-Migrate's command group, imported when it is invoked."""

    def __init__(self) -> None:
        super().__init__("db", help="Perform database migrations (Flask-Migrate).")

    @staticmethod
    def _group() -> click.Group:
        from flask_migrate.cli import db as commands

        return commands

    def make_context(self, info_name: str | None, args: list[str],
                     parent: click.Context | None = None, **extra: Any) -> click.Context:
        return self._group().make_context(info_name, args, parent, **extra)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return self._group().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._group().get_command(ctx, cmd_name)


class Migrations:
    """Flask-Migrate, imported only when migrations run (``flask db``, ``flask_migrate.upgrade``
    with the app): it imports Alembic, Mako and Pygments, ~10 MB of heap that every served
    worker would otherwise hold for nothing (the streams' memory target is per worker)."""

    def init_app(self, app: Flask, database: SQLAlchemy, directory: str) -> None:
        app.extensions["migrate"] = _MigrationsConfig(database, directory)
        app.cli.add_command(_MigrationCommands())


migrate = Migrations()
