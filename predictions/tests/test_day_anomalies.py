"""Day-level anomalies on building meters: closures nobody registered, closed days used like working days."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from django.urls import reverse

from alerts.models import Alert
from conftest import client_for
from customers.tests.factories import TransformerFactory
from meters.ingest.zeros import real_zeros
from meters.models import AcademicPeriod, Meter, Reading
from meters.services import calendar_closure_add
from meters.tests.factories import HostelFactory, MeterFactory, RoomFactory, SiteFactory
from predictions.detection import anomalies_detect, anomalies_to_alerts, incidents_find
from predictions.detection.days import day_findings
from predictions.detection.frames import meter_infos
from predictions.models import Anomaly

pytestmark = pytest.mark.django_db

ZONE = ZoneInfo("Europe/Madrid")  # the factories' site
FIRST = dt.date(2024, 9, 2)  # a Monday; eight weeks of history before the days judged
TUESDAY = dt.date(2024, 10, 29)
SATURDAY = dt.date(2024, 11, 2)


def working_hour(hour: int) -> float:
    """kWh in one hour of a usual working day: a base load, and the plant and people from 8 to 18."""
    return 40.0 if 8 <= hour < 18 else 10.0


def closed_hour(hour: int) -> float:
    return 11.0


def write_days(
    meter: Meter, *, days: int = 63, minutes: int = 15, profile: Callable[[dt.date, int], float] | None = None
) -> None:
    """`days` of readings from FIRST: working profile on weekdays, flat on weekends, unless `profile` says."""
    rows = []
    step = dt.timedelta(minutes=minutes)
    for n in range(days):
        day = FIRST + dt.timedelta(days=n)
        moment = dt.datetime.combine(day, dt.time(), tzinfo=ZONE)
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=ZONE)
        wobble = 1.0 + 0.03 * ((n * 7) % 5 - 2) / 2  # days differ a little, as real ones do
        while moment < end:
            hour = moment.hour
            if profile is not None:
                kwh = profile(day, hour)
            else:
                kwh = working_hour(hour) if day.weekday() < 5 else closed_hour(hour)
            rows.append(Reading(meter=meter, timestamp=moment.astimezone(dt.UTC), kwh=kwh * wobble * minutes / 60))
            moment += step
    Reading.objects.bulk_create(rows)


def main_meter(*, minutes: int = 15) -> Meter:
    hostel = HostelFactory.create(code="M", name="Main Hall")
    return MeterFactory.create(
        serial="MAIN-1", kind=Meter.Kind.HOSTEL_MAIN, room=None, hostel=hostel, interval_minutes=minutes, rated_kw=500
    )


def day_span(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time(), tzinfo=ZONE).astimezone(dt.UTC)
    return start, dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=ZONE).astimezone(dt.UTC)


def day_kinds(meter: Meter, day: dt.date) -> list[Any]:
    start, end = day_span(day)
    found, _ = incidents_find(meter_ids=[meter.id], start=start, end=end)
    return [f for f in found if f.kind in ("closure_unexpected", "closed_day_usage")]


def closed_on(closed_day: dt.date) -> Callable[[dt.date, int], float]:
    def profile(day: dt.date, hour: int) -> float:
        return closed_hour(hour) if day.weekday() >= 5 or day == closed_day else working_hour(hour)

    return profile


def test_a_weekday_at_closed_day_level_is_found_and_explained() -> None:
    meter = main_meter(minutes=15)
    write_days(meter, profile=closed_on(TUESDAY))

    found = day_kinds(meter, TUESDAY)

    assert [f.kind for f in found] == ["closure_unexpected"]
    anomalies = anomalies_detect(meter_ids=[meter.id], start=day_span(TUESDAY)[0], end=day_span(TUESDAY)[1])
    anomaly = Anomaly.objects.get(pk__in=anomalies.created, kind="closure_unexpected")
    assert "Tuesday 29 Oct 2024 ran like a " in anomaly.explanation
    assert "% of a usual Tuesday" in anomaly.explanation
    assert anomaly.get_kind_display() == "Working day that ran like a closed day"


def test_a_usual_weekday_with_hourly_data_is_not_flagged() -> None:
    meter = main_meter(minutes=60)
    write_days(meter)

    assert day_kinds(meter, TUESDAY) == []


def test_a_saturday_at_weekday_level_is_found() -> None:
    meter = main_meter(minutes=30)

    def plant_left_on(day: dt.date, hour: int) -> float:
        return working_hour(hour) if day.weekday() < 5 or day == SATURDAY else closed_hour(hour)

    write_days(meter, days=63 + 6, profile=plant_left_on)

    found = day_kinds(meter, SATURDAY)

    assert [f.kind for f in found] == ["closed_day_usage"]
    assert found[0].actual_kwh > found[0].expected_kwh * 1.5


def test_a_saturday_in_the_first_cold_snap_is_not_a_working_day() -> None:
    """Heating from the Friday before on adds to every hour of every day: the Saturday is far above even a working
    day of the mild weeks before, a level those weeks never showed, not a working day's use."""
    meter = main_meter(minutes=30)
    cold_from = SATURDAY - dt.timedelta(days=1)

    def cold_snap(day: dt.date, hour: int) -> float:
        usual = working_hour(hour) if day.weekday() < 5 else closed_hour(hour)
        return usual + (60.0 if day >= cold_from else 0.0)

    write_days(meter, days=63 + 6, profile=cold_snap)

    assert day_kinds(meter, SATURDAY) == []


