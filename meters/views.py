"""The readings upload page: managers and admins send a file, see its first rows, then the report."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.roles import Role, role_of
from customers.models import AuditEntry
from customers.services import audit_record
from meters.ingest import FileFormatError, preview_rows
from meters.ingest.parse import FileLimits
from meters.ingest.service import timezone_parse
from meters.services import readings_ingest_file

UPLOAD_ROLES = (Role.ADMIN, Role.MANAGER)


def _upload_dir() -> Path:
    path = Path(settings.DATA_DIR) / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


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
    """Step 1: choose a file and see a preview. Step 2: confirm and get the per-row report."""
    if role_of(request.user) not in UPLOAD_ROLES:
        raise PermissionDenied("Only facility managers and administrators may upload readings.")
    context: dict[str, object] = {}
    upload = request.FILES.get("file") if request.method == "POST" else None
    if isinstance(upload, UploadedFile):
        suffix = Path(upload.name or "").suffix.lower()
        if suffix not in (".csv", ".parquet"):
            context["error"] = "Choose a .csv or .parquet file."
        elif (upload.size or 0) > settings.READINGS_UPLOAD_MAX_BYTES:
            limit = settings.READINGS_UPLOAD_MAX_BYTES // (1024 * 1024)
            context["error"] = f"The file is larger than {limit} MB; split it or use the import_readings command."
            return render(request, "meters/upload.html", context, status=413)
        elif (zone_error := _timezone_error(request.POST.get("timezone", ""))) is not None:
            context["error"] = zone_error
        else:
            token = uuid.uuid4()
            path = _upload_dir() / f"{token.hex}{suffix}"
            with path.open("wb") as out:
                for piece in upload.chunks():
                    out.write(piece)
            try:
                rows = preview_rows(path=path, rows=10, limits=FileLimits.for_uploads())
            except FileFormatError as error:
                path.unlink(missing_ok=True)
                context["error"] = str(error)
            else:
                context.update(
                    preview=rows, token=str(token), filename=upload.name, timezone=request.POST.get("timezone", "")
                )
    elif request.method == "POST" and "token" in request.POST:
        staged = _staged(request.POST["token"])
        if staged is None:
            context["error"] = "That upload has expired; choose the file again."
        else:
            path = staged
            try:
                result = readings_ingest_file(
                    path=path,
                    source=f"upload {request.POST.get('filename', path.name)}"[:200],
                    user=request.user,
                    timezone_name=request.POST.get("timezone") or None,
                    limits=FileLimits.for_uploads(),
                )
            except FileFormatError as error:
                context["error"] = str(error)
            else:
                context.update(result=result, summary=result.summary(), filename=request.POST.get("filename"))
                audit_record(
                    actor=request.user,
                    action=AuditEntry.Action.IMPORT,
                    target=f"upload {request.POST.get('filename', path.name)}",
                    detail=result.summary(),
                )
            finally:
                path.unlink(missing_ok=True)
    return render(request, "meters/upload.html", context, status=400 if "error" in context else 200)


def _timezone_error(name: str) -> str | None:
    try:
        timezone_parse(name.strip() or None)
    except FileFormatError as error:
        return str(error)
    return None
