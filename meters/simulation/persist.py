"""Saving the planned estate, roster, weather, incidents and transformer history through the ORM (small tables)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np

from customers.models import (
    Customer,
    CustomerTruth,
    Tariff,
    TariffBand,
    Transformer,
    TransformerCondition,
    TransformerEvent,
)
from meters.models import AcademicPeriod, Hostel, Incident, Meter, MeterEvent, Occupancy, Room, Site, Weather
from meters.simulation.calendar import KIND_NAMES, Roster, calendar_periods
from meters.simulation.condition import ConditionPlan
from meters.simulation.estate import EstatePlan
from meters.simulation.incidents import IncidentPlan
from meters.simulation.network import TransformerEventPlan
from meters.simulation.timeline import Timeline
from meters.simulation.weather import WeatherSeries

BATCH = 2000


@dataclass
class EstateIds:
    """Database ids of the planned objects, by their index in the plan."""

    site: Site  # the first of `sites`
    sites: list[Site]
    hostels: list[Hostel]
    rooms: list[Room]
    meters: list[int]
    transformers: list[Transformer]


def _tariffs() -> tuple[Tariff, Tariff]:
    flat, _ = Tariff.objects.get_or_create(
        name="Campus flat", defaults={"price_per_kwh": Decimal("0.1500"), "currency": "EUR"}
    )
    tou, created = Tariff.objects.get_or_create(
        name="Commercial time of use",
        defaults={"kind": Tariff.Kind.TIME_OF_USE, "price_per_kwh": Decimal("0.1100"), "currency": "EUR"},
    )
    if created:
        TariffBand.objects.create(
            tariff=tou, name="Peak", days="weekdays", start=dt.time(10), end=dt.time(14), price_per_kwh=Decimal("0.21")
        )
        TariffBand.objects.create(
            tariff=tou, name="Shoulder", days="all", start=dt.time(18), end=dt.time(22), price_per_kwh=Decimal("0.16")
        )
    return flat, tou


def estate_save(*, plan: EstatePlan, timeline: Timeline, roster: Roster) -> EstateIds:
    """Create the site and everything on it; bulk inserts keep this to a few queries per table."""
    flat, tou = _tariffs()
    sites = [
        Site.objects.create(
            code=s.code,
            name=s.name,
            timezone=plan.timezone,
            latitude=plan.latitude,
            longitude=plan.longitude,
            currency="EUR",
        )
        for s in plan.sites
    ]
    periods = calendar_periods(timeline.start_date, timeline.dates[-1] if timeline.days else timeline.start_date)
    AcademicPeriod.objects.bulk_create(
        AcademicPeriod(site=site, kind=KIND_NAMES[p.kind], name=p.name, start=p.start, end=p.end)
        for site in sites
        for p in periods
    )
    customers = Customer.objects.bulk_create(
        [
            Customer(
                account_code=c.account_code,
                name=c.name,
                kind=c.kind,
                tariff=flat if c.kind in ("hostel_room", "hostel", "staff_residence") else tou,
                has_ev_charging=c.has_ev_charging,
            )
            for c in plan.customers
        ],
        batch_size=BATCH,
    )
    CustomerTruth.objects.bulk_create(
        [
            CustomerTruth(customer=customer, habit=c.habit, seed=plan.seed)
            for customer, c in zip(customers, plan.customers, strict=True)
        ],
        batch_size=BATCH,
    )
    transformers = Transformer.objects.bulk_create(
        Transformer(
            code=t.code, name=t.name, capacity_kva=t.capacity_kva, installed_year=t.installed_year, location=t.location
        )
        for t in plan.transformers
    )
    hostels = Hostel.objects.bulk_create(
        Hostel(site=sites[h.site], code=h.code, name=h.name, floors=h.floors, customer=customers[h.customer])
        for h in plan.hostels
    )
    rooms = Room.objects.bulk_create(
        [
            Room(
                hostel=hostels[r.hostel],
                number=r.number,
                floor=r.floor,
                bed_type=r.beds,
                capacity=r.beds,
                area_m2=r.area_m2,
                customer=customers[r.customer],
            )
            for r in plan.rooms
        ],
        batch_size=BATCH,
    )
    meters = Meter.objects.bulk_create(
        [
            Meter(
                serial=m.serial,
                kind=m.kind,
                hostel=hostels[m.hostel] if m.hostel is not None else None,
                room=rooms[m.room] if m.room is not None else None,
                customer=customers[m.customer] if m.customer is not None else None,
                transformer=transformers[m.transformer],
                rated_kw=m.rated_kw,
                installed_at=m.installed_at,
                removed_at=m.removed_at,
                status=Meter.Status.REMOVED if m.removed_at else Meter.Status.ACTIVE,
            )
            for m in plan.meters
        ],
        batch_size=BATCH,
    )
    MeterEvent.objects.bulk_create(
        [
            MeterEvent(
                meter=meter,
                kind=MeterEvent.Kind.REPLACE if m.replaces is not None else MeterEvent.Kind.INSTALL,
                occurred_at=m.installed_at,
                replaces=meters[m.replaces] if m.replaces is not None else None,
                note="Simulated campus.",
            )
            for meter, m in zip(meters, plan.meters, strict=True)
        ],
        batch_size=BATCH,
    )
    _occupancy_save(rooms=rooms, timeline=timeline, enrolled=roster.enrolled)
    return EstateIds(sites[0], sites, hostels, rooms, [m.pk for m in meters], transformers)


def _occupancy_save(*, rooms: list[Room], timeline: Timeline, enrolled: np.ndarray) -> None:
    """One roster row per run of days with the same number of residents."""
    tz = ZoneInfo(timeline.timezone)
    midnights = [dt.datetime.combine(d, dt.time(), tzinfo=tz) for d in timeline.dates]
    rows: list[Occupancy] = []
    for r, room in enumerate(rooms):
        series = enrolled[r]
        changes = np.flatnonzero(np.diff(series)) + 1
        starts = np.concatenate(([0], changes))
        ends = np.concatenate((changes, [len(series)]))
        for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
            end = midnights[e] if e < len(midnights) else None
            rows.append(Occupancy(room=room, start=midnights[s], end=end, occupants=int(series[s])))
    Occupancy.objects.bulk_create(rows, batch_size=BATCH)


def weather_save(*, site: Site, weather: WeatherSeries) -> int:
    """Hourly simulated weather rows."""
    stamps = [dt.datetime.fromtimestamp(int(e), tz=dt.UTC) for e in weather.epoch]
    rows = [
        Weather(
            site=site,
            timestamp=stamp,
            temperature_c=float(weather.temperature_c[i]),
            humidity_pct=float(weather.humidity_pct[i]),
            rainfall_mm=float(weather.rainfall_mm[i]),
            wind_kmh=float(weather.wind_kmh[i]),
            pressure_hpa=float(weather.pressure_hpa[i]),
            irradiance_wm2=float(weather.irradiance_wm2[i]),
            source=Weather.Source.SIMULATED,
        )
        for i, stamp in enumerate(stamps)
    ]
    Weather.objects.bulk_create(rows, batch_size=BATCH)
    return len(rows)


def incidents_save(*, incidents: list[IncidentPlan], meter_ids: list[int], timeline: Timeline) -> int:
    Incident.objects.bulk_create(
        [
            Incident(
                meter_id=meter_ids[i.meter],
                kind=i.kind,
                start=timeline.at(i.start),
                end=timeline.at(i.end),
                magnitude=i.magnitude,
                source=Incident.Source.SIMULATOR,
                note=i.note[:200],
            )
            for i in incidents
        ],
        batch_size=BATCH,
    )
    return len(incidents)


def transformer_events_save(
    *, events: list[TransformerEventPlan], transformers: list[Transformer], failed: list[bool]
) -> int:
    TransformerEvent.objects.bulk_create(
        [
            TransformerEvent(
                transformer=transformers[e.transformer],
                kind=e.kind,
                occurred_at=e.occurred_at,
                description=e.description,
                oil_temperature_c=e.oil_temperature_c,
            )
            for e in events
        ],
        batch_size=BATCH,
    )
    for transformer, is_failed in zip(transformers, failed, strict=True):
        if is_failed:
            Transformer.objects.filter(pk=transformer.pk).update(status=Transformer.Status.FAILED)
    return len(events)


def transformer_conditions_save(*, conditions: list[ConditionPlan], transformers: list[Transformer]) -> int:
    TransformerCondition.objects.bulk_create(
        [
            TransformerCondition(
                transformer=transformers[c.transformer],
                measured_at=c.measured_at,
                top_oil_c=c.top_oil_c,
                dissolved_gas_ppm=c.dissolved_gas_ppm,
                source="simulator",
            )
            for c in conditions
        ],
        batch_size=BATCH,
    )
    return len(conditions)


def last_readings_save(*, last: dict[int, dt.datetime]) -> None:
    meters = [Meter(pk=pk, last_reading_at=at) for pk, at in last.items()]
    Meter.objects.bulk_update(meters, ["last_reading_at"], batch_size=500)
