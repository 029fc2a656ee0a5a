"""Reads of the estate for pages and APIs, always through the user's scope."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, F, Max, Q, Sum
from django.utils import timezone

from meters.ingest.gaps import gaps_find
from meters.ingest.types import Gap
from meters.models import DailyRollup, Hostel, HostelHourlyRollup, HourlyRollup, Meter, Occupancy, Reading, Room, Site
from meters.selectors.carbon import carbon_kg_between


@dataclass(frozen=True)
class HostelSummary:
    id: int
    code: str
    name: str
    site_name: str
    timezone: str
    rooms: int
    rooms_by_beds: dict[int, int]
    beds: int
    meters: int
    kwh_last_24h: float
    last_reading_at: dt.datetime | None
    carbon_kg_last_24h: float | None = None


def hostels_for_user(*, user: Any, now: dt.datetime | None = None) -> list[HostelSummary]:
    """Each hostel the user may see, with its rooms, meters and the energy of the last 24 hours."""
    now = now or timezone.now()
    hostels = (
        Hostel.objects.visible_to(user)
        .select_related("site")
        .annotate(
            n_rooms=Count("rooms", distinct=True),
            n_beds=Sum("rooms__capacity"),
            rooms_2=Count("rooms", filter=Q(rooms__bed_type=2), distinct=True),
            rooms_4=Count("rooms", filter=Q(rooms__bed_type=4), distinct=True),
            rooms_6=Count("rooms", filter=Q(rooms__bed_type=6), distinct=True),
        )
        .order_by("site__name", "code")
    )
    ids = [hostel.id for hostel in hostels]
    meter_stats = {
        row["hostel_id"]: row
        for row in Meter.objects.filter(hostel_id__in=ids, removed_at__isnull=True)
        .values("hostel_id")
        .annotate(n=Count("id"), last=Max("last_reading_at"))
    }
    # Room meters only: the main meter measures the same energy again. Hostel rollups: 24 rows a hostel.
    rooms = HostelHourlyRollup.objects.filter(hostel_id__in=ids, kind=Meter.Kind.ROOM)
    energy = dict(
        rooms.filter(hour__gte=now - dt.timedelta(hours=24), hour__lt=now)
        .values("hostel_id")
        .annotate(kwh=Sum("kwh"))
        .values_list("hostel_id", "kwh")
        .order_by()
    )
    carbon = carbon_kg_between(rollups=rooms, start=now - dt.timedelta(hours=24), end=now)
    summaries = []
    for hostel in hostels:
        stats = meter_stats.get(hostel.id, {})
        summaries.append(
            HostelSummary(
                id=hostel.id,
                code=hostel.code,
                name=hostel.name,
                site_name=hostel.site.name,
                timezone=hostel.site.timezone,
                rooms=hostel.n_rooms,
                rooms_by_beds={2: hostel.rooms_2, 4: hostel.rooms_4, 6: hostel.rooms_6},
                beds=hostel.n_beds or 0,
                meters=stats.get("n", 0),
                kwh_last_24h=float(energy.get(hostel.id) or 0.0),
                last_reading_at=stats.get("last"),
                carbon_kg_last_24h=carbon.get(hostel.id),
            )
        )
    return summaries


def zone_for_user(*, user: Any) -> ZoneInfo:
    """The time zone people read times in: that of the sites the user may see when they share one (every demo
    and most estates), else the project's own (`TIME_ZONE`), which pages then name."""
    zones = list(
        Site.objects.filter(hostels__in=Hostel.objects.visible_to(user))
        .values_list("timezone", flat=True)
        .distinct()
        .order_by()[:2]
    )
    return ZoneInfo(zones[0]) if len(zones) == 1 else ZoneInfo(settings.TIME_ZONE)


def hostel_for_user(*, user: Any, hostel_id: int) -> Hostel | None:
    return Hostel.objects.visible_to(user).select_related("site").filter(pk=hostel_id).first()


@dataclass(frozen=True)
class RoomRow:
    id: int
    number: str
    floor: int
    bed_type: int
    capacity: int
    occupants: int | None
    meter_serial: str | None
    last_reading_at: dt.datetime | None
    kwh_last_24h: float


def rooms_for_user(*, user: Any, hostel_id: int, now: dt.datetime | None = None) -> list[RoomRow]:
    """The rooms of one hostel the user may see, with current occupancy and recent energy."""
    now = now or timezone.now()
    rooms = list(Room.objects.visible_to(user).filter(hostel_id=hostel_id).order_by("floor", "number"))
    room_ids = [room.id for room in rooms]
    meters = {
        meter.room_id: meter
        for meter in Meter.objects.filter(room_id__in=room_ids, kind=Meter.Kind.ROOM, removed_at__isnull=True)
    }
    occupants: dict[int, int] = {}
    for period in (
        Occupancy.objects.filter(room_id__in=room_ids, start__lte=now)
        .filter(Q(end__isnull=True) | Q(end__gt=now))
        .order_by("start")
    ):
        occupants[period.room_id] = period.occupants
    energy = dict(
        HourlyRollup.objects.filter(meter__room_id__in=room_ids, hour__gte=now - dt.timedelta(hours=24), hour__lt=now)
        .values("meter__room_id")
        .annotate(kwh=Sum("kwh"))
        .values_list("meter__room_id", "kwh")
    )
    rows = []
    for room in rooms:
        meter = meters.get(room.id)
        rows.append(
            RoomRow(
                id=room.id,
                number=room.number,
                floor=room.floor,
                bed_type=room.bed_type,
                capacity=room.capacity,
                occupants=occupants.get(room.id),
                meter_serial=meter.serial if meter else None,
                last_reading_at=meter.last_reading_at if meter else None,
                kwh_last_24h=float(energy.get(room.id) or 0.0),
            )
        )
    return rows


