"""Small campuses written straight into hourly rollups, each with a known answer: room customers in
habit groups (for segmentation and forecasting), and transformer fleets whose failures follow
overloads or are announced only by gas in oil (for failure risk).

`campus_simulate` builds a realistic estate where these signals are mixed with everything else;
these isolate one signal each, at a size a model trains on in seconds, so a model that cannot find
it fails its check.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

from customers.models import Customer, Tariff, Transformer, TransformerCondition, TransformerEvent
from meters.ingest.hostel_rollups import hostel_rollups_rebuild
from meters.models import AcademicPeriod, Hostel, HourlyRollup, Meter, Room, Site, Weather

HABITS: dict[str, list[int]] = {
    "evening": [18, 19, 20, 21, 22],
    "night_owl": [23, 0, 1, 2, 3],
    "morning": [6, 7, 8, 9],
    "all_day": list(range(8, 24)),
}


@dataclass
class HabitCampus:
    """What was built, and each room customer's habit (the segmentation's right answer)."""

    hostels: list[Hostel]
    end: dt.datetime
    truth: dict[int, str] = field(default_factory=dict)  # customer id -> habit
    transformers: list[Transformer] = field(default_factory=list)

    def customers(self) -> list[Customer]:
        return list(Customer.objects.filter(pk__in=self.truth))


def _tariff() -> Tariff:
    return Tariff.objects.get_or_create(name="Synthetic flat", defaults={"price_per_kwh": Decimal("0.20")})[0]


def _transformer(*, code: str, capacity_kva: int, installed_year: int = 2010) -> Transformer:
    return Transformer.objects.create(code=code, capacity_kva=capacity_kva, installed_year=installed_year)


def _feeder(*, serial: str, transformer: Transformer, installed_at: dt.datetime) -> Meter:
    return Meter.objects.create(
        serial=serial, kind=Meter.Kind.FEEDER, room=None, transformer=transformer, installed_at=installed_at
    )


def _profile(habit: str, hours: np.ndarray, weekend: np.ndarray, rng: np.random.Generator, level: float) -> np.ndarray:
    base = np.full(len(hours), 0.08)
    active = np.isin(hours, HABITS[habit])
    boost = 1.0 if habit != "all_day" else 0.5
    base = base + active * boost * (0.6 + 0.2 * weekend)
    return level * base * rng.lognormal(0, 0.15, len(hours))


def habit_campus_build(
    *,
    days: int = 60,
    rooms_per_hostel: int = 8,
    hostels: int = 2,
    end: dt.datetime | None = None,
    seed: int = 7,
    hostel_codes: tuple[str, ...] = ("SA", "SB", "SC", "SD"),
) -> HabitCampus:
    """Hostels of one-bed-pair rooms whose customers follow one of HABITS each, in hourly rollups over
    `days` to `end`, with weather and a reading week."""
    rng = np.random.default_rng(seed)
    end = end or dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    start = end - dt.timedelta(days=days)
    site = Site.objects.get_or_create(
        code="syn",
        defaults={"name": "Synthetic campus", "timezone": "Europe/London", "latitude": 40.4, "longitude": -3.7},
    )[0]
    hours = [start + dt.timedelta(hours=i) for i in range(days * 24)]
    hour_of_day = np.array([h.hour for h in hours])
    weekend = np.array([h.weekday() >= 5 for h in hours], dtype=float)
    temp = 8 + 4 * np.sin(2 * np.pi * (hour_of_day - 9) / 24) + rng.normal(0, 1, len(hours))
    Weather.objects.bulk_create(
        Weather(site=site, timestamp=h, temperature_c=float(t)) for h, t in zip(hours, temp, strict=True)
    )
    AcademicPeriod.objects.create(
        site=site,
        kind="vacation",
        name="Reading week",
        start=(start + dt.timedelta(days=20)).date(),
        end=(start + dt.timedelta(days=26)).date(),
    )
    campus = HabitCampus(hostels=[], end=end)
    tariff = _tariff()
    rollups: list[HourlyRollup] = []
    habits = list(HABITS)
    for h_index in range(hostels):
        code = hostel_codes[h_index]
        hostel = Hostel.objects.create(site=site, code=code, name=f"Synthetic {code}", floors=3)
        transformer = _transformer(code=f"TX-{hostel.code}", capacity_kva=3)
        campus.hostels.append(hostel)
        campus.transformers.append(transformer)
        for r in range(rooms_per_hostel):
            habit = habits[r % len(habits)]
            customer = Customer.objects.create(
                account_code=f"SYN-{hostel.code}-{r:03d}",
                name=f"Room {hostel.code}-{r:03d}",
                kind=Customer.Kind.HOSTEL_ROOM,
                tariff=tariff,
            )
            room = Room.objects.create(
                hostel=hostel, number=f"{hostel.code}-{r:03d}", floor=0, bed_type=2, capacity=2, customer=customer
            )
            meter = Meter.objects.create(
                serial=f"SYN-{hostel.code}-{r:03d}",
                room=room,
                customer=customer,
                transformer=transformer,
                interval_minutes=60,
                installed_at=start,
            )
            campus.truth[customer.pk] = habit
            kwh = _profile(habit, hour_of_day, weekend, rng, level=rng.uniform(0.8, 1.2))
            rollups += [
                HourlyRollup(
                    meter=meter,
                    hour=h,
                    kwh=float(v),
                    readings=1,
                    voltage_avg=230.0,
                    voltage_min=225.0,
                    voltage_max=235.0,
                    power_factor_avg=0.95,
                )
                for h, v in zip(hours, kwh, strict=True)
            ]
    HourlyRollup.objects.bulk_create(rollups, batch_size=5000)
    hostel_rollups_rebuild(hostel_ids=[hostel.pk for hostel in campus.hostels])
    return campus


def failing_fleet_build(
    *, transformers: int = 12, days: int = 400, seed: int = 3, end: dt.datetime | None = None
) -> list[Transformer]:
    """Transformers with a feeder meter each; overload spells precede failures (daily rollups at noon only)."""
    rng = np.random.default_rng(seed)
    end = end or dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    start = end - dt.timedelta(days=days)
    fleet: list[Transformer] = []
    rollups: list[HourlyRollup] = []
    events: list[TransformerEvent] = []
    for i in range(transformers):
        transformer = _transformer(code=f"FX-{i:02d}", capacity_kva=100, installed_year=1990 + 2 * i)
        meter = _feeder(serial=f"FEED-{i:02d}", transformer=transformer, installed_at=start)
        fleet.append(transformer)
        load = rng.uniform(40, 70)
        day = 0
        while day < days:
            overload = rng.random() < 0.08 + 0.01 * i
            span = int(rng.integers(5, 15))
            for d in range(day, min(days, day + span)):
                at = start + dt.timedelta(days=d, hours=12)
                kw = load * (1.6 if overload else 1.0) * rng.lognormal(0, 0.05)
                for k in range(4):  # four hours around noon
                    rollups.append(
                        HourlyRollup(
                            meter=meter,
                            hour=at + dt.timedelta(hours=k),
                            kwh=kw,
                            readings=1,
                            voltage_min=200.0 if overload else 228.0,
                            voltage_max=240.0,
                            power_factor_avg=0.85 if overload else 0.95,
                        )
                    )
            if overload and rng.random() < 0.75:
                events.append(
                    TransformerEvent(
                        transformer=transformer,
                        kind="failure",
                        occurred_at=start + dt.timedelta(days=day + span + int(rng.integers(1, 20))),
                    )
                )
            day += span
    HourlyRollup.objects.bulk_create(rollups, batch_size=5000, ignore_conflicts=True)
    TransformerEvent.objects.bulk_create(events)
    return fleet


def gassing_fleet_build(
    *, transformers: int = 12, days: int = 400, seed: int = 5, end: dt.datetime | None = None
) -> list[Transformer]:
    """Transformers under the same steady load whose failures are announced only by gas in oil.

    Each failure is preceded by 40 days of rising dissolved gas (daily readings); the load, the
    voltage and the age say nothing. The last transformer is gassing at the end, its failure to come.
    """
    rng = np.random.default_rng(seed)
    end = end or dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    start = end - dt.timedelta(days=days)
    fleet: list[Transformer] = []
    rollups: list[HourlyRollup] = []
    events: list[TransformerEvent] = []
    readings: list[TransformerCondition] = []
    for i in range(transformers):
        transformer = _transformer(code=f"GX-{i:02d}", capacity_kva=100, installed_year=2000)
        meter = _feeder(serial=f"GFEED-{i:02d}", transformer=transformer, installed_at=start)
        fleet.append(transformer)
        failures = sorted(int(d) for d in rng.choice(np.arange(60, days - 40), size=int(rng.integers(1, 4))))
        if i == transformers - 1:
            failures = [days + 5]
        gas = np.full(days, 150.0)
        for failure in failures:
            onset = failure - 40
            ramp = np.clip((np.arange(days) - onset) / 40, 0, 1) * (np.arange(days) <= failure)
            gas += 1500 * ramp**2
            if failure < days:
                events.append(
                    TransformerEvent(
                        transformer=transformer,
                        kind="failure",
                        occurred_at=start + dt.timedelta(days=failure, hours=14),
                    )
                )
        for d in range(days):
            at = start + dt.timedelta(days=d, hours=12)
            rollups.append(
                HourlyRollup(
                    meter=meter,
                    hour=at,
                    kwh=50.0 * rng.lognormal(0, 0.05),
                    readings=1,
                    voltage_min=228.0,
                    voltage_max=236.0,
                    power_factor_avg=0.95,
                )
            )
            readings.append(
                TransformerCondition(
                    transformer=transformer,
                    measured_at=at + dt.timedelta(hours=2),
                    dissolved_gas_ppm=gas[d] * rng.lognormal(0, 0.05),
                )
            )
    HourlyRollup.objects.bulk_create(rollups, batch_size=5000)
    TransformerEvent.objects.bulk_create(events)
    TransformerCondition.objects.bulk_create(readings, batch_size=5000)
    return fleet
