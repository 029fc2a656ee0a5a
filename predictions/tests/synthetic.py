"""A small synthetic campus written straight into rollups: habit groups of room customers, hostels,
transformers with failures that follow overloads. For tests (benches use `meters.simulation`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from customers.models import Customer, Transformer, TransformerCondition, TransformerEvent
from customers.tests.factories import CustomerFactory, TransformerFactory
from meters.models import AcademicPeriod, Hostel, HourlyRollup, Meter, Room, Weather
from meters.tests.factories import HostelFactory, MeterFactory, RoomFactory, SiteFactory

HABITS: dict[str, list[int]] = {
    "evening": [18, 19, 20, 21, 22],
    "night_owl": [23, 0, 1, 2, 3],
    "morning": [6, 7, 8, 9],
    "all_day": list(range(8, 24)),
}


@dataclass
class SyntheticCampus:
    hostels: list[Hostel]
    end: dt.datetime
    truth: dict[int, str] = field(default_factory=dict)  # customer id -> habit
    transformers: list[Transformer] = field(default_factory=list)


def _profile(habit: str, hours: np.ndarray, weekend: np.ndarray, rng: np.random.Generator, level: float) -> np.ndarray:
    base = np.full(len(hours), 0.08)
    active = np.isin(hours, HABITS[habit])
    boost = 1.0 if habit != "all_day" else 0.5
    base = base + active * boost * (0.6 + 0.2 * weekend)
    return level * base * rng.lognormal(0, 0.15, len(hours))


def build_campus(
    *,
    days: int = 60,
    rooms_per_hostel: int = 8,
    hostels: int = 2,
    end: dt.datetime | None = None,
    seed: int = 7,
    hostel_codes: tuple[str, ...] = ("SA", "SB", "SC", "SD"),
) -> SyntheticCampus:
    rng = np.random.default_rng(seed)
    end = end or dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    start = end - dt.timedelta(days=days)
    site = SiteFactory.create(code="syn", timezone="Europe/London")
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
    campus = SyntheticCampus(hostels=[], end=end)
    rollups: list[HourlyRollup] = []
    habits = list(HABITS)
    for h_index in range(hostels):
        hostel = HostelFactory.create(site=site, code=hostel_codes[h_index], name=f"Synthetic {hostel_codes[h_index]}")
        transformer = TransformerFactory.create(code=f"TX-{hostel.code}", capacity_kva=3)
        campus.hostels.append(hostel)
        campus.transformers.append(transformer)
        for r in range(rooms_per_hostel):
            habit = habits[r % len(habits)]
            room = RoomFactory.create(hostel=hostel, number=f"{hostel.code}-{r:03d}")
            customer = CustomerFactory.create(name=f"Room {room.number}")
            room.customer = customer
            room.save(update_fields=["customer"])
            meter = MeterFactory.create(
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
    return campus


def build_failing_fleet(
    *, transformers: int = 12, days: int = 400, seed: int = 3, end: dt.datetime | None = None
) -> list[Transformer]:
    """Transformers with a feeder meter each; overload spells precede failures (daily rollups at noon only)."""
    rng = np.random.default_rng(seed)
    end = end or dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    start = end - dt.timedelta(days=days)
    fleet = []
    rollups: list[HourlyRollup] = []
    events: list[TransformerEvent] = []
    for i in range(transformers):
        transformer = TransformerFactory.create(code=f"FX-{i:02d}", capacity_kva=100, installed_year=1990 + 2 * i)
        meter = MeterFactory.create(
            serial=f"FEED-{i:02d}", kind=Meter.Kind.FEEDER, room=None, transformer=transformer, installed_at=start
        )
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


def build_gassing_fleet(
    *, transformers: int = 12, days: int = 400, seed: int = 5, end: dt.datetime | None = None
) -> list[Transformer]:
    """Transformers under the same steady load whose failures are announced only by gas in oil.

    Each failure is preceded by 40 days of rising dissolved gas (daily readings); the load, the
    voltage and the age say nothing. The last transformer is gassing at the end, its failure to come.
    """
    rng = np.random.default_rng(seed)
    end = end or dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    start = end - dt.timedelta(days=days)
    fleet, rollups, events, readings = [], [], [], []
    for i in range(transformers):
        transformer = TransformerFactory.create(code=f"GX-{i:02d}", capacity_kva=100, installed_year=2000)
        meter = MeterFactory.create(
            serial=f"GFEED-{i:02d}", kind=Meter.Kind.FEEDER, room=None, transformer=transformer, installed_at=start
        )
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


def customers_of(campus: SyntheticCampus) -> list[Customer]:
    return list(Customer.objects.filter(pk__in=campus.truth))


def room_of(customer: Customer) -> Room:
    return Room.objects.get(customer=customer)
