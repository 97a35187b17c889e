"""CSV import in the editor: upload a file, read its dry run, apply it as a background job.

* ``GET /editor/products/import`` - the page (file input and drop zone); ``POST`` the same URL
  with the file: the **dry run** (:func:`app.data.imports.files.dry_run`). Nothing in the
  catalog changes; the file and its result are kept (``import_files``) and the answer is the
  summary - to create, to update, unchanged, conflicts, rejected - with each rejected row's line
  and reason, and an Apply button. A file that cannot be imported at all (not UTF-8, wrong
  columns, too large, too many rows) gets its reason in place and nothing is kept.
* ``GET /editor/imports/<id>`` - that dry run again (its rejected rows a page at a time).
* ``POST /editor/imports/<id>/apply`` - queue the job (:mod:`app.jobs.imports`), once per file,
  only if the form names the digest the dry run showed and the stored bytes still have it.
  Progress and outcome are the job's box and page (:mod:`.jobs`), kept across reloads.

**Who may apply.** Editors are colleagues: any editor may *read* a dry run (to review a
colleague's file before it goes in, say), but a file may hold changes its uploader has not
decided to make, so only **its uploader or an admin may apply it** (checked on the server, 403
otherwise; the page shows the others who may, instead of the button). A file whose uploader's
account is gone can be applied by an admin only.

Every POST carries CSRF and a one-time command key (:func:`~app.web.commands.once`); every
route is for editors and admins. The upload alone may be up to ``IMPORT_MAX_BYTES`` (a route
allowance, :mod:`app.runtime.allowances`); any other body keeps the app-wide limit. A body past
the allowance is refused before the view runs, by the app's one 413 handler, worded for this
route and put in place of the dry run (:func:`~app.web.errors.errors_in_place`).
"""

from __future__ import annotations

import asyncio
from typing import Any

from flask import Response, abort, current_app, g, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ..auth.access import editor_required
from ..data.database import get_session
from ..data.imports.files import digest, dry_run, file_content, get_file, read_file, store_file
from ..data.imports.reading import DELIMITER_NAMES, FileRefused, check_header_only
from ..data.models import ImportFile, User
from ..jobs.imports import start_check_job, start_import_job
from ..jobs.status import get_job
from ..runtime.allowances import body_allowance
from ..web import parsing
from ..web.commands import once
from ..web.errors import error_response, errors_in_place
from ..web.htmx import is_htmx
from .blueprint import bp
from .jobs import job_context
from .rendering import done, fragment, page_or_fragment

PAGE = "editor/import.html"
CHECKING = "partials/editor/import_checking.html"
FRESH_KEY = "partials/editor/fresh_key.html"
FORM = "partials/editor/import_form.html"
SUMMARY = "partials/editor/import_summary.html"
RESULT_REGION = "#import-result"
PROBLEMS_PER_PAGE = 50
MAX_PAGE = 100_000
#: Room for the multipart envelope around the file.
ENVELOPE = 64 * 1024


def _upload_allowance(config: Any) -> int:
    return int(config["IMPORT_MAX_BYTES"]) + ENVELOPE


def _limits() -> dict[str, Any]:
    config = current_app.config
    return {"max_bytes": int(config["IMPORT_MAX_BYTES"]),
            "max_size": size_text(int(config["IMPORT_MAX_BYTES"])),
            "max_rows": int(config["IMPORT_MAX_ROWS"])}


def _refused(message: str, status: int = 422) -> Response:
    """The file's refusal, in place of the dry run (htmx) or on the import page."""
    context: dict[str, Any] = {"error": message, **_limits()}
    if is_htmx():
        return fragment("partials/editor/import_error.html", status=status, **context)
    return page_or_fragment(PAGE, FORM, status=status, **context)


@bp.get("/products/import")
@editor_required
async def import_page() -> ResponseReturnValue:
    return page_or_fragment(PAGE, FORM, **_limits())


@bp.post("/products/import")
@body_allowance(_upload_allowance)
@errors_in_place(lambda args: RESULT_REGION, too_large=lambda config: _too_large_message(config))
@editor_required
@once
async def import_upload() -> ResponseReturnValue:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _refused("Choose a CSV file to import.")
    limits = _limits()
    data = upload.stream.read(limits["max_bytes"] + 1)
    if len(data) > limits["max_bytes"]:
        return _refused(_too_large_message(), 413)
    session = await get_session()
    try:
        lines = await asyncio.to_thread(check_header_only, data)
        if lines > int(current_app.config["IMPORT_INLINE_ROWS"]):
            # Encoding and header checked here; the rows (and their count) by the job.
            stored = await store_file(session, data, filename=upload.filename,
                                      user_id=g.user.id)
            await start_check_job(session, stored, rows=lines, user_id=g.user.id)
        else:
            csv_file = await read_file(data, max_rows=limits["max_rows"])
            stored = await dry_run(session, data, filename=upload.filename, user_id=g.user.id,
                                   max_rows=limits["max_rows"], read=csv_file)
    except FileRefused as refused:
        return _refused(refused.message)
    if not is_htmx():
        return done("The file is kept for its dry run: nothing was changed yet.",
                    url_for("editor.import_file", file_id=stored.id))
    response = await _file_fragment(stored, 1, focus=True)
    # The address bar follows the file: a reload shows its dry run, then its job's progress.
    response.headers["HX-Push-Url"] = url_for("editor.import_file", file_id=stored.id)
    # The form stays on the page: its next file is a new command, with a new key.
    response.set_data(response.get_data(as_text=True)
                      + render_template(FRESH_KEY, target="import-key"))
    return response


