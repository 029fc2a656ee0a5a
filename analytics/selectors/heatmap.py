"""The hostel heat map: each room's last 24 hours against the detector's own expected value, and, for a room far
above it, the alert it raised or the reason it raised none.

Expected comes from the hours detection scanned (`predictions.ScannedHour`), written by the same baseline that
raises the alerts, so the map and the inbox cannot disagree about what a room should use. A room whose hours have
not been scanned shows no deviation at all rather than one measured against another definition of expected.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from django.db.models import Count, Max, Q, Sum
from django.urls import reverse
from django.utils import timezone

from alerts.models import Alert
from alerts.selectors import alerts_for_user
from meters.models import Meter, Occupancy, Room
from predictions.detection.detectors import CONSUMPTION_KINDS, DetectorConfig
from predictions.models import Anomaly, MeterBaseline, ScannedHour

WINDOW = dt.timedelta(hours=24)
MIN_SCANNED_HOURS = 18  # of the window's 24: fewer and the room counts as not yet scanned
DETECTOR = DetectorConfig()
# "Far above expected" is what the detector itself calls an excess: at least this share over expected.
FAR_ABOVE_SHARE = DETECTOR.min_excess_share


class Why(StrEnum):
    """Why a room far above expected has (or has no) alert."""

    ALERT = "alert"
    MUTED = "muted"
    UNFIT = "unfit"
    BELOW_FLOOR = "below_floor"
    USUAL = "usual"
    NOT_FLAGGED = "not_flagged"
    NOT_SCANNED = "not_scanned"
    NO_READINGS = "no_readings"


@dataclass(frozen=True)
class RoomAlert:
    id: int
    title: str
    status: str
    url: str


@dataclass(frozen=True)
class RoomDeviation:
    room_id: int
    number: str
    floor: int
    actual_kwh: float | None
    expected_kwh: float | None
    scanned_hours: int = 0
    alert: RoomAlert | None = None
    why: Why | None = None
    reason: str = ""
    hostel: str = ""

    @property
    def deviation_pct(self) -> float | None:
        if self.actual_kwh is None or not self.expected_kwh:
            return None
        return 100.0 * (self.actual_kwh - self.expected_kwh) / self.expected_kwh

    @property
    def band(self) -> str:
        """A colour band for the phone's tappable grid: far-high, high, near, low, far-low, or none (grey)."""
        deviation = self.deviation_pct
        if deviation is None:
            return "none"
        if deviation >= 100.0 * FAR_ABOVE_SHARE:
            return "far-high"
        if deviation >= 15.0:
            return "high"
        if deviation > -15.0:
            return "near"
        return "low" if deviation > -50.0 else "far-low"

    @property
    def far_above(self) -> bool:
        deviation = self.deviation_pct
        return deviation is not None and deviation >= 100.0 * FAR_ABOVE_SHARE

    @property
    def url(self) -> str:
        """Where a tap on the room's cell goes: its alert if it has one, else the room."""
        return self.alert.url if self.alert else reverse("room-detail", args=[self.room_id])


@dataclass(frozen=True)
class _Scan:
    expected: float
    actual: float
    hours: int
    strength: float


def _why_not(
    *, scan: _Scan, policy: MeterBaseline | None, muted_kinds: set[str], vacant: bool = False
) -> tuple[Why, str]:
    """The detector's reason for raising nothing on a room that was scanned and is far above expected
    (`vacant`: nobody on its roster through the window, judged against the detector's empty-room floor)."""
    fit = policy.fit if policy else True
    boost = policy.threshold_boost if policy else 0.0
    suppressed = sorted(set(policy.suppressed_kinds if policy else ()) & CONSUMPTION_KINDS)
    # Detection mutes a finding for three reasons only: kinds suppressed by feedback, or an unfit baseline (the
    # meter's, or the fitness of the tier it was predicted with at that moment).
    if not fit or (muted_kinds and not muted_kinds & set(suppressed)):
        return Why.UNFIT, (
            "Baseline unfit: this meter's expected value failed the fitness check (ASHRAE Guideline 14), "
            "so its consumption findings are muted until it is retrained."
        )
    if muted_kinds & set(suppressed):
        kinds = ", ".join(kind.replace("_", " ") for kind in sorted(muted_kinds & set(suppressed)))
        return Why.MUTED, f"Muted by feedback: {kinds} was found, but is muted on this meter after false alarms."
    excess_kw = (scan.actual - scan.expected) / scan.hours
    floor = DETECTOR.min_excess_kw_vacant if vacant else DETECTOR.min_excess_kw_room
    if excess_kw < floor:
        return Why.BELOW_FLOOR, (
            f"Below the power worth a warden's time: {excess_kw:.2f} kW over expected on average; "
            f"alerts start at {floor:g} kW{' in an empty room' if vacant else ''}."
        )
    if DETECTOR.z <= scan.strength < DETECTOR.z + boost:
        return Why.MUTED, (
            f"Muted by feedback: its threshold was raised by {boost:g} after false alarms "
            f"(strongest evidence {scan.strength:.1f}, now needs {DETECTOR.z + boost:g})."
        )
    if scan.strength < DETECTOR.z + boost:
        return Why.USUAL, (
            f"Within this room's usual swings: strongest evidence {scan.strength:.1f}, an alert needs "
            f"{DETECTOR.z + boost:g}."
        )
    return Why.NOT_FLAGGED, "Scanned: no stretch of readings stood out for long enough to raise an alert."