def readings_latest_for_user(
    *, user: Any, limit: int = 20, hostel_id: int | None = None, room_id: int | None = None
) -> list[Reading]:
    """The most recent readings the user may see (of one hostel or one room), newest first."""
    readings = Reading.objects.visible_to(user).select_related("meter", "meter__room__hostel", "meter__hostel")
    if hostel_id is not None:
        readings = readings.filter(meter__hostel_id=hostel_id)
    if room_id is not None:
        readings = readings.filter(meter__room_id=room_id)
    return list(readings.order_by("-timestamp", "meter_id")[:limit])


@dataclass(frozen=True)
class EnergyPoint:
    """Energy in one hour (UTC) or one local day."""

    at: dt.datetime | dt.date
    kwh: float


@dataclass(frozen=True)
class BalancePoint:
    """A hostel's main meter against the sum of its room meters for one hour or local day."""

    at: dt.datetime | dt.date
    main_kwh: float
    rooms_kwh: float
    difference_kwh: float
    difference_pct: float | None


def _rollup_sums(
    *, meters: Any, start: dt.datetime | dt.date, end: dt.datetime | dt.date, daily: bool
) -> dict[Any, float]:
    if daily:
        rows = DailyRollup.objects.filter(meter__in=meters, day__gte=start, day__lt=end).values("day")
        return {row["day"]: float(row["kwh"]) for row in rows.annotate(kwh=Sum("kwh")).order_by("day")}
    hourly = HourlyRollup.objects.filter(meter__in=meters, hour__gte=start, hour__lt=end).values("hour")
    return {row["hour"]: float(row["kwh"]) for row in hourly.annotate(kwh=Sum("kwh")).order_by("hour")}


def hostel_rooms_total(
    *, user: Any, hostel_id: int, start: dt.datetime | dt.date, end: dt.datetime | dt.date, daily: bool = False
) -> list[EnergyPoint]:
    """The hostel's virtual meter: the sum of its room meters per hour (UTC) or local day, from rollups."""
    rooms = Meter.objects.visible_to(user).filter(hostel_id=hostel_id, kind=Meter.Kind.ROOM)
    return [EnergyPoint(at, kwh) for at, kwh in _rollup_sums(meters=rooms, start=start, end=end, daily=daily).items()]


def hostel_balance(
    *, user: Any, hostel_id: int, start: dt.datetime | dt.date, end: dt.datetime | dt.date, daily: bool = False
) -> list[BalancePoint]:
    """Main meter minus the sum of room meters: a persistent excess is a leak, a bypass or a faulty meter."""
    visible = Meter.objects.visible_to(user).filter(hostel_id=hostel_id)
    main = _rollup_sums(meters=visible.filter(kind=Meter.Kind.HOSTEL_MAIN), start=start, end=end, daily=daily)
    rooms = _rollup_sums(meters=visible.filter(kind=Meter.Kind.ROOM), start=start, end=end, daily=daily)
    points = []
    for at in sorted(set(main) | set(rooms)):
        m, r = main.get(at, 0.0), rooms.get(at, 0.0)
        points.append(BalancePoint(at, m, r, m - r, (m - r) / m * 100 if m else None))
    return points


def meter_gaps_for_user(*, user: Any, meter_id: int, start: dt.datetime, end: dt.datetime) -> list[Gap] | None:
    """Missing intervals of a meter the user may see (None when they may not); estimates count as present."""
    meter = Meter.objects.visible_to(user).filter(pk=meter_id).first()
    if meter is None:
        return None
    return gaps_find(meter_id=meter.id, start=start, end=end, step=dt.timedelta(minutes=meter.interval_minutes))


def meters_silent_for_user(*, user: Any, now: dt.datetime | None = None, limit: int = 5) -> tuple[int, list[Meter]]:
    """Active meters the user may see that have sent nothing for three of their intervals (or ever): how many,
    and the longest silent first."""
    now = now or timezone.now()
    meters = (
        Meter.objects.visible_to(user)
        .filter(removed_at__isnull=True, status=Meter.Status.ACTIVE)
        .exclude(kind=Meter.Kind.VIRTUAL)
        .select_related("room", "hostel")
    )
    # In SQL, by interval (a handful of distinct values): a campus of 5,000 meters is not loaded to count them.
    late = Q(last_reading_at__isnull=True)
    for minutes in meters.order_by().values_list("interval_minutes", flat=True).distinct():
        late |= Q(interval_minutes=minutes, last_reading_at__lt=now - dt.timedelta(minutes=3 * minutes))
    silent = meters.filter(late)
    return silent.count(), list(silent.order_by(F("last_reading_at").asc(nulls_first=True), "serial")[:limit])
