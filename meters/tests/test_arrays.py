"""Array literals for the ingestion queries: PostgreSQL reads back exactly the values given."""

from __future__ import annotations

import datetime as dt
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