def room_deviations_for_user(
    *,
    user: Any,
    hostel_id: int | None,
    now: dt.datetime | None = None,
    window: dt.timedelta = WINDOW,
    room_ids: Collection[int] | None = None,
) -> list[RoomDeviation]:
    """Each visible room of a hostel (of every hostel the user may see with None; only `room_ids` if given): its
    last `window` of complete hours against the detector's expected, with its alert or why none. The queries
    do not grow with the number of hostels."""
    now = (now or timezone.now()).replace(minute=0, second=0, microsecond=0)
    since = now - window
    window_hours = int(window.total_seconds() // 3600)
    min_hours = max(1, window_hours * MIN_SCANNED_HOURS // 24)
    visible = Room.objects.visible_to(user)
    if hostel_id is not None:
        visible = visible.filter(hostel_id=hostel_id)
    if room_ids is not None:
        visible = visible.filter(pk__in=list(room_ids))
    rooms = list(
        visible.order_by("hostel__name", "floor", "number").values_list("pk", "number", "floor", "hostel__name")
    )
    # Subqueries, not lists of ids: a campus of 5,000 rooms made each IN list cost 40-260 ms to send and plan.
    room_meters = Meter.objects.filter(room_id__in=visible.values("pk"), kind=Meter.Kind.ROOM)
    meters = list(room_meters.order_by("room_id", "pk").values_list("pk", "room_id", "last_reading_at", "removed_at"))
    meter_room = {pk: room_id for pk, room_id, _, _ in meters}
    reporting = {room_id for _, room_id, last, _ in meters if last is not None and last >= since}
    # The meter that measures the room now (the newest in service) carries its policy.
    current: dict[int, int] = {}
    for pk, room_id, _, removed_at in meters:
        if removed_at is None or room_id not in current:
            current[room_id] = pk
    scans: dict[int, _Scan] = {}
    for agg in (
        ScannedHour.objects.filter(meter_id__in=room_meters.values("pk"), hour__gte=since, hour__lt=now)
        .values("meter_id")
        .annotate(expected=Sum("expected_kwh"), actual=Sum("actual_kwh"), hours=Count("id"), peak=Max("strength"))
        .order_by()
    ):
        # A replaced meter's hours continue under its room.
        room_id = meter_room[agg["meter_id"]]
        before = scans.get(room_id, _Scan(0.0, 0.0, 0, float("-inf")))
        scans[room_id] = _Scan(
            before.expected + agg["expected"],
            before.actual + agg["actual"],
            before.hours + agg["hours"],
            max(before.strength, agg["peak"]),
        )
    alerts: dict[int, RoomAlert] = {}
    active_first = (
        alerts_for_user(user=user)
        .filter(room_id__in=visible.values("pk"))
        .filter(Q(status__in=Alert.ACTIVE) | Q(last_seen_at__gte=since))
        .order_by("-last_seen_at", "-id")
        .values_list("room_id", "pk", "title", "status")
    )
    for room_id, pk, title, status in sorted(active_first, key=lambda row: row[3] not in Alert.ACTIVE):
        if room_id not in alerts:
            label = Alert.Status(status).label.lower()
            alerts[room_id] = RoomAlert(pk, title, label, reverse("alert-detail", args=[pk]))
    cells = []
    for pk, number, floor, hostel_name in rooms:
        scan = scans.get(pk)
        alert = alerts.get(pk)
        why: Why | None = None
        reason = ""
        if scan is None or scan.hours < min_hours:
            if pk in reporting:
                seen = f"only {scan.hours} of" if scan else "none of"
                why, reason = (
                    Why.NOT_SCANNED,
                    f"Not yet scanned: detection has seen {seen} the last {window_hours} hours.",
                )
            else:
                why, reason = Why.NO_READINGS, f"No readings in the last {window_hours} hours."
            scan = None
        if alert is not None:
            why, reason = Why.ALERT, f"Alert #{alert.id} ({alert.status}): {alert.title}"
        cells.append(
            RoomDeviation(
                pk,
                number,
                floor,
                actual_kwh=scan.actual if scan else None,
                expected_kwh=scan.expected if scan else None,
                scanned_hours=scan.hours if scan else 0,
                alert=alert,
                why=why,
                reason=reason,
                hostel=hostel_name,
            )
        )
    # Only a room far above expected with no alert needs the detector's reasons: read them for those alone.
    unexplained = {cell.room_id for cell in cells if cell.far_above and cell.alert is None}
    if not unexplained:
        return cells
    policies = {
        row.meter_id: row
        for row in MeterBaseline.objects.filter(meter_id__in=[current[pk] for pk in unexplained if pk in current])
    }
    muted: dict[int, set[str]] = {}
    for room_id, kind in (
        Anomaly.objects.filter(room_id__in=list(unexplained), status=Anomaly.Status.MUTED, end__gt=since, start__lt=now)
        .values_list("room_id", "kind")
        .order_by()
    ):
        muted.setdefault(room_id, set()).add(kind)
    # Nobody on the roster through the window (a room without a roster counts as lived in, as in detection).
    rostered, lived_in = set(), set()
    for room_id, occupants, start, end in Occupancy.objects.filter(room_id__in=list(unexplained)).values_list(
        "room_id", "occupants", "start", "end"
    ):
        rostered.add(room_id)
        if occupants > 0 and start < now and (end is None or end > since):
            lived_in.add(room_id)
    vacant = rostered - lived_in
    result = []
    for cell in cells:
        if cell.room_id in unexplained:
            why, reason = _why_not(
                scan=scans[cell.room_id],
                policy=policies.get(current.get(cell.room_id, 0)),
                muted_kinds=muted.get(cell.room_id, set()),
                vacant=cell.room_id in vacant,
            )
            cell = replace(cell, why=why, reason=reason)
        result.append(cell)
    return result


def rooms_above_expected(deviations: list[RoomDeviation]) -> list[RoomDeviation]:
    """Rooms far above expected, the furthest first: the list under the map."""
    return sorted((d for d in deviations if d.far_above), key=lambda d: -(d.deviation_pct or 0.0))


def rooms_far_above_for_user(
    *, user: Any, now: dt.datetime | None = None, window: dt.timedelta = WINDOW, limit: int = 10
) -> list[RoomDeviation]:
    """`rooms_above_expected` of every room the user may see, the first `limit`: the scans are summed per room in
    one query, and only the rooms far above expected are built as cells (with their alerts and reasons).
    Building all 5,000 rooms of a university to keep ten took a quarter of a second (issue 29)."""
    now = (now or timezone.now()).replace(minute=0, second=0, microsecond=0)
    min_hours = max(1, int(window.total_seconds() // 3600) * MIN_SCANNED_HOURS // 24)
    rooms = Room.objects.visible_to(user)
    sums = (
        ScannedHour.objects.filter(
            meter__room_id__in=rooms.values("pk"), meter__kind=Meter.Kind.ROOM, hour__gte=now - window, hour__lt=now
        )
        .values("meter__room_id")
        .annotate(expected=Sum("expected_kwh"), actual=Sum("actual_kwh"), hours=Count("id"))
        .values_list("meter__room_id", "expected", "actual", "hours")
        .order_by()
    )
    # A little slack below the share: the cells then apply the exact test to sums taken per meter.
    candidates = [
        room_id
        for room_id, expected, actual, hours in sums
        if hours >= min_hours and expected and (actual - expected) / expected >= FAR_ABOVE_SHARE - 1e-9
    ]
    if not candidates:
        return []
    cells = room_deviations_for_user(user=user, hostel_id=None, now=now, window=window, room_ids=candidates)
    return rooms_above_expected(cells)[:limit]
