"""Catalog views (foundation version: a plain newest-first listing)."""

from __future__ import annotations

from flask import redirect, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from ..data.database import get_session
from ..data.models import Product
from ..web.htmx import render_page_or_partial
from . import bp


@bp.get("/")
async def home() -> ResponseReturnValue:
    return redirect(url_for("catalog.index"))


@bp.get("/products")
async def index() -> ResponseReturnValue:
    session = await get_session()
    products = (
        await session.scalars(
            select(Product)
            .where(Product.is_active)
            .order_by(Product.created_at.desc(), Product.id.desc())
            .limit(24)
        )
    ).all()
    return render_page_or_partial(
        "catalog/index.html", "partials/catalog/results.html", products=products
    )
