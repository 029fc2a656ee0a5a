"""A compact labelled campus: one incident of each asked kind, each on a meter of its own.

`campus_simulate` draws incidents at their real rates over a realistic estate; this builds a fixed,
small campus (a few rooms per hostel and a main meter each, 15-minute readings, weather, occupancy,
term) where every asked kind happens exactly once, in the last `incident_days`, and is recorded
as `meters.Incident` ground truth, so detection can be checked kind by kind in seconds. It writes
the tables `campus_simulate` writes and names its incidents as `meters.simulation.incidents` does.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from customers.models import Customer, Tariff
from meters.models import AcademicPeriod, Hostel, Incident, Meter, Occupancy, Reading, Room, Site, Weather
from meters.services import rollups_rebuild
from meters.simulation.incidents import ALL_KINDS, DAY
from meters.simulation.timeline import STEP_SECONDS

# Every kind the simulator knows but the two that change the meter's register or the meter itself.
LABELLED_KINDS = tuple(kind for kind in ALL_KINDS if kind not in ("register_reset", "meter_replacement"))
STEP = dt.timedelta(seconds=STEP_SECONDS)
HOURLY_SHAPE = np.array([3, 2, 1.5, 1, 1, 1, 1.5, 3, 4, 3, 2.5, 2.5, 3, 3, 2.5, 2.5, 3, 4, 5, 6, 6, 5.5, 5, 4]) / 3.2


@dataclass
class LabelledCampus:
    """What was built."""

    site: Site
    hostels: list[Hostel]
    meters: list[Meter]
    start: dt.datetime
    end: dt.datetime
    incidents: list[Incident]


def labelled_campus_build(
    *,
    seed: int = 1,
    days: int = 21,
    hostels: int = 2,
    rooms_per_hostel: int = 6,
    incident_days: int = 7,
    kinds: tuple[str, ...] = LABELLED_KINDS,
    start: dt.datetime | None = None,
    code: str = "syn",
) -> LabelledCampus:
    """Build the campus; incidents (one of each kind, on different meters) fall in the last `incident_days`."""
    rng = np.random.default_rng(seed)
    start = start or dt.datetime(2025, 3, 3, tzinfo=dt.UTC)
    end = start + dt.timedelta(days=days)
    n = days * DAY
    ts = [start + STEP * i for i in range(n)]
    site = Site.objects.create(
        code=code, name=f"Synthetic {code}", timezone="Europe/Madrid", latitude=40.4, longitude=-3.7
    )
    tariff, _ = Tariff.objects.get_or_create(name="Synthetic flat", defaults={"price_per_kwh": Decimal("0.20")})
    AcademicPeriod.objects.create(site=site, kind="term", name="Spring term", start=start.date(), end=end.date())
    hours = np.arange(n) / 4.0
    local_hour = (hours + 1) % 24  # Madrid is UTC+1 in March
    temp_hourly = 14 + 6 * np.sin(2 * np.pi * (np.arange(days * 24) / 24 - 0.375)) + rng.normal(0, 1.0, days * 24)
    Weather.objects.bulk_create(
        Weather(site=site, timestamp=start + dt.timedelta(hours=h), temperature_c=float(t), source="simulated")
        for h, t in enumerate(temp_hourly)
    )
    temp = np.repeat(temp_hourly, 4)
    shape = HOURLY_SHAPE[np.floor(local_hour).astype(int)]
    built_hostels, meters, series = [], [], {}
    for h in range(hostels):
        customer = Customer.objects.create(
            account_code=f"{code}-H{h}", name=f"Hostel {h}", kind=Customer.Kind.HOSTEL, tariff=tariff
        )
        hostel = Hostel.objects.create(
            site=site, code=f"{code}{h}", name=f"Hostel {chr(65 + h)}", floors=2, customer=customer
        )
        built_hostels.append(hostel)
        room_total = np.zeros(n)
        for r in range(rooms_per_hostel):
            bed = (2, 4, 6)[r % 3]
            room = Room.objects.create(
                hostel=hostel, number=f"{chr(65 + h)}-{101 + r}", floor=r % 2, bed_type=bed, capacity=bed
            )
            occupants = 0 if r == rooms_per_hostel - 1 else bed - int(rng.integers(0, 2))
            Occupancy.objects.create(room=room, start=start - dt.timedelta(days=30), occupants=occupants)
            meter = Meter.objects.create(
                serial=f"{code}-RM-{h}{r:02d}", room=room, installed_at=start - dt.timedelta(days=60), rated_kw=8
            )
            habit = rng.uniform(0.7, 1.3)
            mean = 0.012 + occupants * 0.018 * habit * shape * (1 + 0.04 * np.maximum(temp - 20, 0))
            kwh = mean * rng.gamma(8.0, 1 / 8.0, n)
            series[meter.id] = kwh
            meters.append(meter)
            room_total += kwh
        main = Meter.objects.create(
            serial=f"{code}-MAIN-{h}",
            kind=Meter.Kind.HOSTEL_MAIN,
            hostel=hostel,
            installed_at=start - dt.timedelta(days=60),
            rated_kw=80,
        )
        common = 0.25 * shape * rng.gamma(30.0, 1 / 30.0, n)
        series[main.id] = room_total + common
        meters.append(main)
    volts = {m.id: rng.normal(230, 1.5, n) for m in meters}
    pfs = {m.id: np.clip(rng.normal(0.94, 0.015, n), 0.85, 1.0) for m in meters}
    incidents = _inject(
        rng=rng,
        kinds=kinds,
        meters=meters,
        series=series,
        volts=volts,
        pfs=pfs,
        ts=ts,
        incident_days=incident_days,
        n=n,
    )
    Reading.objects.bulk_create(
        (
            Reading(
                meter_id=m.id,
                timestamp=ts[i],
                kwh=round(float(series[m.id][i]), 4),
                voltage=round(float(volts[m.id][i]), 1),
                current=round(float(series[m.id][i]) * 4 * 1000 / max(float(volts[m.id][i]), 1), 2),
                power_factor=round(float(pfs[m.id][i]), 3),
            )
            for m in meters
            for i in range(n)
        ),
        batch_size=5000,
    )
    rollups_rebuild(meter_ids=[m.id for m in meters], start=start, end=end)
    return LabelledCampus(site=site, hostels=built_hostels, meters=meters, start=start, end=end, incidents=incidents)


def _inject(
    *,
    rng: np.random.Generator,
    kinds: tuple[str, ...],
    meters: list[Meter],
    series: dict[int, np.ndarray],
    volts: dict[int, np.ndarray],
    pfs: dict[int, np.ndarray],
    ts: list[dt.datetime],
    incident_days: int,
    n: int,
) -> list[Incident]:
    rooms = [m for m in meters if m.kind == Meter.Kind.ROOM]
    mains = [m for m in meters if m.kind == Meter.Kind.HOSTEL_MAIN]
    vacant = [m for m in rooms if not Occupancy.objects.filter(room_id=m.room_id or 0, occupants__gt=0).exists()]
    occupied = [m for m in rooms if m not in vacant]
    first = n - incident_days * DAY
    incidents = []
    used: list[int] = []

    def pick(pool: list[Meter]) -> Meter:
        free = [m for m in pool if m.id not in used] or pool
        meter = free[int(rng.integers(0, len(free)))]
        used.append(meter.id)
        return meter

    def local_step(day_offset: int, local_hour: int) -> int:
        return first + day_offset * DAY + ((local_hour - 1) % 24) * 4

    for number, kind in enumerate(kinds):
        day = 1 + number % max(incident_days - 4, 1)
        s = local_step(day, 14)
        length = 16
        magnitude: float | None = None
        if kind == "main_imbalance":
            meter = pick(mains)
            length, magnitude = 24, 0.5
            series[meter.id][s : s + length] += magnitude
        elif kind == "vacant_usage":
            meter = pick(vacant or rooms)
            length, magnitude = 20, 0.3
            series[meter.id][s : s + length] += magnitude
        else:
            meter = pick(occupied)
            kwh = series[meter.id]
            if kind == "spike":
                length, magnitude = 1, 1.5
                kwh[s] += magnitude
            elif kind == "sustained_excess":
                length, magnitude = 24, 0.35
                kwh[s : s + length] += magnitude
            elif kind == "night_usage":
                s = local_step(day, 1)
                length, magnitude = 14, 0.35
                kwh[s : s + length] += magnitude
            elif kind == "drift":
                s, length, magnitude = local_step(day, 0), 4 * DAY, 2.0
                kwh[s : s + length] *= np.linspace(1.0, magnitude, length)
            elif kind == "flat_line":
                length = 24
                kwh[s : s + length] = round(float(kwh[s - 1]), 4) or 0.05
                volts[meter.id][s : s + length] = round(float(volts[meter.id][s - 1]), 1)
                pfs[meter.id][s : s + length] = round(float(pfs[meter.id][s - 1]), 3)
            elif kind == "dead_meter":
                length = 24
                kwh[s : s + length] = 0.0
            elif kind == "voltage_sag":
                length, magnitude = 3, 196.0
                volts[meter.id][s : s + length] = magnitude
            elif kind == "voltage_swell":
                length, magnitude = 3, 262.0
                volts[meter.id][s : s + length] = magnitude
            elif kind == "low_power_factor":
                length, magnitude = 16, 0.62
                pfs[meter.id][s : s + length] = magnitude
        incidents.append(
            Incident.objects.create(meter=meter, kind=kind, start=ts[s], end=ts[s] + STEP * length, magnitude=magnitude)
        )
    return incidents
