"""``/healthz`` says the process answers; ``/readyz`` says the database answers too."""

from __future__ import annotations

import asyncio

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from ..data.database import get_database

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
async def healthz() -> ResponseReturnValue:
    return jsonify(status="ok")


@bp.get("/readyz")
async def readyz() -> ResponseReturnValue:
    try:
        async with asyncio.timeout(2):
            await get_database().ping()
    except Exception as error:  # any failure means "not ready"; the reason goes in the body
        return jsonify(status="unavailable", database=type(error).__name__), 503
    return jsonify(status="ok", database="ok")
