from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo

import factory

from meters.ingest.hostel_rollups import hostel_rollups_rebuild
from meters.models import DailyRollup, Hostel, HourlyRollup, Meter, Reading, Room, Site


class SiteFactory(factory.django.DjangoModelFactory[Site]):
    class Meta:
        model = Site
        django_get_or_create = ("code",)

    code = "test"
    name = "Test Campus"
    timezone = "Europe/Madrid"
    latitude = 40.4
    longitude = -3.7


class HostelFactory(factory.django.DjangoModelFactory[Hostel]):
    class Meta:
        model = Hostel

    site = factory.SubFactory(SiteFactory)
    code = factory.Sequence(lambda n: f"H{n}")
    name = factory.LazyAttribute(lambda o: f"Hostel {o.code}")
    floors = 3


class RoomFactory(factory.django.DjangoModelFactory[Room]):
    class Meta:
        model = Room

    hostel = factory.SubFactory(HostelFactory)
    number = factory.Sequence(lambda n: f"{100 + n}")
    floor = 0
    bed_type = 2
    capacity = factory.LazyAttribute(lambda o: o.bed_type)


class MeterFactory(factory.django.DjangoModelFactory[Meter]):
    class Meta:
        model = Meter

    serial = factory.Sequence(lambda n: f"SN-{n:06d}")
    kind = Meter.Kind.ROOM
    room = factory.SubFactory(RoomFactory)
    installed_at = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


class ReadingFactory(factory.django.DjangoModelFactory[Reading]):
    class Meta:
        model = Reading

    meter = factory.SubFactory(MeterFactory)
    timestamp = factory.Sequence(lambda n: dt.datetime(2025, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=15 * n))
    kwh = 0.25
    voltage = 230.0
    power_factor = 0.95


def hours_of_days(days: Iterable[DailyRollup]) -> None:
    """Make rollups written day by day look as ingestion leaves them: each daily rollup's kWh also as an hourly
    rollup in the first hour of its local day (in its hostel's site's zone), and the hostel hourly rollups summed
    from those hours. Pages read hostel rollups for what spans every hostel, and daily rollups elsewhere."""
    hostels: set[int] = set()
    hours = []
    for day in days:
        meter = Meter.objects.select_related("hostel__site").get(pk=day.meter_id)
        zone = ZoneInfo(meter.hostel.site.timezone) if meter.hostel else dt.UTC
        hour = dt.datetime.combine(day.day, dt.time(), tzinfo=zone).astimezone(dt.UTC)
        hours.append(HourlyRollup(meter=meter, hour=hour, kwh=day.kwh, readings=min(day.readings, 4)))
        if meter.hostel_id:
            hostels.add(meter.hostel_id)
    HourlyRollup.objects.bulk_create(hours)
    hostel_rollups_rebuild(hostel_ids=sorted(hostels))
