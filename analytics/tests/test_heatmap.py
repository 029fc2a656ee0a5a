"""The hostel heat map agrees with the alerts: a room far above expected shows its alert or why it has none."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from alerts.services import alert_raise
from analytics.figures import room_heatmap_figure
from analytics.selectors.heatmap import Why, room_deviations_for_user, rooms_above_expected
from analytics.tests.insight_data import HOSTEL_INSIGHTS_QUERIES
from conftest import client_for
from meters.models import HourlyRollup, Meter, Occupancy, Room
from meters.tests.factories import MeterFactory, RoomFactory
from predictions.detection.detectors import DetectorConfig
from predictions.models import Anomaly, MeterBaseline, ScannedHour

pytestmark = pytest.mark.django_db
NOW = timezone.now().replace(minute=0, second=0, microsecond=0)


def _scanned(meter: Meter, *, expected: float, actual: float, strength: float = 12.0, hours: int = 24) -> None:
    """Detection scanned the meter's last `hours` hours: kWh per hour expected and metered."""
    ScannedHour.objects.bulk_create(
        ScannedHour(
            meter=meter,
            hour=NOW - dt.timedelta(hours=h + 1),
            expected_kwh=expected,
            actual_kwh=actual,
            readings=4,
            strength=strength,
        )
        for h in range(hours)
    )
    Meter.objects.filter(pk=meter.pk).update(last_reading_at=NOW - dt.timedelta(minutes=15))


def _room(campus: Any, number: str, *, hostel: str = "a") -> tuple[Room, Meter]:
    room = RoomFactory.create(hostel=getattr(campus, f"hostel_{hostel}"), number=number, floor=2)
    return room, MeterFactory.create(serial=f"RM-{number}", room=room)


def _by_number(user: Any, hostel_id: int) -> dict[str, Any]:
    return {row.number: row for row in room_deviations_for_user(user=user, hostel_id=hostel_id, now=NOW)}


@pytest.fixture
def rooms(campus: Any) -> dict[str, Meter]:
    """Hostel A: one room of each case, all far above expected (double) unless said otherwise."""
    meters = {"alert": campus.meter_a}
    _scanned(campus.meter_a, expected=1.0, actual=2.0)
    alert_raise(kind="anomaly", title="A-101 double", room=campus.room_a, meter=campus.meter_a)
    for case in ("floor", "muted", "boosted", "unfit", "usual", "unscanned", "silent", "normal"):
        meters[case] = _room(campus, f"A-{case}")[1]
    _scanned(meters["floor"], expected=0.2, actual=0.4)  # +100 % but 0.2 kW: below the detector's floor
    _scanned(meters["muted"], expected=1.0, actual=2.0)
    MeterBaseline.objects.create(meter=meters["muted"], suppressed_kinds=["sustained_excess"])
    Anomaly.objects.create(
        meter=meters["muted"],
        hostel=campus.hostel_a,
        room=meters["muted"].room,
        kind="sustained_excess",
        status=Anomaly.Status.MUTED,
        start=NOW - dt.timedelta(hours=6),
        end=NOW - dt.timedelta(hours=1),
        score=0.8,
        dedupe_key="muted-1",
    )
    _scanned(meters["boosted"], expected=1.0, actual=2.0, strength=9.0)
    MeterBaseline.objects.create(meter=meters["boosted"], threshold_boost=2.0)
    _scanned(meters["unfit"], expected=1.0, actual=2.0)
    MeterBaseline.objects.create(meter=meters["unfit"], fit=False)
    _scanned(meters["usual"], expected=1.0, actual=2.0, strength=3.0)
    _scanned(meters["unscanned"], expected=1.0, actual=2.0, hours=6)  # detection has seen only 6 of 24 hours
    _scanned(meters["normal"], expected=1.0, actual=1.2)
    return meters


def test_a_room_far_above_expected_with_an_alert_shows_and_links_the_alert(rooms: Any, warden_a: Any) -> None:
    row = _by_number(warden_a, rooms["alert"].room.hostel_id)["A-101"]
    assert row.deviation_pct == pytest.approx(100.0)
    assert (row.far_above, row.why) == (True, Why.ALERT)
    assert row.alert is not None
    assert row.alert.title == "A-101 double"
    assert row.url == reverse("alert-detail", args=[row.alert.id])
    assert row.reason.startswith(f"Alert #{row.alert.id} (open)")


