"""The readings upload page: managers and admins send a file and see its first rows; confirming it queues
the import (`meters.uploads`, the `imports` queue) and leads to the upload's status page, which
refreshes itself until the report is there."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from core.roles import Role, role_of
from meters.forms import UploadOptionsForm, unknown_serials
from meters.ingest import FileFormatError, preview_rows
from meters.ingest.parse import FileLimits
from meters.models import ReadingsUpload
from meters.uploads import (
    UploadReport,
    upload_dir,
    upload_queue,
    upload_retry,
    upload_rows_done,
    uploads_visible,
)

UPLOAD_ROLES = (Role.ADMIN, Role.MANAGER)


def _upload_dir() -> Path:
    return upload_dir()


def _staged(token: str) -> Path | None:
    try:
        name = uuid.UUID(token).hex
    except ValueError:
        return None
    matches = list(_upload_dir().glob(f"{name}.*"))
    if not matches:
        return None
    # Past the staging time a file is abandoned (uploads_clean_stale removes it): it is not imported.
    if time.time() - matches[0].stat().st_mtime > settings.UPLOAD_STAGED_HOURS * 3600:
        matches[0].unlink(missing_ok=True)
        return None
    return matches[0]


@login_required
def readings_upload(request: HttpRequest) -> HttpResponse:
    """Step 1: choose a file and how to read it, and see a preview. Step 2: confirm and follow the import."""
    if role_of(request.user) not in UPLOAD_ROLES:
        raise PermissionDenied("Only facility managers and administrators may upload readings.")
    form = UploadOptionsForm(
        request.POST if request.method == "POST" else None, may_create=role_of(request.user) is Role.ADMIN
    )
    context: dict[str, object] = {"form": form}
    upload = request.FILES.get("file") if request.method == "POST" else None
    if isinstance(upload, UploadedFile):
        suffix = Path(upload.name or "").suffix.lower()
        if suffix not in (".csv", ".parquet"):
            context["error"] = "Choose a .csv or .parquet file."
        elif (upload.size or 0) > settings.READINGS_UPLOAD_MAX_BYTES:
            limit = settings.READINGS_UPLOAD_MAX_BYTES // (1024 * 1024)
            context["error"] = f"The file is larger than {limit} MB; split it or use the import_readings command."
            return render(request, "meters/upload.html", context, status=413)
        elif not form.is_valid():
            context["error"] = form.problems()
        else:
            context.update(_staged_preview(upload, suffix, form))
    elif request.method == "POST" and "token" in request.POST:
        staged = _staged(request.POST["token"])
        if staged is None:
            context["error"] = "That upload has expired; choose the file again."
        elif not form.is_valid():
            context["error"] = form.problems()
        else:
            queued = upload_queue(
                user=request.user,
                staged=staged,
                filename=request.POST.get("filename") or staged.name,
                options=form.options(),
            )
            return redirect("readings-upload-status", upload_id=queued.pk)
    return render(request, "meters/upload.html", context, status=400 if "error" in context else 200)


def _staged_preview(upload: UploadedFile, suffix: str, form: UploadOptionsForm) -> dict[str, object]:
    """Stage the file and read its first rows as the import will read them (or say why it cannot be read)."""
    token = uuid.uuid4()
    path = _upload_dir() / f"{token.hex}{suffix}"
    with path.open("wb") as out:
        for piece in upload.chunks():
            out.write(piece)
    options = form.options()
    try:
        rows = preview_rows(path=path, mapping=options.mapping(), rows=10, limits=FileLimits.for_uploads())
    except FileFormatError as error:
        path.unlink(missing_ok=True)
        return {"error": str(error)}
    return {
        "preview": rows,
        "token": str(token),
        "filename": upload.name,
        "options": options,
        "unknown": unknown_serials(rows),
        "site_is_new": bool(options.site_code) and form.site is None,
    }


@login_required
@require_http_methods(["GET", "POST"])
def readings_upload_status(request: HttpRequest, upload_id: str) -> HttpResponse:
    """Where a confirmed upload's import stands (refreshing itself until it ends), then its report.

    Only its uploader and administrators may see it; POST queues a failed import again.
    """
    upload = uploads_visible(request.user).filter(pk=upload_id).select_related("user").first()
    if upload is None:
        raise Http404("No such upload.")
    if request.method == "POST":
        if not upload_retry(upload):
            context = _status_context(upload)
            context["error"] = "This import cannot be retried: it has not failed, or its file expired."
            return render(request, "meters/upload_status.html", context, status=400)
        return redirect("readings-upload-status", upload_id=upload.pk)
    return render(request, "meters/upload_status.html", _status_context(upload))


def _status_context(upload: ReadingsUpload) -> dict[str, object]:
    running = upload.status in (ReadingsUpload.Status.QUEUED, ReadingsUpload.Status.IMPORTING)
    done = upload_rows_done(upload)
    total = upload.rows_total
    return {
        "upload": upload,
        "running": running,
        "rows_done": min(done, total) if total else done,
        "rows_total": total,
        "percent": min(100, round(100 * done / total)) if total else None,
        "result": UploadReport.of(upload),
        "filename": upload.filename,
        "history_hours": settings.DETECTION_HISTORY_HOURS,
        "refresh_seconds": settings.UPLOAD_STATUS_REFRESH_SECONDS,
        "took": _took(upload),
    }


def _took(upload: ReadingsUpload) -> str:
    """How long the import ran, in words ("4.7 s", "3 min"); blank before it ends."""
    if upload.started_at is None or upload.finished_at is None:
        return ""
    seconds = (upload.finished_at - upload.started_at).total_seconds()
    return f"{seconds:.1f} s" if seconds < 60 else f"{seconds / 60:.0f} min"
