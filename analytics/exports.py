"""CSV exports that a spreadsheet cannot be tricked into executing."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header

from customers.models import AuditEntry
from customers.services import audit_record

_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Neutralise text a spreadsheet would run as a formula (numbers stay numbers)."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_PREFIXES):
        return "'" + value
    return value


def attachment_header(filename: str) -> str:
    """Content-Disposition for a download named after admin-set names (a room number may hold quotes,
    semicolons, line breaks or any script): control characters and path separators become "_",
    the rest is quoted by Django (with filename* for non-ASCII)."""
    cleaned = "".join(ch if ch.isprintable() and ch not in "/\\" else "_" for ch in filename)[:150]
    return content_disposition_header(as_attachment=True, filename=cleaned or "export.csv") or "attachment"


def csv_response(*, filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]], actor: Any) -> HttpResponse:
    """A CSV download, each cell made safe, recorded in the audit trail (who exported what)."""
    audit_record(actor=actor, action=AuditEntry.Action.EXPORT, target=filename)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = attachment_header(filename)
    writer = csv.writer(response)
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
    return response


def local_iso(moment: dt.datetime | None) -> str:
    """A time in a CSV: ISO 8601 in the page's (the site's) local time, with its UTC offset."""
    return "" if moment is None else timezone.localtime(moment).isoformat()
