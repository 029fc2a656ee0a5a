"""Each insight's figure on synthetic series with known answers."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from analytics.selectors.carbon import carbon_kg_for
from analytics.selectors.energy_figures import (
    Change,
    Period,
    Week,
    baseload_of,
    hostel_is_day,
    out_of_hours_of,
    vacation_comparison_of,
)
from meters.models import Site

TZ = ZoneInfo("Europe/Madrid")


def _day_profile(hour: int) -> float:
    """0.5 kWh from 00:00 to 06:59, 2.0 from 07:00 to 22:59, 1.0 from 23:00: 36.5 kWh a day."""
    if hour < 7:
        return 0.5
    return 2.0 if hour < 23 else 1.0


def _hours(days: int, start: dt.date = dt.date(2026, 3, 2), profile=_day_profile) -> list[tuple[dt.datetime, float]]:
    first = dt.datetime.combine(start, dt.time.min, tzinfo=TZ)
    return [(first + dt.timedelta(hours=h), profile((first + dt.timedelta(hours=h)).hour)) for h in range(24 * days)]


def test_baseload_is_the_night_floor_and_its_share_of_all_use() -> None:
    base = baseload_of(_hours(28))
    assert base is not None
    assert base.kw == pytest.approx(0.5)
    assert base.share == pytest.approx(0.5 * 24 / 36.5)
    assert base.nights == 28


def test_baseload_takes_the_median_night_so_one_busy_night_does_not_move_it() -> None:
    hours = _hours(7)
    hours = [(at, 3.0 if at.date() == dt.date(2026, 3, 4) and at.hour < 7 else kwh) for at, kwh in hours]
    base = baseload_of(hours)
    assert base is not None
    assert base.kw == pytest.approx(0.5)


def test_baseload_needs_a_night_of_four_hours() -> None:
    assert baseload_of([(dt.datetime(2026, 3, 2, h, tzinfo=TZ), 1.0) for h in range(3)]) is None
    assert baseload_of([]) is None


def test_hostel_out_of_hours_share_is_the_night_from_23_to_07() -> None:
    ooh = out_of_hours_of(_hours(14), is_open=hostel_is_day)
    assert ooh is not None
    assert ooh.share == pytest.approx((7 * 0.5 + 1.0) / 36.5)
    assert ooh.kwh_total == pytest.approx(14 * 36.5)


def test_building_out_of_hours_follows_the_sites_opening_hours_and_weekends() -> None:
    site = Site(code="s", name="S", opens_at=dt.time(8), closes_at=dt.time(18), open_weekends=False)
    flat = _hours(7, profile=lambda hour: 1.0)  # Monday 2 March to Sunday 8 March 2026
    ooh = out_of_hours_of(flat, is_open=site.is_open)
    assert ooh is not None
    assert ooh.share == pytest.approx(1 - 5 * 10 / (7 * 24))
    site.open_weekends = True
    every_day = out_of_hours_of(flat, is_open=site.is_open)
    assert every_day is not None
    assert every_day.share == pytest.approx(1 - 7 * 10 / (7 * 24))


def _daily(start: dt.date, end: dt.date, kwh: float) -> dict[dt.date, float]:
    return {start + dt.timedelta(days=i): kwh for i in range((end - start).days + 1)}


def test_vacation_is_compared_with_its_term_and_the_same_vacation_last_year() -> None:
    periods = [
        Period("vacation", "Winter 2025", dt.date(2025, 12, 20), dt.date(2026, 1, 6)),
        Period("term", "Autumn 2026", dt.date(2026, 9, 8), dt.date(2026, 12, 19)),
        Period("holiday", "All Saints", dt.date(2026, 11, 1), dt.date(2026, 11, 1)),
        Period("vacation", "Winter 2026", dt.date(2026, 12, 20), dt.date(2027, 1, 6)),
    ]
    daily = {
        **_daily(dt.date(2025, 12, 20), dt.date(2026, 1, 6), 50.0),
        **_daily(dt.date(2026, 9, 8), dt.date(2026, 12, 19), 100.0),
        **_daily(dt.date(2026, 12, 20), dt.date(2027, 1, 6), 40.0),
    }
    daily[dt.date(2026, 11, 1)] = 10.0  # a holiday inside term: not counted as term
    result = vacation_comparison_of(daily, periods, today=dt.date(2027, 1, 3))
    assert result is not None
    assert result.vacation.name == "Winter 2026"
    assert result.days == 14  # 20 December to 2 January: up to yesterday
    assert result.kwh_per_day == pytest.approx(40.0)
    assert result.term_kwh_per_day == pytest.approx(100.0)
    assert result.against_term == pytest.approx(0.4)
    assert result.last_year is not None
    assert result.last_year.name == "Winter 2025"
    assert result.against_last_year == pytest.approx(-0.2)


def test_no_vacation_begun_means_no_vacation_insight() -> None:
    periods = [Period("vacation", "Winter 2026", dt.date(2026, 12, 20), dt.date(2027, 1, 6))]
    assert (
        vacation_comparison_of(
            _daily(dt.date(2026, 12, 1), dt.date(2026, 12, 10), 5.0), periods, today=dt.date(2026, 12, 11)
        )
        is None
    )


def test_week_on_week_change_is_normalized_for_weather_and_occupied_beds() -> None:
    previous = Week(dt.date(2026, 11, 16), dt.date(2026, 11, 22), kwh=700.0, kwh_weather=700.0, bed_days=70.0)
    # Colder and fuller: 1,000 kWh raw, 840 in average weather, 80 bed-days: 10.5 against 10.0 per bed-day.
    current = Week(dt.date(2026, 11, 23), dt.date(2026, 11, 29), kwh=1000.0, kwh_weather=840.0, bed_days=80.0)
    change = Change(current=current, previous=previous)
    assert change.raw == pytest.approx(1000 / 700 - 1)
    assert change.normalized == pytest.approx(0.05)
    assert change.kwh_per_year == pytest.approx(840 * 0.05 / 1.05 * 365 / 7)


def test_without_a_weather_model_a_week_is_normalized_by_occupied_beds_only() -> None:
    week = Week(dt.date(2026, 11, 23), dt.date(2026, 11, 29), kwh=700.0, kwh_weather=None, bed_days=70.0)
    assert week.normalized == pytest.approx(10.0)
    assert Week(week.start, week.end, kwh=700.0, kwh_weather=None, bed_days=None).normalized is None


def test_carbon_uses_the_sites_own_intensity_else_the_default(settings: pytest.FixtureRequest) -> None:
    settings.DEFAULT_GRID_CARBON_KG_PER_KWH = 0.3  # type: ignore[attr-defined]
    assert carbon_kg_for(kwh=1000.0, site=Site(code="s", name="S")) == pytest.approx(300.0)
    own = SimpleNamespace(carbon_kg_per_kwh=0.05)
    assert carbon_kg_for(kwh=1000.0, site=own) == pytest.approx(50.0)  # type: ignore[arg-type]


def test_money_and_percentages_read_as_people_write_them() -> None:
    from analytics.templatetags.insights import money, signed_pct, words

    assert money(1234.5, "EUR") == "€1,234"
    assert money(-319.2, "EUR") == "-€319"
    assert money(12.0, "CHF") == "CHF 12"
    assert money(None, "EUR") == "-"
    assert signed_pct(0.123) == "+12 %"
    assert signed_pct(-0.05) == "-5 %"
    assert words("best_per_occupied_bed") == "best per occupied bed"