def test_each_room_far_above_expected_without_an_alert_says_why(rooms: Any, warden_a: Any) -> None:
    rows = _by_number(warden_a, rooms["alert"].room.hostel_id)
    floor = DetectorConfig().min_excess_kw_room
    assert rows["A-floor"].why == Why.BELOW_FLOOR
    assert "0.20 kW over expected" in rows["A-floor"].reason
    assert f"alerts start at {floor:g} kW" in rows["A-floor"].reason
    assert rows["A-muted"].why == Why.MUTED
    assert "sustained excess" in rows["A-muted"].reason
    assert rows["A-boosted"].why == Why.MUTED
    assert "threshold was raised by 2" in rows["A-boosted"].reason
    assert rows["A-unfit"].why == Why.UNFIT
    assert rows["A-usual"].why == Why.USUAL
    assert (rows["A-unscanned"].why, rows["A-unscanned"].deviation_pct) == (Why.NOT_SCANNED, None)
    assert (rows["A-silent"].why, rows["A-silent"].deviation_pct) == (Why.NO_READINGS, None)
    assert (rows["A-normal"].why, rows["A-normal"].reason, rows["A-normal"].far_above) == (None, "", False)


def test_an_empty_rooms_excess_is_judged_against_the_detectors_empty_room_floor(campus: Any, warden_a: Any) -> None:
    # Nobody on the roster: detection alerts from 0.15 kW (an appliance left on), so 0.2 kW is no longer
    # "below the power worth a warden's time", while 0.1 kW still is, with the empty room's floor named.
    config = DetectorConfig()
    for number, actual in (("A-empty", 0.4), ("A-empty-low", 0.2)):
        room, meter = _room(campus, number)
        Occupancy.objects.create(room=room, start=NOW - dt.timedelta(days=30), occupants=0)
        _scanned(meter, expected=0.1, actual=actual, strength=3.0)
    rows = _by_number(warden_a, campus.hostel_a.pk)
    assert rows["A-empty"].why == Why.USUAL
    assert rows["A-empty-low"].why == Why.BELOW_FLOOR
    assert f"alerts start at {config.min_excess_kw_vacant:g} kW in an empty room" in rows["A-empty-low"].reason
    # A room with residents on its roster keeps the lived-in floor.
    room, meter = _room(campus, "A-lived")
    Occupancy.objects.create(room=room, start=NOW - dt.timedelta(days=30), occupants=2)
    _scanned(meter, expected=0.2, actual=0.4, strength=3.0)
    row = _by_number(warden_a, campus.hostel_a.pk)["A-lived"]
    assert (row.why, f"alerts start at {config.min_excess_kw_room:g} kW." in row.reason) == (Why.BELOW_FLOOR, True)


def test_the_map_compares_with_the_detectors_expected_not_with_prior_weeks(campus: Any, manager: Any) -> None:
    # Four prior weeks at 0.1 kWh/h (residents away), the last day at 1.0: +900 % against the prior weeks, but the
    # detector, which knows the weather and the occupancy, expected 0.9 kWh/h: +11 %, nothing to explain.
    HourlyRollup.objects.bulk_create(
        HourlyRollup(meter=campus.meter_a, hour=NOW - dt.timedelta(hours=h + 1), kwh=1.0 if h < 24 else 0.1, readings=4)
        for h in range(29 * 24)
    )
    _scanned(campus.meter_a, expected=0.9, actual=1.0, strength=1.0)
    (row,) = room_deviations_for_user(user=manager, hostel_id=campus.hostel_a.pk, now=NOW)
    assert row.deviation_pct == pytest.approx(100 / 9)
    assert (row.far_above, row.why) == (False, None)


