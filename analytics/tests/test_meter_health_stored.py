"""Stored meter health: the task scores and stores, pages and the API read the stored scores, and score on the
spot only the meters not stored yet (a first run, a new meter)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from analytics.models import MeterHealthScore
from analytics.selectors import meter_health as selectors
from analytics.services import meter_health_alerts_raise
from analytics.tasks import meter_health_refresh
from conftest import client_for
from meters.models import Meter
from meters.tests.factories import MeterFactory, RoomFactory

pytestmark = pytest.mark.django_db


def _store(meter: Meter, score: int, at: dt.datetime | None = None) -> MeterHealthScore:
    return MeterHealthScore.objects.create(
        meter=meter,
        score=score,
        communication=50.0,
        quality=90.0,
        agreement=None,
        trend="stable",
        trend_points=0.0,
        recommendation=f"Stored advice {score}.",
        computed_at=at or timezone.now(),
    )


def _spy(monkeypatch: Any) -> list[int]:
    """Count the meters scored on the spot (in Python) during a request."""
    scored: list[int] = []
    real = selectors.meter_health_of

    def counting(*, meters: list[Meter], now: dt.datetime | None = None) -> list[selectors.MeterHealth]:
        scored.append(len(meters))
        return real(meters=meters, now=now)

    monkeypatch.setattr(selectors, "meter_health_of", counting)
    return scored


def test_the_task_stores_one_row_a_meter_and_updates_it_on_the_next_run(campus: Any) -> None:
    first = timezone.now() - dt.timedelta(hours=2)
    meter_health_alerts_raise(now=first)
    assert MeterHealthScore.objects.count() == 2
    assert meter_health_refresh() == 2
    rows = MeterHealthScore.objects.all()
    assert len(rows) == 2
    assert all(row.computed_at > first for row in rows)
    campus.meter_b.removed_at = timezone.now()
    campus.meter_b.save()
    meter_health_refresh()
    assert list(MeterHealthScore.objects.values_list("meter_id", flat=True)) == [campus.meter_a.pk]


def test_system_page_reads_stored_scores_and_scores_no_meter_in_python(
    campus: Any, admin: Any, monkeypatch: Any, django_assert_max_num_queries: Any
) -> None:
    at = timezone.now() - dt.timedelta(minutes=30)
    _store(campus.meter_a, 42, at)
    _store(campus.meter_b, 77, at)
    scored = _spy(monkeypatch)
    client = client_for(admin)
    client.get("/system/")
    with django_assert_max_num_queries(100) as few:
        body = client.get("/system/").content.decode()
    assert "42/100" in body
    assert "Stored advice 42." in body
    shown = dt.datetime.fromisoformat(body.split('data-health-computed="')[1].split('"')[0])
    assert shown == at  # when the task scored them
    assert sum(scored) == 0  # nothing recomputed on a view
    for n in range(10):  # ten more meters, all scored by the task: same queries, same Python work
        _store(MeterFactory.create(room=RoomFactory.create(hostel=campus.hostel_a)), 90 + n % 5, at)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/system/")
    assert sum(scored) == 0


def test_pages_score_on_the_spot_until_the_task_has_stored_scores(campus: Any, admin: Any, monkeypatch: Any) -> None:
    scored = _spy(monkeypatch)
    body = client_for(admin).get("/system/").content.decode()
    assert 'data-meter="RM-A-101"' in body
    assert 'data-meter="RM-B-101"' in body
    assert "Scored just now" in body
    assert scored == [2]
    assert not MeterHealthScore.objects.exists()  # a view does not write scores: the task does


def test_a_meter_the_task_has_not_scored_yet_is_scored_on_the_spot_beside_stored_ones(
    campus: Any, manager: Any, monkeypatch: Any
) -> None:
    _store(campus.meter_a, 42)
    scored = _spy(monkeypatch)
    rows = client_for(manager).get("/api/v1/analytics/meter-health").json()["results"]
    by_serial = {r["serial"]: r for r in rows}
    assert by_serial["RM-A-101"]["score"] == 42
    assert by_serial["RM-A-101"]["computed_at"] is not None
    assert by_serial["RM-B-101"]["computed_at"] is None  # scored now, not stored
    assert [r["score"] for r in rows] == sorted(r["score"] for r in rows)  # worst first across both
    assert scored == [1]  # only meter B


def test_api_and_room_page_show_the_same_stored_score_as_the_system_page(campus: Any, admin: Any, manager: Any) -> None:
    _store(campus.meter_a, 42)
    _store(campus.meter_b, 77)
    rows = client_for(manager).get(f"/api/v1/analytics/meter-health?meter={campus.meter_a.pk}").json()["results"]
    assert [(r["serial"], r["score"], r["recommendation"]) for r in rows] == [("RM-A-101", 42, "Stored advice 42.")]
    assert rows[0]["computed_at"] is not None
    room = client_for(manager).get(f"/rooms/{campus.room_a.pk}/").content.decode()
    assert "42/100" in room
    assert "Stored advice 42." in room


def test_warden_sees_only_their_hostels_stored_scores(campus: Any, warden_a: Any) -> None:
    _store(campus.meter_a, 42)
    _store(campus.meter_b, 77)
    client = client_for(warden_a)
    assert [r["serial"] for r in client.get("/api/v1/analytics/meter-health").json()["results"]] == ["RM-A-101"]
    assert client.get(f"/api/v1/analytics/meter-health?meter={campus.meter_b.pk}").json()["results"] == []
    assert "Stored advice 77." not in client.get(f"/rooms/{campus.room_a.pk}/").content.decode()


def test_the_api_pages_stored_scores_reading_only_the_page(campus: Any, manager: Any, monkeypatch: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    extra = [
        MeterFactory.create(serial=f"RM-X-{n:02d}", room=RoomFactory.create(hostel=campus.hostel_a)) for n in range(4)
    ]
    for score, meter in enumerate([campus.meter_a, campus.meter_b, *extra]):
        _store(meter, 10 + score)
    scored = _spy(monkeypatch)
    client = client_for(manager)
    first = client.get("/api/v1/analytics/meter-health?page_size=4").json()
    assert first["count"] == 6
    assert [r["score"] for r in first["results"]] == [10, 11, 12, 13]
    with CaptureQueriesContext(connection) as queries:
        second = client.get(first["next"]).json()
    assert [r["score"] for r in second["results"]] == [14, 15]
    assert second["next"] is None
    # The page is read with LIMIT/OFFSET: 5,039 meters' scores built and serialized took up to 1.9 s (issue 29).
    (read,) = [
        q["sql"] for q in queries.captured_queries if "analytics_meterhealthscore" in q["sql"] and "OFFSET" in q["sql"]
    ]
    assert "LIMIT 2 OFFSET 4" in read  # the last page: rows 5 and 6
    assert scored == []  # every meter was stored: none scored on the spot
