"""Streaming detection, coalesced: at most one detection task queued or running per meter set.

Every committed ingest batch asks for detection of its meters over its intervals. A gateway that posts
a batch a second would otherwise queue a task per batch, each reloading a day of context for the
same meters (measured on the large campus: 1.6 s of worker CPU for 250 meters and five hours, most
of it the context, and the PostgreSQL work of a niced worker is not niced). Here the requests of a
meter set are merged in Redis into one pending range; a task is queued only when none is queued or
running for that set, and when it ends it queues the next one if batches arrived meanwhile. An idle
campus (a batch every 15 minutes) sees no delay; a busy one gets one detection per meter set as often
as the worker can run it, each covering every batch since the last.

A killed worker's task is redelivered with the same id and finds the range it had claimed. Anything
lost to Redis being down is caught by the 15-minute detection sweep. Without Redis (embedded), each
request is its own task, as before.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from celery import signature
from django.conf import settings
from django_redis import get_redis_connection


def _client() -> Any:
    """The process's Redis client: the cache's connection pool (django-redis)."""
    return get_redis_connection("default")


PREFIX = "wattwatch:detect"
# Long enough for any detection task; a marker left by a lost task then stops blocking, and the sweep
# has covered the range long before.
TTL_SECONDS = 15 * 60
# Longest span one detection call covers; a longer pending range is detected slice by slice.
SLICE = dt.timedelta(hours=48)

# Merge [start, end) into the pending range; returns 1 when the caller must queue a task.
_REQUEST = """
local start = redis.call('HGET', KEYS[1], 'start')
if start then
  if tonumber(ARGV[1]) < tonumber(start) then redis.call('HSET', KEYS[1], 'start', ARGV[1]) end
  if tonumber(ARGV[2]) > tonumber(redis.call('HGET', KEYS[1], 'end')) then
    redis.call('HSET', KEYS[1], 'end', ARGV[2])
  end
else
  redis.call('HSET', KEYS[1], 'start', ARGV[1], 'end', ARGV[2], 'meters', ARGV[3])
end
redis.call('EXPIRE', KEYS[1], ARGV[4])
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[4]) then return 1 end
return 0
"""
# Take the pending range for this task (a redelivered task gets the range it took before).
_CLAIM = """
if redis.call('EXISTS', KEYS[2]) == 0 then
  if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
  redis.call('RENAME', KEYS[1], KEYS[2])
  redis.call('EXPIRE', KEYS[2], ARGV[1])
end
return redis.call('HGETALL', KEYS[2])
"""
# Done: returns 1 when batches arrived meanwhile (the caller queues the next task), else frees the set.
_FINISH = """
redis.call('DEL', KEYS[1])
if redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('EXPIRE', KEYS[3], ARGV[1])
  return 1
end
redis.call('DEL', KEYS[3])
return 0
"""


def _keys(digest: str) -> tuple[str, str]:
    return f"{PREFIX}:pending:{digest}", f"{PREFIX}:queued:{digest}"


# Queued by name: predictions.tasks imports this module.
DETECT_METERS = "predictions.tasks.detect_meters"
DETECT_PENDING = "predictions.tasks.detect_pending"


def meter_set_digest(meter_ids: list[int]) -> str:
    return hashlib.blake2b(",".join(str(i) for i in sorted(meter_ids)).encode(), digest_size=10).hexdigest()


def detection_request(*, meter_ids: list[int], start: dt.datetime, end: dt.datetime) -> bool:
    """Ask for detection of these meters over [start, end); returns whether a task was queued."""
    if settings.REDIS_URL is None:
        signature(
            DETECT_METERS, kwargs={"meter_ids": list(meter_ids), "start": start.isoformat(), "end": end.isoformat()}
        ).delay()
        return True
    digest = meter_set_digest(meter_ids)
    pending, queued = _keys(digest)
    meters = json.dumps(sorted(meter_ids))
    client = _client()
    first = client.eval(_REQUEST, 2, pending, queued, start.timestamp(), end.timestamp(), meters, TTL_SECONDS)
    if first:
        try:
            signature(DETECT_PENDING, kwargs={"digest": digest}).delay()
        except Exception:
            client.delete(queued)  # not queued after all: the next batch tries again
            raise
    return bool(first)


def pending_claim(*, digest: str, task_id: str) -> tuple[list[int], dt.datetime, dt.datetime] | None:
    """The range this task is to detect over, or None when there is nothing (already done)."""
    pending, _ = _keys(digest)
    claimed = f"{PREFIX}:claimed:{digest}:{task_id}"
    values = _client().eval(_CLAIM, 2, pending, claimed, TTL_SECONDS)
    if not values:
        return None
    fields = {values[i].decode(): values[i + 1].decode() for i in range(0, len(values), 2)}
    return (
        json.loads(fields["meters"]),
        dt.datetime.fromtimestamp(float(fields["start"]), tz=dt.UTC),
        dt.datetime.fromtimestamp(float(fields["end"]), tz=dt.UTC),
    )


def pending_finish(*, digest: str, task_id: str) -> bool:
    """Release this task's range; returns True when more arrived meanwhile and the next task was queued."""
    pending, queued = _keys(digest)
    more = _client().eval(_FINISH, 3, f"{PREFIX}:claimed:{digest}:{task_id}", pending, queued, TTL_SECONDS)
    if more:
        signature(DETECT_PENDING, kwargs={"digest": digest}).delay()
    return bool(more)


def detection_slices(start: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    """[start, end) cut into consecutive spans of at most SLICE."""
    out = []
    while start < end:
        out.append((start, min(start + SLICE, end)))
        start += SLICE
    return out


def detection_backlog() -> tuple[int, dt.datetime | None] | None:
    """Meter sets whose batches are not yet through streaming detection, and the oldest such interval.

    None without Redis (embedded: each batch is its own task, counted in the queue) or when Redis
    cannot be read. With coalescing the Celery queue stays short however far detection is behind;
    this is where the lag shows.
    """
    if settings.REDIS_URL is None:
        return None
    try:
        client = _client()
        starts = [float(client.hget(key, "start") or 0) for key in client.scan_iter(f"{PREFIX}:pending:*")]
    except Exception:  # Redis down: the health check reports it
        return None
    return len(starts), (dt.datetime.fromtimestamp(min(starts), tz=dt.UTC) if starts else None)