def test_a_holiday_in_the_sites_calendar_that_looks_closed_is_not_flagged() -> None:
    meter = main_meter()
    write_days(meter, profile=closed_on(TUESDAY))
    assert meter.hostel is not None
    assert [f.kind for f in day_kinds(meter, TUESDAY)] == ["closure_unexpected"]  # unknown to the calendar
    AcademicPeriod.objects.create(
        site=meter.hostel.site, kind=AcademicPeriod.Kind.HOLIDAY, name="Local feast", start=TUESDAY, end=TUESDAY
    )

    assert day_kinds(meter, TUESDAY) == []


def test_a_building_with_no_working_week_gets_no_day_findings() -> None:
    meter = main_meter()
    write_days(meter, profile=lambda day, hour: 20.0 if day != TUESDAY else 10.0)

    assert day_kinds(meter, TUESDAY) == []


def test_a_room_meter_gets_no_day_findings_where_a_main_meter_would() -> None:
    room = RoomFactory.create(hostel=HostelFactory.create(code="R"), number="R-1")
    meter = MeterFactory.create(serial="ROOM-1", room=room, interval_minutes=15)
    write_days(meter, profile=closed_on(TUESDAY))
    main = main_meter()
    write_days(main, profile=closed_on(TUESDAY))

    assert day_kinds(meter, TUESDAY) == []
    assert [f.kind for f in day_kinds(main, TUESDAY)] == ["closure_unexpected"]


def test_a_day_is_judged_only_once_its_local_midnight_has_passed() -> None:
    meter = main_meter()
    write_days(meter, profile=closed_on(TUESDAY))
    start, end = day_span(TUESDAY)

    found, _ = incidents_find(meter_ids=[meter.id], start=start, end=end - dt.timedelta(minutes=15))

    assert not [f for f in found if f.kind == "closure_unexpected"]
    assert [f.kind for f in day_kinds(meter, TUESDAY)] == ["closure_unexpected"]  # once midnight has passed


def test_a_day_with_too_few_readings_is_not_judged() -> None:
    meter = main_meter()
    write_days(meter, profile=closed_on(TUESDAY))
    start, end = day_span(TUESDAY)
    assert [f.kind for f in day_kinds(meter, TUESDAY)] == ["closure_unexpected"]
    Reading.objects.filter(meter=meter, timestamp__gte=start + dt.timedelta(hours=6), timestamp__lt=end).delete()

    assert day_kinds(meter, TUESDAY) == []