def test_a_warden_sees_only_own_hostels_rooms_and_reasons(
    rooms: Any, campus: Any, warden_a: Any, warden_b: Any
) -> None:
    _, meter = _room(campus, "B-unfit", hostel="b")
    _scanned(meter, expected=1.0, actual=2.0)
    MeterBaseline.objects.create(meter=meter, fit=False)
    alert_raise(kind="anomaly", title="B-101 odd", room=campus.room_b, meter=campus.meter_b)
    assert room_deviations_for_user(user=warden_a, hostel_id=campus.hostel_b.pk, now=NOW) == []
    assert set(_by_number(warden_b, campus.hostel_b.pk)) == {"B-101", "B-unfit"}
    assert room_deviations_for_user(user=warden_b, hostel_id=campus.hostel_a.pk, now=NOW) == []
    page = client_for(warden_a).get(reverse("hostel-detail", args=[campus.hostel_a.pk])).content.decode()
    assert "B-unfit" not in page
    assert "B-101 odd" not in page


def test_hostel_page_lists_rooms_above_expected_with_reasons_in_bounded_queries(
    rooms: Any, campus: Any, warden_a: Any, django_assert_max_num_queries: Any
) -> None:
    client = client_for(warden_a)
    # 18: the page's own, one of them the rosters of the rooms far above expected with no alert.
    with django_assert_max_num_queries(18 + HOSTEL_INSIGHTS_QUERIES):
        response = client.get(reverse("hostel-detail", args=[campus.hostel_a.pk]))
    body = response.content.decode()
    start = body.index('id="h-above"')
    listed = body[start : body.index("</ul>", start)]
    alert = rooms["alert"].room.alerts.get()
    assert f'<a href="{reverse("alert-detail", args=[alert.pk])}">Alert #{alert.pk}</a>' in listed
    for why in ("below_floor", "muted", "unfit", "usual"):
        assert f'data-why="{why}"' in listed
    assert "A-normal" not in listed
    assert "Grey: not yet scanned (1 room: A-unscanned)" in body
    # Twice the rooms: still the same number of queries.
    for n in range(8):
        _scanned(_room(campus, f"A-more-{n}")[1], expected=0.2, actual=0.4)
    with django_assert_max_num_queries(18 + HOSTEL_INSIGHTS_QUERIES):
        assert client.get(reverse("hostel-detail", args=[campus.hostel_a.pk])).status_code == 200


def test_heatmap_cells_hover_with_the_reason_and_open_the_alert_when_tapped(rooms: Any, warden_a: Any) -> None:
    rows = room_deviations_for_user(user=warden_a, hostel_id=rooms["alert"].room.hostel_id, now=NOW)
    figure = json.loads(json.dumps(room_heatmap_figure(rows).to_plotly_json(), default=str))
    grey, colour = figure["data"]
    cells = {text.split("<br>")[0]: (i, j) for i, line in enumerate(colour["text"]) for j, text in enumerate(line)}
    i, j = cells["A-101 ⚠"]
    assert colour["customdata"][i][j] == rows[0].url
    assert "Alert #" in colour["hovertext"][i][j]
    i, j = cells["A-floor"]
    assert "worth a warden" in colour["hovertext"][i][j]
    i, j = cells["A-unscanned"]
    assert (colour["z"][i][j], grey["z"][i][j]) == (None, 1.0)
    assert "Not yet scanned" in colour["hovertext"][i][j]
    above = [row.number for row in rooms_above_expected(rows)]
    assert set(above) == {"A-101", "A-floor", "A-muted", "A-boosted", "A-unfit", "A-usual"}


def test_home_lists_the_same_rooms_far_above_as_the_whole_map_without_building_every_room(
    rooms: Any, campus: Any, manager: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from analytics.selectors.heatmap import rooms_far_above_for_user

    _scanned(_room(campus, "B-far", hostel="b")[1], expected=1.0, actual=3.0)
    whole = rooms_above_expected(room_deviations_for_user(user=manager, hostel_id=None, now=NOW))
    with CaptureQueriesContext(connection) as queries:
        first = rooms_far_above_for_user(user=manager, now=NOW, limit=3)
    assert first == whole[:3]
    assert rooms_far_above_for_user(user=manager, now=NOW, limit=100) == whole
    # Only the rooms far above are read as rooms (with their alerts and reasons), not all 5,000 of a university.
    (room_rows,) = [q["sql"] for q in queries.captured_queries if q["sql"].startswith('SELECT "meters_room"."id"')]
    assert " IN (" in room_rows
