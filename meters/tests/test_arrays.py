"""Array literals and quarantine COPY for the ingestion queries: PostgreSQL keeps exactly what it was given."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from meters.ingest.arrays import int_array, timestamp_array


def test_literals_are_postgresql_array_syntax() -> None:
    assert int_array([1, 22, -3]) == "{1,22,-3}"
    assert int_array([]) == "{}"
    stamp = dt.datetime(2025, 1, 6, 0, 15, tzinfo=dt.UTC)
    assert timestamp_array([stamp]) == "{2025-01-06T00:15:00+00:00}"


def test_a_naive_datetime_is_refused_not_read_in_the_session_s_zone() -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        timestamp_array([dt.datetime(2025, 1, 6)])


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgresql_reads_back_the_same_ids_and_instants() -> None:
    stamps = [
        dt.datetime(2025, 3, 30, 0, 59, 59, 123456, tzinfo=dt.UTC),
        dt.datetime(2025, 3, 30, 3, 0, tzinfo=ZoneInfo("Europe/Madrid")),  # just after the clocks went forward
        dt.datetime(1999, 12, 31, 23, 45, tzinfo=dt.timezone(dt.timedelta(hours=-5, minutes=-30))),
    ]
    ids = [9_007_199_254_740_993, 1, 0]  # beyond a float's exact integers
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.id, a.at FROM unnest(%s::bigint[], %s::timestamptz[]) AS a(id, at)",
            [
                int_array(ids),
                timestamp_array(stamps),
            ],
        )
        rows = cursor.fetchall()
    assert [row[0] for row in rows] == ids
    assert [row[1] for row in rows] == stamps  # aware datetimes compare as instants


@pytest.mark.django_db
def test_rejected_rows_are_kept_exactly_as_given_whatever_they_hold(campus: Any) -> None:
    """Quarantine goes by COPY on PostgreSQL and by bulk_create elsewhere: the same rows either way."""
    from meters.ingest.types import Rejection
    from meters.ingest.upsert import quarantine_store
    from meters.models import QuarantinedReading

    awkward = 'tab\there, line\nbreak, back\\slash, "quotes", \\N, unicode ✓'
    rejections = [
        Rejection(row=0, reason=f"bad kwh: {awkward}", meter_serial="RM-A-101", raw={"kwh": awkward, "n": [1, None]}),
        Rejection(row=7, reason="nul\x00inside", meter_serial="ser\x00ial", raw={}, meter_id=campus.meter_a.pk),
        Rejection(row=8, reason="x" * 400, meter_serial="s" * 80, raw={"nested": {"a": 1.5}}),
    ]
    quarantine_store(rejections=rejections, source="gateway ✓")
    kept = list(QuarantinedReading.objects.order_by("row_number"))
    assert [(q.row_number, q.meter_id, q.source, q.status) for q in kept] == [
        (0, None, "gateway ✓", "pending"),
        (7, campus.meter_a.pk, "gateway ✓", "pending"),
        (8, None, "gateway ✓", "pending"),
    ]
    assert kept[0].reason == f"bad kwh: {awkward}"
    assert kept[0].raw == {"kwh": awkward, "n": [1, None]}
    assert (kept[1].reason, kept[1].meter_serial) == ("nul\ufffdinside", "ser\ufffdial")
    assert (len(kept[2].reason), len(kept[2].meter_serial), kept[2].raw) == (300, 64, {"nested": {"a": 1.5}})
    assert all(q.received_at is not None for q in kept)