def test_adding_the_day_to_the_calendar_in_one_click_resolves_the_alert_and_stops_the_flag(manager: Any) -> None:
    meter = main_meter()
    write_days(meter, profile=closed_on(TUESDAY))
    start, end = day_span(TUESDAY)
    anomalies_detect(meter_ids=[meter.id], start=start, end=end, handoff=False)
    anomalies_to_alerts(anomalies=Anomaly.objects.filter(kind="closure_unexpected"))
    alert = Alert.objects.get(source_payload__kind="closure_unexpected")
    client = client_for(manager)
    assert (
        "Add to the calendar as a closed day" in client.get(reverse("alert-detail", args=[alert.pk])).content.decode()
    )

    response = client.post(reverse("alert-closure-add", args=[alert.pk]))

    assert response.status_code == 302
    assert meter.hostel is not None
    period = AcademicPeriod.objects.get(site=meter.hostel.site)
    assert (period.kind, period.start, period.end) == ("holiday", TUESDAY, TUESDAY)
    alert.refresh_from_db()
    assert alert.status == Alert.Status.RESOLVED
    assert day_kinds(meter, TUESDAY) == []


def test_a_warden_may_not_add_a_closed_day_and_another_scope_sees_no_such_alert(
    warden_a: Any, warden_b: Any, campus: Any
) -> None:
    meter = MeterFactory.create(serial="MAIN-A", kind=Meter.Kind.HOSTEL_MAIN, room=None, hostel=campus.hostel_a)
    write_days(meter, profile=closed_on(TUESDAY))
    start, end = day_span(TUESDAY)
    anomalies_detect(meter_ids=[meter.id], start=start, end=end, handoff=False)
    anomalies_to_alerts(anomalies=Anomaly.objects.filter(kind="closure_unexpected"))
    alert = Alert.objects.get(source_payload__kind="closure_unexpected")
    page = client_for(warden_a).get(reverse("alert-detail", args=[alert.pk])).content.decode()
    assert "Add to the calendar as a closed day" not in page

    assert client_for(warden_a).post(reverse("alert-closure-add", args=[alert.pk])).status_code == 403
    assert client_for(warden_b).post(reverse("alert-closure-add", args=[alert.pk])).status_code == 404
    assert not AcademicPeriod.objects.exists()
    alert.refresh_from_db()
    assert alert.status == Alert.Status.OPEN


def test_the_calendar_closure_service_is_idempotent() -> None:
    meter = main_meter()
    assert meter.hostel is not None
    site = meter.hostel.site
    first = calendar_closure_add(site=site, first=TUESDAY, last=TUESDAY)
    again = calendar_closure_add(site=site, first=TUESDAY, last=TUESDAY)
    assert first.pk == again.pk
    with pytest.raises(ValueError, match="before the first day"):
        calendar_closure_add(site=site, first=TUESDAY, last=TUESDAY - dt.timedelta(days=1))


def test_at_the_start_of_an_imported_history_a_day_is_learned_from_the_weeks_after_it() -> None:
    meter = main_meter(minutes=60)
    first_tuesday = FIRST + dt.timedelta(days=1)
    write_days(meter, profile=closed_on(first_tuesday))
    infos = meter_infos(meter_ids=[meter.id])
    start, end = day_span(FIRST)[0], day_span(FIRST + dt.timedelta(days=62))[1]

    live = day_findings(infos=infos, meter_ids=[meter.id], start=start, end=day_span(first_tuesday)[1])
    scanned = day_findings(infos=infos, meter_ids=[meter.id], start=start, end=end, until=end)

    assert live == []  # nothing before it; live, the days after it do not teach it
    assert [(f.kind, f.day) for f in scanned] == [("closure_unexpected", first_tuesday)]


def half_open_on(*days_off: dt.date, working_level: float) -> Callable[[dt.date, int], float]:
    """A usual week, and on `days_off` the working hours at `working_level` kWh instead of 40 (half-open days)."""

    def profile(day: dt.date, hour: int) -> float:
        if day.weekday() >= 5:
            return closed_hour(hour)
        if day in days_off and 8 <= hour < 18:
            return working_level
        return working_hour(hour)

    return profile


