"""Request bodies and uploaded readings files: how large, and how uploads are kept and watched.

Read from the environment like every setting (config/env.py); config/settings.py takes these names.
"""

from __future__ import annotations

from config.env import env_int

# Request bodies (the readings batch endpoint) and uploaded readings files are refused past these.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 20 * 1024 * 1024, minimum=1024)
READINGS_UPLOAD_MAX_BYTES = env_int("READINGS_UPLOAD_MAX_BYTES", 512 * 1024 * 1024, minimum=1024)
# Any other request body (forms, API calls other than the batches): at most this many bytes. All three
# are checked before the body is read, as it arrives (config/bodylimit.py).
REQUEST_BODY_MAX_BYTES = env_int("REQUEST_BODY_MAX_BYTES", 2_621_440, minimum=1024)
# An uploaded file, once decompressed (a 2 KB Parquet file can claim gigabytes): at most this many
# rows and bytes, checked from the file's metadata before anything is read, and again while reading.
READINGS_UPLOAD_MAX_ROWS = env_int("READINGS_UPLOAD_MAX_ROWS", 20_000_000, minimum=1)
READINGS_UPLOAD_MAX_DECOMPRESSED_BYTES = env_int(
    "READINGS_UPLOAD_MAX_DECOMPRESSED_BYTES", 4 * 1024**3, minimum=1024 * 1024
)
# A staged upload (previewed, then confirmed or abandoned) is removed after this many hours.
UPLOAD_STAGED_HOURS = env_int("UPLOAD_STAGED_HOURS", 24, minimum=1, maximum=24 * 30)
# Lost import messages (beat task "Lost upload imports", meters.uploads.uploads_recover): an upload still
# queued this many minutes after it was queued is queued again; one importing whose import reported no
# progress for UPLOAD_STALL_MINUTES, and that no running import holds, is marked failed (Retry re-queues).
UPLOAD_REQUEUE_MINUTES = env_int("UPLOAD_REQUEUE_MINUTES", 30, minimum=1, maximum=7 * 24 * 60)
UPLOAD_STALL_MINUTES = env_int("UPLOAD_STALL_MINUTES", 20, minimum=1, maximum=7 * 24 * 60)
# A confirmed upload's status page reloads itself this often while its import is queued or running.
UPLOAD_STATUS_REFRESH_SECONDS = env_int("UPLOAD_STATUS_REFRESH_SECONDS", 2, minimum=1, maximum=600)
