"""The insights' figures as pure functions of hourly or daily kWh (tested with known answers)."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from meters.models import AcademicPeriod

NIGHT_HOURS = range(0, 6)  # local 00:00-05:59: where a day's floor is found
HOSTEL_DAY = (dt.time(7), dt.time(23))  # hostels: use outside these hours is night use


Hour = tuple[dt.datetime, float]  # (local start of the hour, kWh in it = mean kW over it)


@dataclass(frozen=True)
class Baseload:
    kw: float  # the median of the nightly floors
    share: float  # of all energy in the hours given
    nights: int


def baseload_of(hours: Sequence[Hour]) -> Baseload | None:
    """The night-time floor: each night's lowest hour between 00:00 and 06:00, the median over nights,
    and its share of all the energy (floor kW x hours / kWh). None without a night of at least 4 hours."""
    nights: dict[dt.date, list[float]] = defaultdict(list)
    total = 0.0
    for at, kwh in hours:
        total += kwh
        if at.hour in NIGHT_HOURS:
            nights[at.date()].append(kwh)
    floors = [min(values) for values in nights.values() if len(values) >= 4]
    if not floors or total <= 0:
        return None
    kw = statistics.median(floors)
    return Baseload(kw=kw, share=min(kw * len(hours) / total, 1.0), nights=len(floors))


@dataclass(frozen=True)
class OutOfHours:
    share: float
    kwh_out: float
    kwh_total: float


def out_of_hours_of(hours: Sequence[Hour], *, is_open: Callable[[dt.datetime], bool]) -> OutOfHours | None:
    """The share of energy used while closed (`is_open` false at the hour's local start)."""
    total = sum(kwh for _, kwh in hours)
    if total <= 0:
        return None
    out = sum(kwh for at, kwh in hours if not is_open(at))
    return OutOfHours(share=out / total, kwh_out=out, kwh_total=total)


def hostel_is_day(at: dt.datetime) -> bool:
    """Hostels are lived in all week: their "hours" are 07:00 to 23:00 every day."""
    return HOSTEL_DAY[0] <= at.time() < HOSTEL_DAY[1]


@dataclass(frozen=True)
class Period:
    kind: str
    name: str
    start: dt.date
    end: dt.date


@dataclass(frozen=True)
class VacationComparison:
    vacation: Period
    kwh_per_day: float
    days: int
    term: Period | None
    term_kwh_per_day: float | None
    last_year: Period | None
    last_year_kwh_per_day: float | None

    @property
    def against_term(self) -> float | None:
        """Vacation use per day as a fraction of term use per day."""
        return self.kwh_per_day / self.term_kwh_per_day if self.term_kwh_per_day else None

    @property
    def against_last_year(self) -> float | None:
        """Change per day against the same vacation a year before (0.1 = 10 % more)."""
        return self.kwh_per_day / self.last_year_kwh_per_day - 1 if self.last_year_kwh_per_day else None


def _mean_per_day(
    daily: dict[dt.date, float], start: dt.date, end: dt.date, skip: Sequence[Period] = ()
) -> tuple[float | None, int]:
    values = [
        kwh for day, kwh in daily.items() if start <= day <= end and not any(p.start <= day <= p.end for p in skip)
    ]
    return (sum(values) / len(values), len(values)) if values else (None, 0)


VACATION_KINDS = (AcademicPeriod.Kind.VACATION, AcademicPeriod.Kind.HOLIDAY)


def vacation_comparison_of(
    daily: dict[dt.date, float], periods: Sequence[Period], *, today: dt.date
) -> VacationComparison | None:
    """The latest vacation or holiday that has begun (its days up to yesterday) against the latest term that
    began before it (its days up to yesterday, without vacation and holiday days) and against the period of
    the same kind that began 11 to 13 months earlier, in kWh per day."""
    ordered = sorted(periods, key=lambda p: p.start)
    begun = [p for p in ordered if p.kind in VACATION_KINDS and p.start < today]
    for vacation in reversed(begun):
        per_day, days = _mean_per_day(daily, vacation.start, min(vacation.end, today - dt.timedelta(days=1)))
        if per_day is None:
            continue
        terms = [p for p in ordered if p.kind == AcademicPeriod.Kind.TERM and p.start < vacation.start]
        term = terms[-1] if terms else None
        term_per_day = (
            _mean_per_day(daily, term.start, min(term.end, today - dt.timedelta(days=1)), skip=begun)[0]
            if term
            else None
        )
        last = [
            p
            for p in ordered
            if p.kind == vacation.kind and 330 <= (vacation.start - p.start).days <= 400 and p is not vacation
        ]
        last_year = last[-1] if last else None
        last_per_day = _mean_per_day(daily, last_year.start, last_year.end)[0] if last_year else None
        return VacationComparison(vacation, per_day, days, term, term_per_day, last_year, last_per_day)
    return None


@dataclass(frozen=True)
class Week:
    """Energy of whole local days, with the same corrected to average weather and the occupied bed-days."""

    start: dt.date
    end: dt.date
    kwh: float
    kwh_weather: float | None
    bed_days: float | None

    @property
    def normalized(self) -> float | None:
        """kWh per occupied bed-day, in average weather where a weather model exists; None without occupants."""
        kwh = self.kwh_weather if self.kwh_weather is not None else self.kwh
        return kwh / self.bed_days if self.bed_days else None


@dataclass(frozen=True)
class Change:
    current: Week
    previous: Week

    @property
    def raw(self) -> float | None:
        return self.current.kwh / self.previous.kwh - 1 if self.previous.kwh > 0 else None

    @property
    def normalized(self) -> float | None:
        cur, prev = self.current.normalized, self.previous.normalized
        return cur / prev - 1 if cur is not None and prev else None

    @property
    def kwh_per_year(self) -> float | None:
        """What the change would add in a year at the current occupancy (weather removed), else raw."""
        change = self.normalized
        if change is not None:
            kwh = self.current.kwh_weather if self.current.kwh_weather is not None else self.current.kwh
            return kwh * change / (1 + change) * 365 / 7
        raw = self.raw
        return (self.current.kwh - self.previous.kwh) * 365 / 7 if raw is not None else None
