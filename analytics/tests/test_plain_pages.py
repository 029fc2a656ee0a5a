"""Issue 26: one rule for time, honest partial figures, rounding, reconciliation, the warden's own dashboard,
what needs attention on the home page, and confirmations that say what happened."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from alerts.models import Alert
from alerts.services import alert_raise
from analytics.figures import daily_consumption_figure, hourly_load_figure
from analytics.selectors.overview import HostelComparison, hour_so_far, reconcile
from conftest import client_for
from meters.ingest.hostel_rollups import hostel_rollups_rebuild
from meters.models import DailyRollup, HourlyRollup, Meter
from meters.tests.factories import MeterFactory, hours_of_days

MADRID = ZoneInfo("Europe/Madrid")
OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:00:00\+0[12]:00$")


def _hours(meter: Any, *, end: dt.datetime, hours: int, kwh: float) -> None:
    HourlyRollup.objects.bulk_create(
        HourlyRollup(meter=meter, hour=end - dt.timedelta(hours=h + 1), kwh=kwh, readings=4) for h in range(hours)
    )


def test_an_hour_that_has_not_ended_says_how_much_of_it_has_passed() -> None:
    hour = dt.datetime(2026, 12, 6, 9, tzinfo=dt.UTC)
    assert hour_so_far(hour, hour + dt.timedelta(minutes=20)) == 20
    assert hour_so_far(hour, hour + dt.timedelta(hours=1)) is None  # complete
    assert hour_so_far(None, hour) is None


def test_the_48_hour_line_marks_its_last_partial_point_in_local_time() -> None:
    now = dt.datetime(2026, 12, 6, 9, 20, tzinfo=dt.UTC)
    rows = [{"hour": now.replace(minute=0) - dt.timedelta(hours=h), "kwh": 1.0 / 3} for h in (2, 1, 0)]
    figure = hourly_load_figure(rows, now=now, zone=MADRID).to_plotly_json()
    complete, partial = figure["data"]
    assert len(complete["x"]) == 2
    assert partial["name"] == "This hour so far (20 min)"
    assert partial["x"][-1] == dt.datetime(2026, 12, 6, 10, 0)  # 09:00 UTC is 10:00 in Madrid in December
    assert complete["y"][0] == 0.333
    assert figure["layout"]["xaxis"]["title"]["text"] == "Local time (Europe/Madrid)"
    assert figure["layout"]["yaxis"]["title"]["text"] == "kWh per hour"


def test_the_daily_chart_marks_today_as_the_day_so_far() -> None:
    now = dt.datetime(2026, 12, 6, 10, 20, tzinfo=MADRID)
    today, yesterday = now.date(), now.date() - dt.timedelta(days=1)
    rows = [
        {"day": yesterday, "hostel": "Hostel A", "kwh": 20.0},
        {"day": yesterday, "hostel": "Hostel B", "kwh": 10.0},
        {"day": today, "hostel": "Hostel A", "kwh": 6.0},
        {"day": today, "hostel": "Hostel B", "kwh": 2.5},
    ]
    figure = daily_consumption_figure(rows, now=now).to_plotly_json()
    for bars in figure["data"]:
        assert list(bars["marker"]["pattern"]["shape"]) == ["", "/"]  # today hatched, yesterday solid
        assert list(bars["customdata"]) == ["", " · today so far (to 10:20)"]
    (note,) = figure["layout"]["annotations"]
    assert note["text"] == "Today so far<br>(to 10:20)"
    assert (note["x"], note["y"]) == (today, 8.5)  # on top of today's stack


def test_a_daily_chart_of_past_days_has_no_partial_bar() -> None:
    now = dt.datetime(2026, 12, 6, 10, 20, tzinfo=MADRID)
    rows = [{"day": dt.date(2026, 11, 30), "hostel": "Hostel A", "kwh": 20.0}]
    figure = daily_consumption_figure(rows, now=now).to_plotly_json()
    assert list(figure["data"][0]["marker"]["pattern"]["shape"]) == [""]
    assert not figure["layout"].get("annotations")


@pytest.mark.django_db
def test_dashboard_daily_chart_says_today_is_so_far(campus: Any, manager: Any) -> None:
    # The page's today is the site's (Madrid): in UTC's last hour that is already the next day.
    today = timezone.localdate(timezone=campus.hostel_a.site.tz)
    DailyRollup.objects.create(meter=campus.meter_a, day=today - dt.timedelta(days=1), kwh=12.5, readings=96)
    DailyRollup.objects.create(meter=campus.meter_a, day=today, kwh=3.0, readings=40)
    body = client_for(manager).get(reverse("dashboard")).content.decode()
    daily = json.loads(re.search(r'id="fig-daily">(.*?)</script>', body, re.S).group(1))  # type: ignore[union-attr]
    assert daily["layout"]["annotations"][0]["text"].startswith("Today so far<br>(to ")
    assert list(daily["data"][0]["marker"]["pattern"]["shape"]) == ["", "/"]


def test_site_total_and_the_hostels_rooms_reconcile_with_common_areas_as_the_difference() -> None:
    rows = [
        HostelComparison(1, "Hostel A", 12.5, 3.0, "EUR", 4, 4, 0.2),
        HostelComparison(2, "B", 7.25, 1, "EUR", 1, 2, 1),
    ]
    daily: list[dict[str, Any]] = [
        {"day": dt.date(2026, 12, 6), "hostel": "Hostel A", "kwh": 20.0},
        {"day": dt.date(2026, 12, 6), "hostel": "B", "kwh": 7.25},
    ]
    result = reconcile(daily=daily, comparison=rows)
    assert result.site_kwh == 27.25
    assert result.rooms_kwh == 19.75
    assert result.common_kwh == pytest.approx(7.5)


@pytest.mark.django_db
def test_dashboard_reconciles_a_hostel_main_with_its_rooms(campus: Any, manager: Any) -> None:
    today = timezone.localdate()
    main = MeterFactory.create(serial="MAIN-A", kind=Meter.Kind.HOSTEL_MAIN, hostel=campus.hostel_a, room=None)
    hours_of_days(
        [
            DailyRollup.objects.create(meter=main, day=today, kwh=20.0, readings=96),
            DailyRollup.objects.create(meter=campus.meter_a, day=today, kwh=12.5, readings=96),
            DailyRollup.objects.create(meter=campus.meter_b, day=today, kwh=7.25, readings=96),
        ]
    )
    body = client_for(manager).get(reverse("dashboard")).content.decode()
    # Site total: Hostel A's main (20) and Hostel B's room (7.25); the rooms: 12.5 + 7.25; the rest: A's common areas.
    assert "27.2 kWh" in body or "27.3 kWh" in body
    assert "Common areas and mains" in body
    assert ">7.5<" in body
    assert ">19.8<" in body


@pytest.mark.django_db
def test_pages_and_csv_show_the_sites_local_time_and_name_the_zone_while_the_api_stays_utc(
    campus: Any, warden_a: Any
) -> None:
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    _hours(campus.meter_a, end=now, hours=30, kwh=1.0 / 3)
    client = client_for(warden_a)
    body = client.get(reverse("room-detail", args=[campus.room_a.pk])).content.decode()
    assert "times in Europe/Madrid" in body
    assert "Local time (Europe/Madrid)" in body
    assert re.search(r"\d\d:\d\d (CET|CEST)", body), "a time on the page names its zone"
    assert "times in Europe/Madrid" in client.get(reverse("dashboard")).content.decode()
    export = client.get(reverse("room-hours-csv", args=[campus.room_a.pk])).content.decode().splitlines()
    assert export[0].startswith("hour,kwh,")
    first = export[1].split(",")
    assert OFFSET.match(first[0]), first[0]
    local = dt.datetime.fromisoformat(first[0])
    assert local.utcoffset() == local.astimezone(MADRID).utcoffset()
    alert_raise(kind="manual", title="Heater on", hostel=campus.hostel_a, room=campus.room_a)
    api = client.get("/api/v1/alerts").json()["results"][0]
    assert api["last_seen_at"].endswith("Z")


@pytest.mark.django_db
def test_csv_files_are_rounded_to_the_watt_hour(campus: Any, warden_a: Any) -> None:
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    _hours(campus.meter_a, end=now, hours=1, kwh=1.0 / 3)
    day = timezone.localdate(now - dt.timedelta(hours=1), MADRID)
    DailyRollup.objects.create(meter=campus.meter_a, day=day, kwh=1.0 / 3, readings=4)
    hostel_rollups_rebuild()  # rollups written directly, not by ingestion
    client = client_for(warden_a)
    room = client.get(reverse("room-hours-csv", args=[campus.room_a.pk])).content.decode()
    hostels = client.get(reverse("dashboard-hostels-csv")).content.decode()
    assert ",0.333," in room
    assert ",0.333," in hostels
    for text in (room, hostels):
        assert not re.search(r"\d\.\d{4,}", text), text


@pytest.mark.django_db
def test_last_hour_on_the_dashboard_is_complete_or_says_so_far(campus: Any, manager: Any) -> None:
    now = timezone.now()
    this_hour = now.replace(minute=0, second=0, microsecond=0)
    HourlyRollup.objects.create(meter=campus.meter_a, hour=this_hour - dt.timedelta(hours=1), kwh=1.0, readings=4)
    hostel_rollups_rebuild()  # rollups written directly, not by ingestion
    body = client_for(manager).get(reverse("dashboard")).content.decode()
    assert "Last complete hour" in body
    HourlyRollup.objects.create(meter=campus.meter_a, hour=this_hour, kwh=0.2, readings=1)
    hostel_rollups_rebuild()
    body = client_for(manager).get(reverse("dashboard")).content.decode()
    assert re.search(r"This hour so far \(\d+ min, from \d\d:00 (CET|CEST)\)", body)


@pytest.mark.django_db
def test_warden_dashboard_is_titled_with_the_hostel_and_leaves_out_risk_segments_and_comparison(
    campus: Any, warden_a: Any, manager: Any
) -> None:
    today = timezone.localdate()
    DailyRollup.objects.create(meter=campus.meter_a, day=today, kwh=12.5, readings=96)
    DailyRollup.objects.create(meter=campus.meter_a, day=today - dt.timedelta(days=14), kwh=10.0, readings=96)
    body = client_for(warden_a).get(reverse("dashboard")).content.decode()
    assert "<h1>Hostel A</h1>" in body
    assert "<title>Hostel A · Wattwatch</title>" in body
    assert "Site overview" not in body
    for panel in ("Transformer risk", "Customer segments", "Hostels compared", 'id="fig-comparison"'):
        assert panel not in body
    assert "Against its own past" in body
    assert "The period before" in body
    assert "Hostel B" not in body
    manager_body = client_for(manager).get(reverse("dashboard")).content.decode()
    assert "<h1>Site overview</h1>" in manager_body
    for panel in ("Transformer risk", "Customer segments", "Hostels compared", 'id="fig-comparison"'):
        assert panel in manager_body


@pytest.mark.django_db
def test_home_puts_alerts_rooms_silent_meters_and_today_first_and_only_the_wardens_own(
    campus: Any, warden_a: Any
) -> None:
    alert_raise(kind="manual", title="Heater on in A", hostel=campus.hostel_a, room=campus.room_a)
    alert_raise(kind="manual", title="Heater on in B", hostel=campus.hostel_b, room=campus.room_b)
    body = client_for(warden_a).get(reverse("home")).content.decode()
    headings = [body.index(text) for text in ("Open alerts", "Rooms above expected", "Silent meters", "Today against")]
    assert headings == sorted(headings)
    assert headings[-1] < body.index('id="hostel-')
    assert "Heater on in A" in body
    assert "Heater on in B" not in body
    assert "RM-B-101" not in body
    assert "Latest readings" not in body  # the raw table is on the room pages now
    room = client_for(warden_a).get(reverse("room-detail", args=[campus.room_a.pk])).content.decode()
    assert "Latest readings" in room
    assert "RM-A-101" in room


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("action", "data", "said"),
    [
        ("acknowledge", {}, "Alert #{id} acknowledged."),
        ("resolve", {}, "Alert #{id} resolved."),
        ("comment", {"body": "Checked it"}, "Comment added to alert #{id}."),
        ("snooze", {"minutes": "60"}, "Alert #{id} snoozed until "),
    ],
)
def test_confirmations_say_what_happened(campus: Any, warden_a: Any, action: str, data: dict, said: str) -> None:
    alert = alert_raise(kind="manual", title="Heater on", hostel=campus.hostel_a, room=campus.room_a)
    response = client_for(warden_a).post(reverse("alert-action", args=[alert.pk, action]), data, follow=True)
    body = response.content.decode()
    assert said.format(id=alert.pk) in body
    assert "done" not in body.split('class="messages"')[1].split("</ul>")[0]
    assert Alert.objects.get(pk=alert.pk).status != "open" or action == "comment"


@pytest.mark.django_db
def test_api_docs_are_grouped_by_tag_and_link_back_to_the_product(client: Any) -> None:
    schema = client.get("/api/schema/?format=json").json()
    assert [tag["name"] for tag in schema["tags"]] == ["estate", "readings", "alerts", "analytics", "models", "auth"]
    tags = {
        path: operation["tags"]
        for path, methods in schema["paths"].items()
        for operation in methods.values()
        if isinstance(operation, dict) and "tags" in operation
    }
    assert tags["/api/v1/rooms/{id}"] == ["estate"]
    assert tags["/api/v1/meters/{id}/readings"] == ["readings"]
    assert tags["/api/v1/alerts/{id}/acknowledge"] == ["alerts"]
    assert tags["/api/v1/analytics/overview"] == ["analytics"]
    assert tags["/api/v1/forecasts"] == ["models"]
    assert tags["/api/v1/auth/token"] == ["auth"]
    assert "](/)" in schema["info"]["description"]


def test_api_examples_are_the_demo_campus_rows_room_7_is_a_107() -> None:
    """`make run` seeds the demo with seed 1 on an empty database: ids follow the plan's order."""
    from meters.api.serializers import MeterSerializer, RoomSerializer
    from meters.simulation import SCALES
    from meters.simulation.estate import estate_plan

    plan = estate_plan(seed=1, scale=SCALES["demo"], start=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    room = RoomSerializer._spectacular_annotation["examples"][0].value  # type: ignore[attr-defined]
    meter = MeterSerializer._spectacular_annotation["examples"][0].value  # type: ignore[attr-defined]
    planned_room = plan.rooms[room["id"] - 1]
    assert (plan.hostels[planned_room.hostel].name, planned_room.number) == (room["hostel_name"], room["number"])
    assert (room["id"], room["hostel_name"], room["number"]) == (7, "Hostel A", "107")
    assert plan.meters[meter["id"] - 1].serial == meter["serial"] == "RM-A107"
    assert plan.customers[room["customer"] - 1].account_code == "R-A107"