def test_one_half_open_weekday_alone_is_a_quiet_day_not_a_closure() -> None:
    meter = main_meter(minutes=60)
    write_days(meter, profile=half_open_on(TUESDAY, working_level=22.0))  # about 0.4 of the way to a working day

    assert day_kinds(meter, TUESDAY) == []
    wednesday = TUESDAY + dt.timedelta(days=1)
    assert [f.kind for f in day_kinds(meter, wednesday)] == []  # a usual day after it


def test_half_open_weekdays_side_by_side_are_a_closure_period() -> None:
    meter = main_meter(minutes=60)
    wednesday = TUESDAY + dt.timedelta(days=1)
    write_days(meter, profile=half_open_on(TUESDAY, wednesday, working_level=22.0))
    infos = meter_infos(meter_ids=[meter.id])
    end = day_span(FIRST + dt.timedelta(days=62))[1]

    live = day_kinds(meter, wednesday)  # live, the second day has the first beside it
    scanned = day_findings(infos=infos, meter_ids=[meter.id], start=day_span(FIRST)[0], end=end, until=end)

    assert [f.kind for f in live] == ["closure_unexpected"]
    assert 0.3 < live[0].extra["position"] < 0.5
    assert [(f.kind, f.day, f.last_day, f.days) for f in scanned] == [("closure_unexpected", TUESDAY, wednesday, 2)]


def test_a_three_week_closure_in_a_scanned_history_is_found_on_every_working_day() -> None:
    """A closure filling a third of the nearest working days must not read as a building with no working week."""
    meter = main_meter(minutes=60)
    first, last = dt.date(2024, 10, 28), dt.date(2024, 11, 15)  # three weeks, Monday to Friday

    def closed_three_weeks(day: dt.date, hour: int) -> float:
        return closed_hour(hour) if day.weekday() >= 5 or first <= day <= last else working_hour(hour)

    write_days(meter, days=140, profile=closed_three_weeks)
    infos = meter_infos(meter_ids=[meter.id])
    end = day_span(FIRST + dt.timedelta(days=139))[1]

    scanned = day_findings(infos=infos, meter_ids=[meter.id], start=day_span(FIRST)[0], end=end, until=end)

    assert [(f.kind, f.day, f.last_day, f.days) for f in scanned] == [("closure_unexpected", first, last, 15)]


def uneven_mondays(*, friday_closed: bool, monday_level: float) -> Callable[[dt.date, int], float]:
    """Mondays that differ a lot from week to week (30 or 50 kWh in working hours, as a real building's
    Mondays can), tight weekends; Monday 28 Oct at `monday_level`, and, with `friday_closed`, Friday 25 Oct
    closed (a Good Friday and an Easter Monday with a few people in)."""
    friday, monday = dt.date(2024, 10, 25), dt.date(2024, 10, 28)

    def profile(day: dt.date, hour: int) -> float:
        if day.weekday() >= 5 or (friday_closed and day == friday):
            return closed_hour(hour)
        if not 8 <= hour < 18 or day.weekday() != 0:
            return working_hour(hour)
        if day == monday:
            return monday_level
        return 30.0 if (day - FIRST).days // 7 % 2 else 50.0

    return profile


def test_a_closed_like_weekday_beside_a_clear_closure_belongs_to_it() -> None:
    """About a fifth of the way to a working day, above the tight weekends, after a closed Friday: one closure.

    Its own Mondays vary too much for it to be unlike them, so only the closure beside it tells.
    """
    meter = main_meter(minutes=60)
    friday, monday = dt.date(2024, 10, 25), dt.date(2024, 10, 28)
    write_days(meter, days=77, profile=uneven_mondays(friday_closed=True, monday_level=17.0))
    infos = meter_infos(meter_ids=[meter.id])
    end = day_span(FIRST + dt.timedelta(days=76))[1]

    live = day_kinds(meter, monday)
    scanned = day_findings(infos=infos, meter_ids=[meter.id], start=day_span(FIRST)[0], end=end, until=end)

    assert [f.kind for f in live] == ["closure_unexpected"]
    assert 0.1 < live[0].extra["position"] < 0.3
    assert [(f.kind, f.day, f.last_day, f.days) for f in scanned] == [("closure_unexpected", friday, monday, 2)]


