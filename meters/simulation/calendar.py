"""The academic calendar of a Spanish campus, and who lives in (and is present in) each room."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from meters.simulation.rng import rng_for

TERM, EXAMS, VACATION, HOLIDAY = 0, 1, 2, 3
KIND_NAMES = {TERM: "term", EXAMS: "exams", VACATION: "vacation", HOLIDAY: "holiday"}

# National and Madrid public holidays that fall on the same date every year.
FIXED_HOLIDAYS = {
    (1, 1): "New Year",
    (1, 6): "Epiphany",
    (5, 1): "Labour Day",
    (5, 2): "Community of Madrid Day",
    (8, 15): "Assumption",
    (10, 12): "National Day",
    (11, 1): "All Saints",
    (12, 6): "Constitution Day",
    (12, 8): "Immaculate Conception",
    (12, 25): "Christmas Day",
}


def easter(year: int) -> dt.date:
    """Gregorian Easter Sunday (anonymous algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month = (h + ell - 7 * m + 114) // 31
    day = (h + ell - 7 * m + 114) % 31 + 1
    return dt.date(year, month, day)


def _year_periods(year: int) -> list[tuple[int, str, dt.date, dt.date]]:
    """Periods of the academic year that starts in September of `year`."""
    e = easter(year + 1)
    return [
        (TERM, f"Autumn term {year}", dt.date(year, 9, 8), dt.date(year, 12, 19)),
        (VACATION, f"Christmas vacation {year}", dt.date(year, 12, 20), dt.date(year + 1, 1, 7)),
        (EXAMS, f"January exams {year + 1}", dt.date(year + 1, 1, 8), dt.date(year + 1, 1, 30)),
        (TERM, f"Spring term {year + 1}", dt.date(year + 1, 1, 31), e - dt.timedelta(days=4)),
        (VACATION, f"Easter vacation {year + 1}", e - dt.timedelta(days=3), e + dt.timedelta(days=5)),
        (TERM, f"Spring term {year + 1} (after Easter)", e + dt.timedelta(days=6), dt.date(year + 1, 5, 22)),
        (EXAMS, f"June exams {year + 1}", dt.date(year + 1, 5, 23), dt.date(year + 1, 6, 19)),
        (VACATION, f"Summer vacation {year + 1}", dt.date(year + 1, 6, 20), dt.date(year + 1, 9, 7)),
    ]


@dataclass(frozen=True)
class Period:
    kind: int
    name: str
    start: dt.date
    end: dt.date  # inclusive


def calendar_periods(start: dt.date, end: dt.date) -> list[Period]:
    """Terms, exams, vacations and public holidays overlapping [start, end]."""
    periods = [
        Period(kind, name, first, last)
        for year in range(start.year - 1, end.year + 1)
        for kind, name, first, last in _year_periods(year)
        if last >= start and first <= end
    ]
    for year in range(start.year, end.year + 1):
        holidays = dict(FIXED_HOLIDAYS)
        e = easter(year)
        for day, name in ((e - dt.timedelta(days=3), "Maundy Thursday"), (e - dt.timedelta(days=2), "Good Friday")):
            holidays[(day.month, day.day)] = name
        for (month, day_of_month), name in holidays.items():
            day = dt.date(year, month, day_of_month)
            if start <= day <= end:
                periods.append(Period(HOLIDAY, f"{name} {year}", day, day))
    return sorted(periods, key=lambda p: (p.start, p.kind))


def day_kinds(dates: list[dt.date]) -> np.ndarray:
    """Kind of each day: a holiday wins over the period it falls in."""
    if not dates:
        return np.zeros(0, dtype=np.int8)
    kinds = np.full(len(dates), TERM, dtype=np.int8)
    first = dates[0]
    for period in calendar_periods(first, dates[-1]):
        lo = max((period.start - first).days, 0)
        hi = min((period.end - first).days, len(dates) - 1)
        if period.kind == HOLIDAY or kinds[lo] != HOLIDAY:
            kinds[lo : hi + 1] = np.where(kinds[lo : hi + 1] == HOLIDAY, HOLIDAY, period.kind)
    return kinds


@dataclass(frozen=True)
class Roster:
    """Per room and local day: residents on the roster, and residents actually present."""

    enrolled: np.ndarray  # (rooms, days) int8
    present: np.ndarray  # (rooms, days) int8
    vacant_rooms: np.ndarray  # (rooms,) bool: nobody all period


def roster_build(
    *, seed: int, room_keys: list[str], capacities: np.ndarray, dates: list[dt.date], kinds: np.ndarray
) -> Roster:
    """Full rooms in term, late arrivals, most residents away in vacations, weekend departures, vacant rooms."""
    rooms, days = len(room_keys), len(dates)
    enrolled = np.zeros((rooms, days), dtype=np.int8)
    present = np.zeros((rooms, days), dtype=np.int8)
    vacant = np.zeros(rooms, dtype=bool)
    weekday = np.array([d.weekday() for d in dates], dtype=np.int8)
    in_session = (kinds == TERM) | (kinds == EXAMS) | (kinds == HOLIDAY)
    # Each day's index of the session block it belongs to, to stagger late arrivals after a vacation.
    block_start = np.zeros(days, dtype=np.int32)
    for i in range(1, days):
        block_start[i] = block_start[i - 1] if in_session[i] == in_session[i - 1] else i
    since_block = np.arange(days) - block_start
    if days and in_session[0]:
        since_block[block_start == 0] += 30  # a simulation that starts mid-term finds residents settled in
    away_weekend = (weekday >= 4) & (kinds == TERM)  # Friday to Sunday
    for r, key in enumerate(room_keys):
        rng = rng_for(seed, "roster", key)
        capacity = int(capacities[r])
        if rng.random() < 0.07:
            vacant[r] = True
            rng.random(size=(capacity, days))  # keep the stream layout identical
            continue
        beds = capacity - int(rng.random() < 0.18)  # some beds are never let
        arrival_delay = rng.geometric(0.35, size=capacity) - 1  # days late after each vacation
        stays_in_vacation = rng.random(capacity) < 0.12
        goes_home_weekends = rng.random(capacity) < 0.45
        draws = rng.random(size=(capacity, days))
        for person in range(beds):
            on_roster = np.where(in_session, since_block >= arrival_delay[person], stays_in_vacation[person])
            enrolled[r] += on_roster.astype(np.int8)
            away = goes_home_weekends[person] & away_weekend & (draws[person] < 0.7)
            away |= draws[person] < 0.03  # the odd night elsewhere
            present[r] += (on_roster & ~away).astype(np.int8)
    return Roster(enrolled=enrolled, present=present, vacant_rooms=vacant)
