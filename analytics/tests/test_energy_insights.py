"""Insights, league, targets and opportunities on synthetic rollups with known answers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.cache import cache

from analytics.models import HostelTarget
from analytics.selectors.energy import insights_for, subject_for_hostel, subject_for_room, subject_for_site
from analytics.selectors.league import league_of, opportunities_of, resident_summary_for
from analytics.tests.insight_data import DAY_KWH, NIGHT_KWH, day_profile, load, occupy, priced
from meters.models import AcademicPeriod

TODAY = dt.date(2026, 3, 23)  # a Monday, four weeks clear of the change to summer time
START = TODAY - dt.timedelta(days=28)
LAST_WEEK = TODAY - dt.timedelta(days=7)


@pytest.fixture
def loaded(campus: Any, settings: Any) -> Any:
    settings.DEFAULT_GRID_CARBON_KG_PER_KWH = 0.25
    priced(campus.meter_a)
    priced(campus.meter_b)
    occupy(campus.room_a, 4)
    occupy(campus.room_b, 2)
    # Hostel A: the profile, 10 % more in the last week. Hostel B: 70 % of it (floor 0.35 kW) on 2 beds.
    load(campus.meter_a, start=START, days=28, scale=lambda day: 1.1 if day >= LAST_WEEK else 1.0)
    load(campus.meter_b, start=START, days=28, scale=lambda day: 0.7)
    return campus


def _by_key(campus: Any, hostel: Any) -> dict[str, Any]:
    return {i.key: i for i in insights_for(subject=subject_for_hostel(hostel), today=TODAY)}


@pytest.mark.django_db
def test_baseload_of_a_hostel_in_kw_share_cost_and_carbon(loaded: Any) -> None:
    base = _by_key(loaded, loaded.hostel_a)["baseload"]
    assert base.value == pytest.approx(0.5)  # the median night: three weeks at 0.5, one at 0.55
    assert base.evidence["share"] == pytest.approx(0.5 * 24 * 28 / (DAY_KWH * 21 + DAY_KWH * 1.1 * 7), abs=1e-4)
    assert base.kwh_per_year == pytest.approx(0.5 * 8760)
    assert base.cost_per_year == pytest.approx(0.5 * 8760 * 0.2)
    assert base.kg_co2_per_year == pytest.approx(0.5 * 8760 * 0.25)
    assert base.currency == "EUR"
    assert "125 W per occupied bed" in base.summary


@pytest.mark.django_db
def test_out_of_hours_of_a_hostel_is_its_night_use(loaded: Any) -> None:
    ooh = _by_key(loaded, loaded.hostel_b)["out_of_hours"]
    assert ooh.value == pytest.approx(NIGHT_KWH / DAY_KWH)
    assert ooh.kwh_per_year == pytest.approx(NIGHT_KWH * 0.7 * 365)
    assert ooh.cost_per_year == pytest.approx(NIGHT_KWH * 0.7 * 365 * 0.2)


@pytest.mark.django_db
def test_out_of_hours_of_a_site_follows_its_opening_hours(loaded: Any) -> None:
    site = loaded.hostel_a.site
    site.opens_at, site.closes_at, site.open_weekends = dt.time(8), dt.time(18), True
    site.save()
    subject = subject_for_site(site, [loaded.hostel_b])
    ooh = {i.key: i for i in insights_for(subject=subject, today=TODAY)}["out_of_hours"]
    open_kwh = 10 * 2.0  # 08:00 to 17:59 every day
    assert ooh.value == pytest.approx(1 - open_kwh / DAY_KWH)
    assert "outside opening hours (08:00 to 18:00, every day)" in ooh.summary


@pytest.mark.django_db
def test_week_on_week_change_per_occupied_bed(loaded: Any) -> None:
    week = _by_key(loaded, loaded.hostel_a)["week_on_week"]
    assert week.evidence["raw_change"] == pytest.approx(0.1)
    assert week.value == pytest.approx(0.1)  # same beds, no weather model: per occupied bed
    assert week.normalized == "occupied beds"
    assert week.kwh_per_year == pytest.approx(DAY_KWH * 7 * 1.1 * (0.1 / 1.1) * 365 / 7)
    assert week.cost_per_year == pytest.approx(week.kwh_per_year * 0.2)


@pytest.mark.django_db
def test_year_on_year_needs_last_years_week(loaded: Any) -> None:
    assert "year_on_year" not in _by_key(loaded, loaded.hostel_a)
    year_ago = LAST_WEEK - dt.timedelta(days=364)
    load(loaded.meter_a, start=year_ago, days=7, scale=lambda day: 1.1 * 1.25)
    cache.clear()  # insights are kept for an hour: new history shows after that
    insight = {i.key: i for i in insights_for(subject=subject_for_hostel(loaded.hostel_a), today=TODAY)}
    assert insight["year_on_year"].evidence["raw_change"] == pytest.approx(1 / 1.25 - 1)


@pytest.mark.django_db
def test_vacation_use_against_term_for_a_room(loaded: Any) -> None:
    site = loaded.hostel_a.site
    AcademicPeriod.objects.create(site=site, kind="term", name="Spring term", start=START, end=TODAY)
    AcademicPeriod.objects.create(
        site=site, kind="vacation", name="Easter", start=LAST_WEEK, end=LAST_WEEK + dt.timedelta(days=9)
    )
    vacation = {i.key: i for i in insights_for(subject=subject_for_room(loaded.room_a), today=TODAY)}["vacation"]
    assert vacation.evidence["kwh_per_day"] == pytest.approx(DAY_KWH * 1.1)
    assert vacation.evidence["term_kwh_per_day"] == pytest.approx(DAY_KWH)
    assert vacation.value == pytest.approx(1.1)
    assert vacation.kwh_per_year == pytest.approx(DAY_KWH * 1.1 * 10)  # the whole vacation, once a year
    assert "no record of the same vacation last year" in vacation.summary


@pytest.mark.django_db
def test_league_ranks_by_kwh_per_occupied_bed_and_compares_with_the_target(loaded: Any) -> None:
    HostelTarget.objects.create(hostel=loaded.hostel_b, kwh_per_bed_day=10.0)
    rows = league_of(hostels=[loaded.hostel_a, loaded.hostel_b], today=TODAY)
    assert [(r.name, r.place) for r in rows] == [("Hostel A", 1), ("Hostel B", 2)]
    assert rows[0].kwh_per_bed_day == pytest.approx(DAY_KWH * 1.1 / 4)
    assert rows[0].previous_kwh_per_bed_day == pytest.approx(DAY_KWH / 4)
    assert rows[1].kwh_per_bed_day == pytest.approx(DAY_KWH * 0.7 / 2)
    assert rows[1].against_target == pytest.approx(DAY_KWH * 0.7 / 2 / 10 - 1)


@pytest.mark.django_db
def test_opportunities_are_ranked_by_what_they_are_worth_with_their_evidence(loaded: Any) -> None:
    HostelTarget.objects.create(hostel=loaded.hostel_b, kwh_per_bed_day=10.0)
    found = opportunities_of(hostels=[loaded.hostel_a, loaded.hostel_b], today=TODAY)
    kinds = [(o.hostel, o.kind) for o in found]
    # EUR 405, 266, 175 and 66 a year.
    assert kinds == [
        ("Hostel B", "target"),
        ("Hostel A", "week_on_week"),
        ("Hostel B", "baseload"),
        ("Hostel B", "night_use"),
    ]
    target, week, baseload, night = found
    assert target.cost_per_year == pytest.approx((DAY_KWH * 0.7 / 2 - 10) * 2 * 365 * 0.2)
    # 0.35 kW on 2 beds against 0.5 kW on 4: 0.175 against 0.125 kW per bed, 40 % above.
    assert baseload.title == "Hostel B's night baseload is 40% above Hostel A's per bed: about €175 a year"
    assert baseload.cost_per_year == pytest.approx(0.05 * 2 * 8760 * 0.2)
    assert baseload.evidence["best"] == "Hostel A"
    assert night.kwh_per_year == pytest.approx((NIGHT_KWH * 0.7 / 2 - NIGHT_KWH * (21 + 7 * 1.1) / 28 / 4) * 2 * 365)
    assert week.cost_per_year == pytest.approx(DAY_KWH * 7 * 0.1 * 365 / 7 * 0.2)  # +10 % week on week


@pytest.mark.django_db
def test_a_hostel_alone_has_nobody_to_be_compared_with(loaded: Any) -> None:
    found = opportunities_of(hostels=[loaded.hostel_b], today=TODAY)
    assert not [o for o in found if o.kind in ("baseload", "night_use")]


@pytest.mark.django_db
def test_residents_summary_has_the_week_the_place_and_three_tips(loaded: Any) -> None:
    summary = resident_summary_for(hostel=loaded.hostel_a, today=TODAY + dt.timedelta(days=3))
    # Monday to Wednesday of this week (no rollups yet) against the same days of last week.
    assert summary.this_week_kwh == 0
    assert summary.last_week_kwh == pytest.approx(DAY_KWH * 1.1 * 3)
    assert summary.of == 2
    assert len(summary.tips) == 3
    monday = resident_summary_for(hostel=loaded.hostel_a, today=TODAY)  # a Monday: last week against the one before
    assert monday.change == pytest.approx(0.1)
    assert monday.place == 1


def test_profile_is_what_the_known_answers_assume() -> None:
    assert sum(day_profile(h) for h in range(24)) == DAY_KWH