async def _file_fragment(stored: ImportFile, page: int, *, focus: bool) -> Response:
    """The dry run's summary, or while a worker checks the file, its progress (polled)."""
    if stored.dry_run is None:
        return fragment(CHECKING, **await _checking_context(stored))
    return fragment(SUMMARY, **_summary_context(stored, page, focus=focus))


async def _checking_context(stored: ImportFile) -> dict[str, Any]:
    job = (None if stored.check_job_id is None
           else await get_job(await get_session(), stored.check_job_id))
    context: dict[str, Any] = {"file": stored, "job": job, "running": True, **_limits()}
    if job is None or job.state in ("failed", "cancelled"):
        error = (job.outcome or {}).get("error") if job is not None else None
        reason = (error or "its check was stopped").rstrip(".")
        context.update(running=False, error=f"The file could not be checked: {reason}.")
    return context


def _too_large_message(config: Any = None) -> str:
    config = current_app.config if config is None else config
    return (f"The file is larger than {size_text(int(config['IMPORT_MAX_BYTES']))}."
            " Split it into smaller files.")


def size_text(size: int) -> str:
    """``20 MB``, ``512 KB`` or ``900 bytes``."""
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:,.0f} MB"
    return f"{size / 1024:,.0f} KB" if size >= 1024 else f"{size:,} bytes"


def may_apply(stored: ImportFile) -> bool:
    """The uploader or an admin (see the module docstring)."""
    return bool(g.user.is_admin or (stored.user_id is not None and stored.user_id == g.user.id))


async def _uploader(stored: ImportFile) -> str | None:
    if stored.user_id is None:
        return None
    user = await (await get_session()).get(User, stored.user_id)
    return None if user is None else user.email


def _summary_context(stored: ImportFile, page: int, *, focus: bool = False) -> dict[str, Any]:
    result = stored.dry_run
    assert result is not None
    problems = result.get("problems", [])
    pages = max(1, -(-len(problems) // PROBLEMS_PER_PAGE))
    page = min(max(page, 1), pages)
    start = (page - 1) * PROBLEMS_PER_PAGE
    return {"file": stored, "result": result, "counts": result["counts"],
            "problems": problems[start:start + PROBLEMS_PER_PAGE], "page": page,
            "pages": pages, "first_line": start, "focus": focus,
            "delimiters": DELIMITER_NAMES, "may_apply": may_apply(stored), **_limits()}


async def _file_or_404(file_id: int) -> ImportFile:
    stored = await get_file(await get_session(), file_id)
    if stored is None:
        abort(404)
    return stored


@bp.get("/imports/<id64:file_id>")
@editor_required
async def import_file(file_id: int) -> ResponseReturnValue:
    """A dry run's summary; ``?page=N`` pages through its rejected rows."""
    stored = await _file_or_404(file_id)
    page = parsing.page(request.args.get("page"), maximum=MAX_PAGE)
    if stored.dry_run is None:
        return page_or_fragment(PAGE, CHECKING, **await _checking_context(stored))
    if is_htmx() and request.args.get("poll"):  # the check just ended: the summary, focused
        return fragment(SUMMARY, **_summary_context(stored, page, focus=True))
    context = _summary_context(stored, page)
    if not context["may_apply"]:
        context["uploader"] = await _uploader(stored)
    if stored.job_id is not None:
        job = await get_job(await get_session(), stored.job_id)
        if job is not None:
            context["job_box"] = job_context(job)
    return page_or_fragment(PAGE, SUMMARY, **context)


@bp.post("/imports/<id64:file_id>/apply")
@editor_required
@once
async def import_apply(file_id: int) -> ResponseReturnValue:
    session = await get_session()
    stored = await _file_or_404(file_id)
    if not may_apply(stored):
        return error_response(403, "Only the editor who uploaded this file, or an admin, can "
                                   "apply it.")
    if stored.dry_run is None:
        return error_response(409, "This file is still being checked; apply it after its "
                                   "dry run.")
    if stored.job_id is not None:
        return error_response(409, "This file was already applied; see its job for the "
                                   "outcome.")
    content = await file_content(session, file_id)
    if (request.form.get("sha256") != stored.sha256 or content is None
            or digest(content[0]) != stored.sha256):
        return error_response(409, "The file changed since its dry run, so nothing was "
                                   "applied. Upload it again for a new dry run.")
    job_id = await start_import_job(session, stored, user_id=g.user.id)
    if job_id is None:
        return error_response(409, "This file was already applied; see its job for the "
                                   "outcome.")
    if not is_htmx():
        return done(f"The import of {stored.filename} runs in the background.",
                    url_for("editor.job", job_id=job_id))
    job = await get_job(session, job_id)
    assert job is not None
    return fragment("partials/editor/job.html", **job_context(job), focus_job=True)