def test_the_same_weekday_without_a_closure_beside_it_is_a_quiet_day() -> None:
    meter = main_meter(minutes=60)
    monday = dt.date(2024, 10, 28)
    write_days(meter, days=77, profile=uneven_mondays(friday_closed=False, monday_level=17.0))
    infos = meter_infos(meter_ids=[meter.id])
    end = day_span(FIRST + dt.timedelta(days=76))[1]

    scanned = day_findings(infos=infos, meter_ids=[meter.id], start=day_span(FIRST)[0], end=end, until=end)

    assert day_kinds(meter, monday) == []
    assert scanned == []


def test_a_weekday_nearer_a_working_day_is_not_found() -> None:
    meter = main_meter(minutes=60)
    write_days(meter, profile=half_open_on(TUESDAY, working_level=29.0))  # about 0.6 of the way

    assert day_kinds(meter, TUESDAY) == []


def test_a_two_week_closure_in_a_scanned_history_is_one_finding_over_its_working_days() -> None:
    meter = main_meter(minutes=60)
    first, last = dt.date(2024, 10, 21), dt.date(2024, 11, 1)  # Monday to Friday of the next week

    def closed_two_weeks(day: dt.date, hour: int) -> float:
        return closed_hour(hour) if day.weekday() >= 5 or first <= day <= last else working_hour(hour)

    write_days(meter, days=77, profile=closed_two_weeks)
    infos = meter_infos(meter_ids=[meter.id])
    end = day_span(FIRST + dt.timedelta(days=76))[1]

    scanned = day_findings(infos=infos, meter_ids=[meter.id], start=day_span(FIRST)[0], end=end, until=end)

    assert [(f.kind, f.day, f.last_day, f.days) for f in scanned] == [("closure_unexpected", first, last, 10)]
    assert (scanned[0].start, scanned[0].end) == (day_span(first)[0], day_span(last)[1])
    anomalies = anomalies_detect(meter_ids=[meter.id], start=day_span(first)[0], end=end, history_end=end)
    anomaly = Anomaly.objects.get(pk__in=anomalies.created, kind="closure_unexpected")
    assert "Monday 21 Oct to Friday 1 Nov 2024 (10 working days) ran like closed days" in anomaly.explanation


def test_the_closed_weekdays_are_learned_so_a_friday_and_saturday_weekend_is_no_anomaly() -> None:
    meter = main_meter(minutes=60)

    def friday_saturday_weekend(day: dt.date, hour: int) -> float:
        return closed_hour(hour) if day.weekday() in (4, 5) or day == TUESDAY else working_hour(hour)

    write_days(meter, profile=friday_saturday_weekend)
    sunday, friday = dt.date(2024, 10, 27), dt.date(2024, 11, 1)

    assert day_kinds(meter, sunday) == []  # a working day there, not a weekend used like one
    assert day_kinds(meter, friday) == []
    found = day_kinds(meter, TUESDAY)
    assert [f.kind for f in found] == ["closure_unexpected"]
    assert found[0].extra["like_weekday"] in (4.0, 5.0)  # "ran like a Friday" or "a Saturday"


def test_a_feeder_is_on_its_transformers_site_so_its_local_days_and_calendar_holidays_hold() -> None:
    """A cafeteria's feeder has no hostel: its site (time zone, calendar) is the one its transformer feeds."""
    transformer = TransformerFactory.create()
    main = main_meter()
    main.transformer = transformer
    main.save()
    SiteFactory.create(code="other", name="Other campus", timezone="Asia/Tokyo")  # so "the only site" cannot apply
    feeder = MeterFactory.create(
        serial="FD-CAF", kind=Meter.Kind.FEEDER, room=None, hostel=None, transformer=transformer, interval_minutes=60
    )
    write_days(feeder, profile=closed_on(TUESDAY))
    assert main.hostel is not None

    info = meter_infos(meter_ids=[feeder.id])[feeder.id]
    found = day_kinds(feeder, TUESDAY)  # local Madrid days: the whole Tuesday ran closed
    AcademicPeriod.objects.create(
        site=main.hostel.site, kind=AcademicPeriod.Kind.HOLIDAY, name="National Day", start=TUESDAY, end=TUESDAY
    )

    assert (info.site_id, info.timezone) == (main.hostel.site_id, "Europe/Madrid")
    assert [f.kind for f in found] == ["closure_unexpected"]
    assert day_kinds(feeder, TUESDAY) == []  # the site's holiday: expected


