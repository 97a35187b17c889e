"""Vitrine: a product catalog served by async Flask views and driven by htmx.

``create_app`` is the factory used by Hypercorn (``app:create_app()``), the ``flask`` CLI and the
tests. The package is laid out by area:

* :mod:`app.runtime` - serving Flask as ASGI with async views on one event loop per worker
* :mod:`app.data` - models, the async engine and sessions, the embedded server, seeding
* :mod:`app.catalog` - the shopper catalog (search, facets, pages)
* :mod:`app.editor` - the editors' inline table, bulk actions and history
* :mod:`app.auth` - sign-in, roles
* :mod:`app.api` - the JSON API under ``/api/v1``
* :mod:`app.web` - htmx-aware rendering, errors, security headers
* :mod:`app.ops` - health probes and logging
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from .config import check_production_secret, load_settings
from .data.database import init_database
from .data.embedded import embedded_database_url
from .data.urls import sync_url
from .extensions import csrf, db, migrate
from .live.service import init_live
from .runtime import VitrineFlask

ROOT = Path(__file__).resolve().parent.parent


def create_app(config_name: str | None = None, **overrides: Any) -> VitrineFlask:
    """Build the app for ``config_name`` (or ``VITRINE_CONFIG``); ``overrides`` win over both."""
    app = VitrineFlask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(ROOT / "instance"),
    )
    app.config.from_mapping(load_settings(config_name).flask_config())
    app.config.update(overrides)
    if app.config["ENV_NAME"] == "production":
        check_production_secret(app.config.get("SECRET_KEY"))

    if not app.config.get("DATABASE_URL"):
        app.config["DATABASE_URL"] = embedded_database_url(
            app.instance_path, app.config["EMBEDDED_DATABASE_NAME"]
        )
    app.config["SQLALCHEMY_DATABASE_URI"] = sync_url(app.config["DATABASE_URL"]).render_as_string(
        hide_password=False
    )

    from . import data  # noqa: F401 - models must be imported before metadata is used
    from .data import models  # noqa: F401

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    init_database(app)
    init_live(app)
    _follow_category_changes(app)

    _configure_logging(app)
    _register_web(app)
    _register_blueprints(app)
    _register_cli(app)
    return app


def _follow_category_changes(app: VitrineFlask) -> None:
    """At a served worker's start, let its kept category tree follow the change feed instead
    of reading ``category_tree_version`` on every shopper request (see
    :func:`app.catalog.tree.load_category_tree`). Without a lifespan (the CLI, the test client)
    the tree keeps polling."""
    from .catalog.tree import follow_changes
    from .data.database import AsyncDatabase
    from .live.service import KEY, LiveService

    async def follow() -> None:
        database: AsyncDatabase = app.extensions["vitrine_db"]
        service: LiveService = app.extensions[KEY]
        hub, listener = service.hub(), service.listener()
        dispatched = hub.dispatched
        recheck = float(app.config["CATALOG_TREE_RECHECK"])

        def stamp() -> tuple[object, ...] | None:
            following = listener.following
            if following is None:
                return None
            # ... and at least every CATALOG_TREE_RECHECK seconds the version is read once anyway: a
            # change nobody announces (a synonym edited in psql) is seen within that time.
            return (following, dispatched.get("category", 0), dispatched.get("synonyms", 0),
                    int(time.monotonic() // recheck))

        follow_changes(database.engine.sync_engine, stamp)

    app.on_startup(follow)


def _configure_logging(app: VitrineFlask) -> None:
    from .ops.logging import configure_logging

    configure_logging(app.config["LOG_LEVEL"] or ("WARNING" if app.config["TESTING"] else "INFO"),
                      app.config["LIBRARY_LOG_LEVEL"])


def _register_web(app: VitrineFlask) -> None:
    from .web import limits, read_routing, reporting, response_cache, security, static_files
    from .web.errors import register_error_handlers
    from .web.htmx import add_vary_header

    register_error_handlers(app)
    reporting.init_app(app)
    app.after_request(add_vary_header)
    security.init_app(app)
    limits.init_app(app)
    read_routing.init_app(app)
    response_cache.init_app(app)
    static_files.init_app(app)


def _register_blueprints(app: VitrineFlask) -> None:
    from .api import bp as api_bp
    from .auth import bp as auth_bp
    from .catalog import bp as catalog_bp
    from .catalog.image_files import bp as images_bp
    from .catalog.live import bp as live_bp
    from .editor import bp as editor_bp
    from .ops.exposition import bp as metrics_bp
    from .ops.routes import bp as ops_bp

    app.register_blueprint(ops_bp)
    app.register_blueprint(metrics_bp)
    app.register_blueprint(catalog_bp)
    app.register_blueprint(images_bp)
    app.register_blueprint(live_bp)
    app.register_blueprint(auth_bp, url_prefix="/auth")
    app.register_blueprint(editor_bp, url_prefix="/editor")
    app.register_blueprint(api_bp, url_prefix="/api/v1")


def _register_cli(app: VitrineFlask) -> None:
    from .api.cli import tokens_cli
    from .cli import seed_command, serve_command, users_cli, worker_command

    app.cli.add_command(seed_command)
    app.cli.add_command(serve_command)
    app.cli.add_command(worker_command)
    app.cli.add_command(users_cli)
    app.cli.add_command(tokens_cli)
