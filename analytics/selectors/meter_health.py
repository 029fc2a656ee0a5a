"""Meter health: a score from 0 to 100 per meter, its parts, its trend, and what to do about it in words.

Over the last 28 local days, from daily rollups, the quarantine and the meter's ledger:
- communication (35 %): readings received against those expected, times a lateness factor (full
  within two intervals of now, none after a day without a reading);
- data quality (25 %): 100 less the estimated and quarantined shares (in points) and 15 per register reset;
- agreement (25 %): room meters, the share of occupied days whose kWh per occupant lies between a tenth and
  five times the median of their hostel's room meters; main meters, the share of days whose energy is at least the
  sum of its rooms (less 2 %) and at most three times it;
- trend (15 %): communication and quality of the last 7 days against the 21 before; 100 when stable or
  improving, less 4 per point lost.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, overload

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from analytics.models import MeterHealthScore
from meters.models import DailyRollup, Meter, MeterEvent, Occupancy, QuarantinedReading

DAYS = 28
RECENT = 7
WEIGHTS = {"communication": 0.35, "quality": 0.25, "agreement": 0.25, "trend": 0.15}


@dataclass(frozen=True)
class MeterHealth:
    meter_id: int
    serial: str
    kind: str
    hostel_id: int | None
    room_id: int | None
    score: int
    communication: float
    quality: float
    agreement: float | None  # None: no peers or main meter to agree with
    trend: str  # improving | stable | degrading
    trend_points: float
    recommendation: str
    computed_at: dt.datetime | None = None  # None: computed on the spot for this view, not stored


def _part(received: float, expected: float, estimated: float, quarantined: float, resets: int) -> tuple[float, float]:
    completeness = min(received / expected, 1.0) if expected else 0.0
    if not received:
        return 0.0, 0.0  # nothing arrived: nothing to vouch for
    quality = 100.0
    if received:
        quality -= 100.0 * estimated / received
    if expected:
        quality -= 100.0 * quarantined / expected
    return 100.0 * completeness, max(quality - 15.0 * resets, 0.0)


def health_score_of(
    *,
    communication: float,
    quality: float,
    agreement: float | None,
    trend_points: float,
) -> int:
    """The weighted score (agreement's weight goes to the others when there is nothing to agree with)."""
    trend = 100.0 if trend_points >= 0 else max(100.0 + 4.0 * trend_points, 0.0)
    parts = {"communication": communication, "quality": quality, "agreement": agreement, "trend": trend}
    weights = {k: w for k, w in WEIGHTS.items() if parts[k] is not None}
    total = sum(weights.values())
    return round(sum(float(parts[k] or 0.0) * w for k, w in weights.items()) / total)


def recommendation_for(
    *, communication: float, quality: float, agreement: float | None, trend: str, late_hours: float, resets: int
) -> str:
    """What to do, in words, for the weakest part."""
    if communication < 60:
        if late_hours >= 24:
            return f"No reading for {late_hours:.0f} h: check the meter's power supply and its gateway link."
        return f"Only {communication:.0f} % of readings arrive: check the signal or the gateway's polling."
    if resets:
        return f"{resets} register reset(s) in {DAYS} days: inspect the meter and plan a replacement."
    if quality < 70:
        return "Many readings are estimated or quarantined: check the wiring, CT clamps and the meter's clock."
    if agreement is not None and agreement < 70:
        return "It disagrees with its peers or its main meter: verify the CT ratio and calibrate or swap it."
    if trend == "degrading":
        return "Getting worse over the last week: schedule a visit before it fails."
    return "Healthy: no action needed."


def meter_health_of(*, meters: list[Meter], now: dt.datetime | None = None) -> list[MeterHealth]:
    """Health of these meters (worst first), in a handful of queries whatever their number."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    start = today - dt.timedelta(days=DAYS)
    recent = today - dt.timedelta(days=RECENT)
    ids = [m.pk for m in meters]
    daily: dict[int, dict[dt.date, tuple[float, int, int]]] = defaultdict(dict)
    for meter_id, day, kwh, readings, estimated in DailyRollup.objects.filter(
        meter_id__in=ids, day__gte=start, day__lt=today
    ).values_list("meter_id", "day", "kwh", "readings", "estimated"):
        daily[meter_id][day] = (kwh, readings, estimated)
    since = dt.datetime.combine(start, dt.time.min, tzinfo=dt.UTC)
    quarantined: dict[int, dict[bool, int]] = defaultdict(lambda: {True: 0, False: 0})
    for meter_id, received_at in QuarantinedReading.objects.filter(
        meter_id__in=ids, received_at__gte=since
    ).values_list("meter_id", "received_at"):
        quarantined[meter_id][received_at.date() >= recent] += 1
    resets = dict(
        MeterEvent.objects.filter(meter_id__in=ids, kind=MeterEvent.Kind.REGISTER_RESET, occurred_at__gte=since)
        .values("meter_id")
        .annotate(n=Count("id"))
        .values_list("meter_id", "n")
    )
    peers = _peer_agreement(meters, start, today)
    result = []
    for meter in meters:
        per_day = 24 * 60 / meter.interval_minutes
        days = daily.get(meter.pk, {})
        windows = {}
        for name, lo, hi in (("all", start, today), ("recent", recent, today), ("before", start, recent)):
            rows = [v for d, v in days.items() if lo <= d < hi]
            expected = per_day * (hi - lo).days
            counts = quarantined.get(meter.pk, {True: 0, False: 0})
            q = counts[True] + counts[False] if name == "all" else counts[name == "recent"]
            windows[name] = _part(
                sum(r[1] for r in rows),
                expected,
                sum(r[2] for r in rows),
                q,
                resets.get(meter.pk, 0) if name == "all" else 0,
            )
        late_hours = (now - meter.last_reading_at).total_seconds() / 3600 if meter.last_reading_at else float(DAYS * 24)
        lateness = 1.0 if late_hours * 60 <= 2 * meter.interval_minutes else max(1.0 - late_hours / 24.0, 0.0)
        communication = windows["all"][0] * lateness
        quality = windows["all"][1]
        trend_points = (sum(windows["recent"]) - sum(windows["before"])) / 2
        trend = "improving" if trend_points > 5 else "degrading" if trend_points < -5 else "stable"
        agreement = peers.get(meter.pk)
        result.append(
            MeterHealth(
                meter_id=meter.pk,
                serial=meter.serial,
                kind=meter.kind,
                hostel_id=meter.hostel_id,
                room_id=meter.room_id,
                score=health_score_of(
                    communication=communication, quality=quality, agreement=agreement, trend_points=trend_points
                ),
                communication=round(communication, 1),
                quality=round(quality, 1),
                agreement=None if agreement is None else round(agreement, 1),
                trend=trend,
                trend_points=round(trend_points, 1),
                recommendation=recommendation_for(
                    communication=communication,
                    quality=quality,
                    agreement=agreement,
                    trend=trend,
                    late_hours=late_hours,
                    resets=resets.get(meter.pk, 0),
                ),
            )
        )
    return sorted(result, key=lambda h: (h.score, h.serial))


def _occupants_by_day(hostel_ids: set[int], start: dt.date, end: dt.date) -> dict[tuple[int, dt.date], int]:
    """Occupants of each room of these hostels at noon UTC of each day in [start, end)."""
    first = dt.datetime.combine(start, dt.time(12), tzinfo=dt.UTC)
    last = dt.datetime.combine(end, dt.time(12), tzinfo=dt.UTC)
    rows = Occupancy.objects.filter(room__hostel_id__in=hostel_ids, start__lt=last).filter(
        Q(end__isnull=True) | Q(end__gt=first)
    )
    out: dict[tuple[int, dt.date], int] = defaultdict(int)
    for room_id, begin, finish, people in rows.values_list("room_id", "start", "end", "occupants"):
        day = start
        while day < end:
            noon = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)
            if begin <= noon and (finish is None or finish > noon):
                out[(room_id, day)] += people
            day += dt.timedelta(days=1)
    return out


def _peer_agreement(meters: list[Meter], start: dt.date, end: dt.date) -> dict[int, float]:
    """Agreement (0-100) of room meters with their hostel's rooms and of main meters with their rooms."""
    hostel_ids = {m.hostel_id for m in meters if m.hostel_id}
    rooms = (
        DailyRollup.objects.filter(
            meter__hostel_id__in=hostel_ids, meter__kind=Meter.Kind.ROOM, day__gte=start, day__lt=end
        )
        .values_list("meter_id", "meter__hostel_id", "meter__room_id", "day", "kwh")
        .order_by()
    )
    occupants = _occupants_by_day(hostel_ids, start, end)
    per_bed: dict[tuple[int, dt.date], list[float]] = defaultdict(list)
    own: dict[int, dict[dt.date, float]] = defaultdict(dict)
    room_sum: dict[tuple[int, dt.date], float] = defaultdict(float)
    for meter_id, hostel_id, room_id, day, kwh in rooms:
        room_sum[(hostel_id, day)] += kwh
        people = occupants.get((room_id, day), 0)
        if people:  # an empty room uses what it uses: it is compared on the days someone lives there
            per_bed[(hostel_id, day)].append(kwh / people)
            own[meter_id][day] = kwh / people
    medians = {key: statistics.median(values) for key, values in per_bed.items() if len(values) >= 3}
    result: dict[int, float] = {}
    for meter in meters:
        if meter.kind == Meter.Kind.ROOM and meter.hostel_id:
            days = [
                (value, medians[(meter.hostel_id, day)])
                for day, value in own.get(meter.pk, {}).items()
                if (meter.hostel_id, day) in medians
            ]
            if days:
                ok = sum(1 for value, median in days if median / 10 <= value <= median * 5 or median == 0)
                result[meter.pk] = 100.0 * ok / len(days)
    main_rows = DailyRollup.objects.filter(
        meter_id__in=[m.pk for m in meters if m.kind == Meter.Kind.HOSTEL_MAIN], day__gte=start, day__lt=end
    ).values_list("meter_id", "meter__hostel_id", "day", "kwh")
    checks: dict[int, list[bool]] = defaultdict(list)
    for meter_id, hostel_id, day, kwh in main_rows:
        rooms_kwh = room_sum.get((hostel_id, day))
        if rooms_kwh:
            checks[meter_id].append(rooms_kwh * 0.98 <= kwh <= rooms_kwh * 3)
    for meter_id, values in checks.items():
        result[meter_id] = 100.0 * sum(values) / len(values)
    return result


def meter_health_for_user(
    *, user: Any, meter_id: int | None = None, now: dt.datetime | None = None, limit: int | None = None
) -> list[MeterHealth]:
    """Health of the meters the user may see (a warden: their hostels' meters), worst first.

    The stored scores of the meter health task; a meter it has not scored yet (a new meter, a first run)
    is scored on the spot, so a small campus shows health at once and a large one reads a table.
    """
    meters = Meter.objects.visible_to(user).filter(removed_at__isnull=True)
    if meter_id is not None:
        meters = meters.filter(pk=meter_id)
    stored = meter_health_stored(meters=meters, limit=limit)
    missing = list(meters.filter(health_score__isnull=True))
    rows = sorted([*stored, *meter_health_of(meters=missing, now=now)], key=lambda h: (h.score, h.serial))
    return rows if limit is None else rows[:limit]


class StoredHealth(Sequence[MeterHealth]):
    """The stored scores of some meters, worst first, read a slice at a time (a page of the API): its length is
    one COUNT, a slice one query of that many rows."""

    def __init__(self, meters: QuerySet[Meter]) -> None:
        self.meters = meters

    def __len__(self) -> int:
        return MeterHealthScore.objects.filter(meter__in=self.meters).count()

    @overload
    def __getitem__(self, index: int) -> MeterHealth: ...
    @overload
    def __getitem__(self, index: slice) -> list[MeterHealth]: ...
    def __getitem__(self, index: int | slice) -> MeterHealth | list[MeterHealth]:
        if isinstance(index, int):
            return self[index : index + 1][0]
        start, stop = index.start or 0, index.stop
        return meter_health_stored(meters=self.meters, offset=start, limit=None if stop is None else stop - start)


def meter_health_rows_for_user(
    *, user: Any, meter_id: int | None = None, now: dt.datetime | None = None
) -> Sequence[MeterHealth]:
    """`meter_health_for_user` as a sequence to page through: when every meter has a stored score (a campus the
    task has scored), read a page at a time; else the whole list, scoring the others on the spot."""
    meters = Meter.objects.visible_to(user).filter(removed_at__isnull=True)
    if meter_id is not None:
        meters = meters.filter(pk=meter_id)
    if not meters.filter(health_score__isnull=True).exists():
        return StoredHealth(meters)
    return meter_health_for_user(user=user, meter_id=meter_id, now=now)


def meter_health_stored(*, meters: QuerySet[Meter], limit: int | None = None, offset: int = 0) -> list[MeterHealth]:
    """The stored scores of these meters, worst first (at most `limit`, after the first `offset`)."""
    rows = MeterHealthScore.objects.filter(meter__in=meters).select_related("meter").order_by("score", "meter__serial")
    return [
        MeterHealth(
            meter_id=row.meter_id,
            serial=row.meter.serial,
            kind=row.meter.kind,
            hostel_id=row.meter.hostel_id,
            room_id=row.meter.room_id,
            score=row.score,
            communication=row.communication,
            quality=row.quality,
            agreement=row.agreement,
            trend=row.trend,
            trend_points=row.trend_points,
            recommendation=row.recommendation,
            computed_at=row.computed_at,
        )
        for row in (rows[offset:] if limit is None else rows[offset : offset + limit])
    ]


def meter_health_computed_at(rows: list[MeterHealth]) -> dt.datetime | None:
    """When the oldest stored score among these rows was computed (None: none was stored)."""
    return min((h.computed_at for h in rows if h.computed_at is not None), default=None)
