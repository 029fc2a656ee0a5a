"""Coalesced streaming detection against a real Redis: one task per meter set at a time, nothing dropped."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

import pytest
from django.conf import settings

from predictions import tasks
from predictions.detection import streaming

pytestmark = pytest.mark.redis
T0 = dt.datetime(2025, 3, 3, tzinfo=dt.UTC)


@pytest.fixture
def queued(monkeypatch: Any) -> list[dict[str, Any]]:
    """detect_pending tasks that would have gone to the broker (Redis state itself is real)."""
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(tasks.detect_pending, "apply_async", lambda args=(), kwargs=None, **_: calls.append(kwargs))
    return calls


@pytest.fixture
def meters() -> Any:
    """Meter ids no other test uses, and their keys removed afterwards."""
    import redis

    base = 10**9 + secrets.randbelow(10**6) * 10
    ids = [base + 1, base + 2, base + 3]
    yield ids
    client = redis.Redis.from_url(str(settings.REDIS_URL))
    digest = streaming.meter_set_digest(ids)
    for key in client.scan_iter(f"{streaming.PREFIX}:*{digest}*"):
        client.delete(key)


def _hours(n: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=n)


def test_requests_while_one_is_queued_merge_into_its_range(queued: list[dict[str, Any]], meters: list[int]) -> None:
    assert streaming.detection_request(meter_ids=meters, start=_hours(5), end=_hours(6)) is True
    # Order of ids does not matter; later and earlier intervals widen the pending range.
    assert streaming.detection_request(meter_ids=meters[::-1], start=_hours(6), end=_hours(8)) is False
    assert streaming.detection_request(meter_ids=meters, start=_hours(1), end=_hours(2)) is False
    digest = streaming.meter_set_digest(meters)
    assert queued == [{"digest": digest}]
    claimed = streaming.pending_claim(digest=digest, task_id="t-1")
    assert claimed == (sorted(meters), _hours(1), _hours(8))


def test_a_redelivered_task_gets_the_range_it_claimed_and_a_finished_set_queues_afresh(
    queued: list[dict[str, Any]], meters: list[int]
) -> None:
    streaming.detection_request(meter_ids=meters, start=_hours(0), end=_hours(1))
    digest = streaming.meter_set_digest(meters)
    first = streaming.pending_claim(digest=digest, task_id="t-1")
    # The worker died after claiming: the same task id, delivered again, works on the same range.
    assert streaming.pending_claim(digest=digest, task_id="t-1") == first
    assert streaming.pending_claim(digest=digest, task_id="t-2") is None  # nothing else is pending
    assert streaming.pending_finish(digest=digest, task_id="t-1") is False
    assert streaming.pending_claim(digest=digest, task_id="t-1") is None  # released
    # The set is free again: the next batch queues a task at once.
    assert streaming.detection_request(meter_ids=meters, start=_hours(3), end=_hours(4)) is True
    assert len(queued) == 2


def test_batches_during_a_run_are_detected_by_the_next_task(queued: list[dict[str, Any]], meters: list[int]) -> None:
    digest = streaming.meter_set_digest(meters)
    streaming.detection_request(meter_ids=meters, start=_hours(0), end=_hours(1))
    assert streaming.pending_claim(digest=digest, task_id="t-1") == (sorted(meters), _hours(0), _hours(1))
    # A batch commits while t-1 runs: no second task now (one at a time per set) ...
    assert streaming.detection_request(meter_ids=meters, start=_hours(1), end=_hours(2)) is False
    assert len(queued) == 1
    # ... but when t-1 ends, the next one is queued, and it covers exactly what arrived meanwhile.
    assert streaming.pending_finish(digest=digest, task_id="t-1") is True
    assert len(queued) == 2
    assert streaming.pending_claim(digest=digest, task_id="t-2") == (sorted(meters), _hours(1), _hours(2))


def test_detect_pending_runs_detection_over_the_merged_range(
    queued: list[dict[str, Any]], meters: list[int], monkeypatch: Any
) -> None:
    ran: list[tuple[list[int], dt.datetime, dt.datetime]] = []

    class Summary:
        def summary(self) -> dict[str, Any]:
            return {"readings": 1}

    def detect(*, meter_ids: list[int], start: dt.datetime, end: dt.datetime) -> Summary:
        ran.append((meter_ids, start, end))
        return Summary()

    monkeypatch.setattr(tasks, "anomalies_detect", detect)
    streaming.detection_request(meter_ids=meters, start=_hours(2), end=_hours(3))
    streaming.detection_request(meter_ids=meters, start=_hours(0), end=_hours(1))
    digest = streaming.meter_set_digest(meters)
    result = tasks.detect_pending.apply(kwargs={"digest": digest}, task_id="t-run").get()
    assert ran == [(sorted(meters), _hours(0), _hours(3))]
    assert result == {"readings": 1, "more": False}
    # Delivered again after it finished (a duplicate message): nothing left to do, nothing run twice.
    again = tasks.detect_pending.apply(kwargs={"digest": digest}, task_id="t-run").get()
    assert again["skipped"] == "nothing pending"
    assert len(ran) == 1


def test_a_long_pending_range_is_detected_in_contiguous_slices(
    queued: list[dict[str, Any]], meters: list[int], monkeypatch: Any
) -> None:
    ran: list[tuple[dt.datetime, dt.datetime]] = []

    class Summary:
        def summary(self) -> dict[str, Any]:
            return {"readings": 10, "created": 1}

    def detect(*, meter_ids: list[int], start: dt.datetime, end: dt.datetime) -> Summary:
        ran.append((start, end))
        return Summary()

    monkeypatch.setattr(tasks, "anomalies_detect", detect)
    # A worker that fell behind: five days of batches waiting for one meter set.
    streaming.detection_request(meter_ids=meters, start=_hours(0), end=_hours(120))
    result = tasks.detect_pending.apply(kwargs={"digest": streaming.meter_set_digest(meters)}, task_id="t-long").get()
    assert ran == [(_hours(0), _hours(48)), (_hours(48), _hours(96)), (_hours(96), _hours(120))]
    assert result == {"readings": 30, "created": 3, "more": False}


def test_the_backlog_shows_pending_meter_sets_and_their_oldest_interval(
    queued: list[dict[str, Any]], meters: list[int]
) -> None:
    streaming.detection_request(meter_ids=meters, start=T0 - dt.timedelta(days=3000), end=_hours(1))
    backlog = streaming.detection_backlog()
    assert backlog is not None
    count, oldest = backlog
    assert count >= 1  # this set (others may be pending in the shared Redis)
    assert oldest == T0 - dt.timedelta(days=3000)  # older than anything another test asks for
    streaming.pending_claim(digest=streaming.meter_set_digest(meters), task_id="t-1")
    after = streaming.detection_backlog()
    assert after is not None
    assert after[1] is None or after[1] > T0 - dt.timedelta(days=3000)  # claimed: no longer waiting


def test_without_redis_there_is_no_backlog_to_show(settings: Any) -> None:
    settings.REDIS_URL = None
    assert streaming.detection_backlog() is None
