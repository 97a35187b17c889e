"""Background jobs in the editor: a bulk change above ``BULK_JOB_ROWS`` rows runs as a job
(:mod:`app.jobs.bulk`), shown as a progress box that polls a small fragment every second while
the job runs (``role="status"``) and can be cancelled. The products page shows the editor's
running and recently ended jobs, so a reload keeps them; ``/editor/jobs/<id>`` is the job's own
page (where a plain form post lands, and the URL that survives anything).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

from flask import abort, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import MultiDict

from ..auth.access import editor_required
from ..data.database import get_session
from ..data.models import Job
from ..jobs.bulk import cancel_job
from ..jobs.imports import CHECK_KIND, failure_count, job_failures
from ..jobs.imports import KIND as IMPORT_KIND
from ..jobs.status import RUNNING, get_job
from ..web import parsing
from ..web.commands import once
from ..web.htmx import is_htmx
from .blueprint import bp
from .listing import EditorFilters
from .rendering import done, page_or_fragment
from .table import list_url

PAGE = "editor/job.html"
BOX = "partials/editor/job.html"
PROGRESS = "partials/editor/job_progress.html"
STATES = {"queued": "Waiting for a worker", "running": "Running", "succeeded": "Done",
          "failed": "Failed", "cancelled": "Cancelled"}


def job_title(job: Job) -> str:
    """The box's heading: what the job is."""
    if job.kind == CHECK_KIND:
        return f"Dry run of {job.params.get('filename', 'a CSV file')} ({job.total:,} rows)"
    if job.kind == IMPORT_KIND:
        return f"Import of {job.params.get('filename', 'a CSV file')} ({job.total:,} rows)"
    return f"Bulk change of {job.total:,} products"


def import_words(job: Job) -> str:
    """What an import's box says: its counts once it ended, else how far it got."""
    outcome = job.outcome or {}
    if job.state == "failed":
        return f"Failed: {outcome.get('error', 'the import could not be applied')}"
    if job.state in RUNNING:
        return f"{STATES[job.state]}: {job.done:,} of {job.total:,} rows processed."
    counts = (f"created {outcome.get('create', 0):,}, updated {outcome.get('update', 0):,}"
              f" ({outcome.get('merged', 0):,} merged with colleagues' changes), unchanged "
              f"{outcome.get('unchanged', 0):,}, conflicts {outcome.get('conflict', 0):,}, "
              f"rejected {outcome.get('rejected', 0):,}")
    if job.state == "cancelled":
        return f"Cancelled after {job.done:,} of {job.total:,} rows: {counts}."
    return f"Done: {counts}."


def job_words(job: Job) -> str:
    """What the progress box says."""
    if job.kind == CHECK_KIND:
        if job.state == "succeeded":
            return "Checked: the dry run is ready."
        if job.state == "failed":
            return f"Failed: {(job.outcome or {}).get('error', 'the file could not be checked')}"
        if job.state in RUNNING:
            return f"{STATES[job.state]}: {job.done:,} of {job.total:,} rows checked."
    if job.kind == IMPORT_KIND:
        return import_words(job)
    outcome = job.outcome or {}
    if job.state == "succeeded":
        return f"Done: changed {outcome.get('changed', 0):,} of {job.total:,} products."
    if job.state == "failed":
        return f"Failed: {outcome.get('error', 'the change could not be applied')}"
    if job.state == "cancelled":
        changed = outcome.get("changed")
        tail = "" if changed is None else f" after changing {changed:,} products"
        return f"Cancelled{tail}; {job.done:,} of {job.total:,} rows were processed."
    return f"{STATES[job.state]}: {job.done:,} of {job.total:,} products processed."


def job_context(job: Job) -> dict[str, Any]:
    return {"job": job, "words": job_words(job), "running": job.state in RUNNING,
            "title": job_title(job),
            "file_url": (url_for("editor.import_file", file_id=job.params["file_id"])
                         if job.kind in (CHECK_KIND, IMPORT_KIND) and "file_id" in job.params
                         else None),
            "percent": 100 if not job.total else job.done * 100 // job.total,
            "table_url": _table_url() if job.state not in RUNNING else None}


def _table_url() -> str | None:
    """When htmx asks from the products table (``HX-Current-URL``), that table's URL rebuilt
    from its parsed filters (never the header's text): the ended job offers to show the table
    as it is now. It does not redraw it unasked: a row being edited would be lost."""
    current = request.headers.get("HX-Current-URL") if is_htmx() else None
    if not current:
        return None
    parts = urlsplit(current)
    if parts.path != url_for("editor.products"):
        return None
    return list_url(EditorFilters.from_args(MultiDict(parse_qsl(parts.query))))


async def _job_or_404(job_id: int) -> Job:
    job = await get_job(await get_session(), job_id)
    if job is None:
        abort(404)
    return job


@bp.get("/jobs/<id64:job_id>")
@editor_required
async def job(job_id: int) -> ResponseReturnValue:
    """The job's page; for htmx, its progress fragment (what the box polls). An import's page
    (and its fragment once it ended) lists the rows it could not apply, a page at a time."""
    found = await _job_or_404(job_id)
    context = job_context(found)
    if found.kind == IMPORT_KIND and found.state not in RUNNING:
        context["failures"] = await failures_page(found.id, request.args.get("page"))
    return page_or_fragment(PAGE, PROGRESS, **context)


FAILURES_PER_PAGE = 50


async def failures_page(job_id: int, raw_page: str | None) -> dict[str, Any]:
    """One page of the rows an import could not apply, and the links to the others."""
    session = await get_session()
    total = await failure_count(session, job_id)
    pages = max(1, -(-total // FAILURES_PER_PAGE))
    page = min(parsing.page(raw_page, maximum=pages), pages)
    rows = await job_failures(session, job_id, offset=(page - 1) * FAILURES_PER_PAGE,
                              limit=FAILURES_PER_PAGE)
    return {"rows": rows, "total": total, "page": page, "pages": pages,
            "url": lambda number: url_for("editor.job", job_id=job_id, page=number)}


@bp.post("/jobs/<id64:job_id>/cancel")
@editor_required
@once
async def cancel(job_id: int) -> ResponseReturnValue:
    session = await get_session()
    await _job_or_404(job_id)
    cancelled = await cancel_job(session, job_id)
    await session.flush()
    text = ("Cancelled: the job stops before its next batch." if cancelled
            else "The job had already ended.")
    if not is_htmx():
        return done(text, url_for("editor.job", job_id=job_id))
    return page_or_fragment(PAGE, PROGRESS, notice={"text": text},
                            **job_context(await _job_or_404(job_id)))
