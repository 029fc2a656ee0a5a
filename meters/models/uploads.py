"""A readings file uploaded on the upload page and confirmed: imported by a task on the imports queue."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class ReadingsUpload(models.Model):
    """One confirmed upload: its staged file, who sent it, where its import stands and what it did.

    The id is in the status page's address; only the uploader and administrators may open it
    (`meters.uploads.upload_visible`).
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        IMPORTING = "importing", "Importing"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    filename = models.CharField(max_length=200)
    # The staged file's name in DATA_DIR/uploads (kept until the import is done, for a retry).
    staged_name = models.CharField(max_length=64)
    timezone = models.CharField(max_length=64, blank=True)
    # The import's options, as `import_readings` takes them (--wide, --zero-is-missing, --create-meters --site
    # CODE --site-timezone TZ, --meter, the column flags): a blank site_code imports known meters only.
    wide = models.BooleanField(default=False)
    zero_is_missing = models.BooleanField(default=False)
    site_code = models.CharField(max_length=32, blank=True)
    site_timezone = models.CharField(max_length=64, blank=True)
    # --meter SERIAL (every row is this meter) and --timestamp-column/--kwh-column/--meter-column: the file's own
    # column names, {"timestamp": ..., "kwh": ..., "meter": ...}, where they are not the standard ones.
    meter_serial = models.CharField(max_length=64, blank=True)
    columns = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    rows_total = models.PositiveBigIntegerField(null=True, blank=True)
    # The summary (IngestResult.summary()), the first rejections and gaps left, once done.
    result = models.JSONField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    # When its import was last sent to the queue (confirmed, retried or re-queued by uploads_recover).
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "-created_at"], name="meters_upload_user_created")]

    def __str__(self) -> str:
        return f"upload {self.filename} ({self.get_status_display()})"

    @property
    def source(self) -> str:
        """The quarantine's source of its rejected rows (as before uploads were queued)."""
        return f"upload {self.filename}"[:200]
