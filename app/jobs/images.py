"""An image's variants made by a job: the upload request stores the cleaned original and defers
this job in its own transaction; a worker makes the WebP and JPEG variants
(:mod:`app.media.variants`, in a thread: it is CPU work) and records them.

Safe to run twice (a worker killed mid-job is retried): the variants' blobs are content-
addressed (``ON CONFLICT DO NOTHING``) and recording them is one idempotent ``UPDATE``, all
in one transaction, so the image is ``ready`` with its variants exactly when they are stored.
An image removed before the job ran is skipped. An image Pillow cannot encode (it passed the
upload's checks, so a bug) is marked ``failed`` and keeps its letter tile for shoppers.
"""

from __future__ import annotations

import asyncio
import logging

from flask import Flask
from procrastinate import JobContext
from sqlalchemy.ext.asyncio import AsyncSession

from ..data.database import AsyncDatabase
from ..data.images import original_of, set_variants, store_blob
from ..media.variants import Variant, make_variants
from .queue import defer, tasks
from .running import FLASK_APP

KIND = "image_variants"
log = logging.getLogger("vitrine.jobs")


async def start_variants(session: AsyncSession, image_id: int) -> int:
    """Queue the variants of ``image_id`` in the session's transaction; the job id."""
    return await defer(session, KIND, {"image_id": image_id}, lock=f"image-{image_id}")


@tasks.task(name=KIND, pass_context=True)
async def image_variants(context: JobContext, image_id: int) -> None:
    app: Flask = context.additional_context[FLASK_APP]
    await make_image_variants(app.extensions["vitrine_db"], image_id)


async def make_image_variants(database: AsyncDatabase, image_id: int) -> str:
    """Make and record the variants of one image; its state after (``ready``, ``failed``,
    or ``gone`` when it was removed first)."""
    async with database.session() as session:
        original = await original_of(session, image_id)
    if original is None:
        return "gone"
    try:
        variants = await asyncio.to_thread(make_variants, original)
    except Exception:
        log.exception("could not make the variants of image %s", image_id)
        async with database.session() as session:
            await set_variants(session, image_id, None, "failed")
            await session.commit()
        return "failed"
    async with database.session() as session:
        await store_variants(session, variants)
        found = await set_variants(session, image_id, [v.describe() for v in variants], "ready")
        await session.commit()
    return "ready" if found else "gone"


async def store_variants(session: AsyncSession, variants: list[Variant]) -> None:
    for variant in variants:
        for encoded in (variant.webp, variant.jpeg):
            await store_blob(session, sha256=encoded.sha256, data=encoded.data,
                             content_type=encoded.content_type, width=variant.width,
                             height=variant.height)