def test_a_feeder_on_a_transformer_without_hostels_is_on_the_only_site() -> None:
    main = main_meter()
    feeder = MeterFactory.create(serial="FD-SHOP", kind=Meter.Kind.FEEDER, room=None, hostel=None)
    assert main.hostel is not None

    info = meter_infos(meter_ids=[feeder.id])[feeder.id]
    assert (info.site_id, info.timezone) == (main.hostel.site_id, "Europe/Madrid")
    SiteFactory.create(code="other", name="Other campus", timezone="Asia/Tokyo")
    later = meter_infos(meter_ids=[feeder.id])[feeder.id]
    assert (later.site_id, later.timezone) == (None, "UTC")  # two sites and no transformer to tell: none


def solar_on(closed_day: dt.date) -> Callable[[dt.date, int], float]:
    """A net meter under solar panels: on closed days (and `closed_day`) they cover the building from 10 to 16,
    the load reaching 0 through low readings; on working days the building uses more than they give."""

    def profile(day: dt.date, hour: int) -> float:
        if day.weekday() < 5 and day != closed_day:
            return working_hour(hour) - (8.0 if 10 <= hour < 16 else 0.0)
        if 10 <= hour < 16:
            return 0.0
        return 1.0 if hour in (9, 16) else closed_hour(hour)

    return profile


def test_a_net_meters_solar_zeros_are_not_a_dead_meter_but_a_drop_to_zero_is() -> None:
    """Six midday hours at 0 reached through low readings are the panels covering the building; six hours at 0
    straight after a working hour at 40 kWh are a meter that stopped."""
    meter = main_meter(minutes=60)
    wednesday = TUESDAY + dt.timedelta(days=1)
    solar = solar_on(TUESDAY)

    def profile(day: dt.date, hour: int) -> float:
        return 0.0 if day == wednesday and 11 <= hour < 17 else solar(day, hour)

    write_days(meter, minutes=60, profile=profile)

    def dead(day: dt.date) -> list[Any]:
        found, _ = incidents_find(meter_ids=[meter.id], start=day_span(day)[0], end=day_span(day)[1])
        return [f for f in found if f.kind == "dead_meter"]

    assert dead(SATURDAY) == []
    assert dead(TUESDAY) == []
    stopped = dead(wednesday)
    assert len(stopped) == 1
    assert stopped[0].start.astimezone(ZONE).hour == 11


def test_a_closed_day_whose_solar_panels_cover_the_building_at_midday_is_judged() -> None:
    meter = main_meter(minutes=60)
    write_days(meter, minutes=60, profile=solar_on(TUESDAY))
    zeros = Reading.objects.filter(meter=meter, kwh=0)
    assert zeros.count() > 0

    # Its six zeros are readings, not a gap: without them the day (and every weekend) looked incomplete.
    assert [f.kind for f in day_kinds(meter, TUESDAY)] == ["closure_unexpected"]
    assert day_kinds(meter, TUESDAY + dt.timedelta(days=1)) == []


def test_zeros_the_readings_jump_to_are_a_gap_and_solar_zeros_are_readings() -> None:
    gap = np.array([20.0, 21.0, 0.0, 0.0, 0.0, 19.0, 20.0])
    solar = np.array([20.0, 3.0, 0.4, 0.0, 0.0, 0.0, 0.6, 18.0])
    dead = np.r_[20.0, 0.3, np.zeros(30), 0.2, 20.0]  # 30 hours of zeros between low readings: not the sun

    assert not real_zeros(kwh=gap, interval_minutes=60).any()
    assert real_zeros(kwh=solar, interval_minutes=60).tolist() == [False] * 3 + [True] * 3 + [False] * 2
    assert not real_zeros(kwh=dead, interval_minutes=60).any()
