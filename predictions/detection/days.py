"""Day-level anomalies on building-level meters: a working day that ran like a closed day, and the reverse.

A building with a working week has two kinds of day: working days and closed days (its weekend, and the
holidays of its site's calendar; vacation days are a season of their own and are left out). The weekend
is learned, not assumed: the weekdays whose median day uses clearly less than the others (Saturday and
Sunday, Friday and Saturday, or Sunday alone for a shop); a building with none has no day findings. Each complete
local day of a building-level meter is compared with the two usual days learned from the nearest days:
live, the weeks before it; in a scan of history (an import), the weeks around it, so a day is judged
within its own season and the first days of a history have usual days too:

- for a working day: the usual same weekday (the median 24-hour profile, kWh per local hour, of the
  eight nearest same weekdays, so a building whose Fridays are short has short usual Fridays) and
  the usual closed day (the four nearest closed days);
- for a closed day: the usual same closed weekday (eight nearest) and the usual working day (the
  nearest working week).

The day's position between them is the projection of its profile on the line from the closed profile
to the working one (0: a closed day, 1: a working day); hours where the two agree carry no weight.
A working day within a quarter of the gap of the closed day, and within five robust deviations of the
nearest closed days' own positions, is an unexpected closure; so is a working day nearer the closed day
than the working one (below half the gap) that lies three robust deviations below its own weekdays'
positions (a half-open holiday). A closed day near the working day in the first two ways was used like
a working day (a half-working closed day is not flagged).
A building has a clear working week when its closed days of the nearest two months use less than 85 %
of a working day and the upper quartile of their totals is below the lower quartile of the working
days'; otherwise it gets no day findings. Days with fewer than 80 % of their readings are neither
judged nor used as reference.
Consecutive working days that ran like closed days (only closed days between them) are one finding.
No country's holidays or weekend are built in: a site whose calendar holds its holidays has them expected,
everything else is learned.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from meters.models import AcademicPeriod, Meter, Reading
from predictions.detection.frames import MeterInfo

CLOSURE = "closure_unexpected"
CLOSED_DAY_USAGE = "closed_day_usage"
DAY_KINDS = frozenset({CLOSURE, CLOSED_DAY_USAGE})
T = TypeVar("T")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class DayConfig:
    """The few parameters of the day detector; each is a plain statement about buildings, not a fit."""

    working_days: int = 5  # the last working week
    same_weekdays: int = 8  # the same weekday over the last two months
    closed_days: int = 4  # the last two weekends
    margin: float = 0.25  # within a quarter of the gap of the other kind of day
    spread: float = 5.0  # and within this many robust deviations of that kind's recent days
    unlike: float = 3.0  # or nearer the other kind and this many robust deviations away from its own weekdays
    min_separation: float = 0.85  # closed days using this share of a working day: no clear working week
    min_coverage: float = 0.8  # share of a day's readings needed to judge it or learn from it
    history_days: int = 63  # how far from a day its usual days are learned (the nearest this many days)


@dataclass(frozen=True)
class DayFinding:
    """One judged day that ran like the other kind of day."""

    meter_id: int
    kind: str
    day: dt.date
    start: dt.datetime  # local midnight, UTC
    end: dt.datetime  # next local midnight, UTC
    actual_kwh: float
    usual_kwh: float  # the usual day of the kind the calendar expected
    other_kwh: float  # the usual day of the kind it resembled
    position: float  # 0: like a closed day, 1: like a working day
    like_weekday: int  # the closed weekday it resembled (0: Monday .. 6), or -1 for "a working day"/"a closed day"
    days: int = 1  # judged days it covers: a closure of consecutive working days is one finding
    last_day: dt.date | None = None  # its last judged day, when it covers more than one

    @property
    def share(self) -> float:
        return self.actual_kwh / self.usual_kwh if self.usual_kwh > 0 else 0.0

    @property
    def score(self) -> float:
        """0.5 at the margin, near 1 for a day exactly like the other kind."""
        distance = self.position if self.kind == CLOSURE else 1.0 - self.position
        return float(np.clip(1.0 - 2.0 * max(distance, 0.0), 0.5, 1.0))


def building_meter_ids(*, infos: dict[int, MeterInfo]) -> list[int]:
    """Meters with a building's load (mains, feeders); rooms keep their occupancy-aware detection."""
    return [i for i, info in infos.items() if info.kind in (Meter.Kind.HOSTEL_MAIN, Meter.Kind.FEEDER)]


def day_bounds(day: dt.date, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """A local day as [start, end) in UTC (23 or 25 hours on a DST change)."""
    start = dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(dt.UTC)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone).astimezone(dt.UTC)
    return start, end


def day_profiles(*, readings: pd.DataFrame, tz: str, interval_minutes: int, min_coverage: float) -> pd.DataFrame:
    """kWh per local hour (24 columns) of each day with enough readings; zeros and gaps are missing.

    `readings` has columns ts (UTC) and kwh. Hours without a reading are interpolated from their
    neighbours within the day, so a day's total is comparable whatever the interval and the gaps.
    """
    data = readings[["ts", "kwh"]].dropna()
    data = data[data["kwh"] > 0]  # a building never truly uses nothing: an exact 0 is a missing reading
    if data.empty:
        return pd.DataFrame(columns=range(24), dtype=float)
    local = pd.to_datetime(data["ts"], utc=True).dt.tz_convert(ZoneInfo(tz))
    per_hour = 60.0 / interval_minutes
    frame = pd.DataFrame({"day": local.dt.date, "hour": local.dt.hour, "kwh": data["kwh"].to_numpy() * per_hour})
    counts = frame.groupby("day").size()
    hours_in_day = pd.Series({day: _day_hours(day, tz) for day in counts.index})
    coverage = counts / (hours_in_day * per_hour)
    keep = coverage[coverage >= min_coverage].index
    frame = frame[frame["day"].isin(set(keep))]
    if frame.empty:
        return pd.DataFrame(columns=range(24), dtype=float)
    table = frame.pivot_table(index="day", columns="hour", values="kwh", aggfunc="mean")
    table = table.reindex(columns=range(24))
    table = table.T.interpolate(limit_direction="both").T
    return table.sort_index()


def _day_hours(day: dt.date, tz: str) -> float:
    start, end = day_bounds(day, ZoneInfo(tz))
    return (end - start).total_seconds() / 3600.0


def days_judge(
    *,
    meter_id: int,
    profiles: pd.DataFrame,
    closed: set[dt.date],
    days: Iterable[dt.date],
    tz: str,
    config: DayConfig | None = None,
    around: bool = False,
    weekend: frozenset[int] = frozenset({5, 6}),
) -> list[DayFinding]:
    """Judge each of `days` that has a profile, from the profiles of the days before it (`around`: and after it)."""
    config = config or DayConfig()
    zone = ZoneInfo(tz)
    index = list(profiles.index)
    position_of = {day: i for i, day in enumerate(index)}
    values = profiles.to_numpy(dtype=float)
    totals = values.sum(axis=1)
    is_closed = np.array([day.weekday() in weekend or day in closed for day in index], dtype=bool)
    found: list[DayFinding] = []
    for day in sorted(set(days)):
        i = position_of.get(day)
        if i is None:
            continue
        # The usual days are the nearest ones: live, the weeks before (no later day is complete yet); over a
        # history (an import, a scan), the weeks around the day, so it is judged within its own season.
        near = sorted(
            (
                j
                for j in range(len(index))
                if (j < i or (around and j > i)) and abs((index[j] - day).days) <= config.history_days
            ),
            key=lambda j: (abs((index[j] - day).days), index[j] > day),
        )[: config.history_days]
        working = [j for j in near if not is_closed[j]]
        closed_days = [j for j in near if is_closed[j]]
        same = [j for j in near if index[j].weekday() == day.weekday() and is_closed[j] == is_closed[i]]
        same, recent_working = same[: config.same_weekdays], working[: config.working_days]
        recent_closed = closed_days[: config.closed_days]
        if len(recent_working) < 3 or len(same) < 3 or len(closed_days) < 2:
            continue  # not enough history to know this building's week
        if is_closed[i]:
            work = np.median(values[recent_working], axis=0)
            rest = np.median(values[same], axis=0)
        else:
            work = np.median(values[same], axis=0)  # a building whose Fridays are short has short usual Fridays
            rest = np.median(values[recent_closed], axis=0)
        if rest.sum() >= config.min_separation * work.sum() or not _clear_week(
            working=totals[working], closed=totals[closed_days]
        ):
            continue  # no clear working week
        gap = work - rest
        position = float((values[i] - rest) @ gap / (gap @ gap))
        # It must also resemble the other kind of day: lie within that kind's own spread of positions.
        other = (working if is_closed[i] else closed_days)[:8]
        spread = (values[other] - rest) @ gap / (gap @ gap)
        centre = float(np.median(spread))
        width = config.spread * max(1.4826 * float(np.median(np.abs(spread - centre))), 0.02)
        # Or a working day nearer the closed day than the working one (a half-open holiday) that is also unlike
        # its own weekdays: below their positions by `unlike` robust deviations.
        own = (values[same] - rest) @ gap / (gap @ gap)
        own_centre = float(np.median(own))
        own_width = max(1.4826 * float(np.median(np.abs(own - own_centre))), 0.02)
        like_closed = position < min(config.margin, centre + width)
        half_open = position < 0.5 and position < own_centre - config.unlike * own_width
        kind = ""
        if not is_closed[i] and (like_closed or half_open):
            kind = CLOSURE
        elif is_closed[i] and position > max(1.0 - config.margin, centre - width):
            kind = CLOSED_DAY_USAGE
        if not kind:
            continue
        like = -1
        if kind == CLOSURE:
            like = _nearest_closed_weekday(
                values=values, index=index, near=closed_days, total=values[i].sum(), weekend=weekend
            )
        start, end = day_bounds(day, zone)
        found.append(
            DayFinding(
                meter_id=meter_id,
                kind=kind,
                day=day,
                start=start,
                end=end,
                actual_kwh=float(values[i].sum()),
                usual_kwh=float((rest if is_closed[i] else work).sum()),
                other_kwh=float((work if is_closed[i] else rest).sum()),
                position=position,
                like_weekday=like,
            )
        )
    return found


def closed_weekdays(*, profiles: pd.DataFrame, holidays: set[dt.date], min_separation: float) -> frozenset[int]:
    """The building's closed weekdays, learned, not assumed: a Saturday-and-Sunday weekend, a Friday-and-Saturday
    one, a shop closed on Sundays only.

    Each weekday's median daily total (calendar holidays left out, at least two of each weekday); sorted, the
    widest step between neighbours (as a ratio) splits them, and the weekdays below it are closed when they use
    less than `min_separation` of the lowest above it. Otherwise none: the building has no clear working week.
    """
    totals = profiles.sum(axis=1)
    totals = totals[[day not in holidays for day in totals.index]]
    weekdays = pd.Series([day.weekday() for day in totals.index], index=totals.index)
    counts = weekdays.value_counts()
    if len(counts) < 7 or counts.min() < 2:
        return frozenset()
    medians = totals.groupby(weekdays).median().sort_values()
    values = medians.to_numpy(dtype=float)
    if values[0] <= 0:
        return frozenset()
    steps = values[1:] / values[:-1]
    cut = int(np.argmax(steps)) + 1
    if values[cut - 1] >= min_separation * values[cut]:
        return frozenset()
    return frozenset(int(weekday) for weekday in medians.index[:cut])


def _clear_week(*, working: np.ndarray, closed: np.ndarray) -> bool:
    """Two clusters: three closed days in four use less than three working days in four (quartiles)."""
    return bool(np.percentile(closed, 75) < np.percentile(working, 25))


def _nearest_closed_weekday(
    *, values: np.ndarray, index: list[dt.date], near: list[int], total: float, weekend: frozenset[int]
) -> int:
    """The closed weekday (0: Monday .. 6: Sunday) whose recent total is nearest to `total`, or -1."""
    best, best_distance = -1, np.inf
    for weekday in sorted(weekend):
        days = [j for j in near if index[j].weekday() == weekday][:4]
        if len(days) < 2:
            continue
        distance = abs(float(np.median(values[days].sum(axis=1))) - total)
        if distance < best_distance:
            best, best_distance = weekday, distance
    return best


def calendar_dates(*, site_id: int | None, start: dt.date, end: dt.date, kind: str) -> set[dt.date]:
    """Days in [start, end] inside periods of this kind in the site's calendar."""
    if not site_id:
        return set()
    days: set[dt.date] = set()
    periods = AcademicPeriod.objects.filter(site_id=site_id, kind=kind, start__lte=end, end__gte=start).values_list(
        "start", "end"
    )
    for p_start, p_end in periods:
        day = max(p_start, start)
        while day <= min(p_end, end):
            days.add(day)
            day += dt.timedelta(days=1)
    return days


def day_findings(
    *,
    infos: dict[int, MeterInfo],
    meter_ids: Iterable[int],
    start: dt.datetime,
    end: dt.datetime,
    frame: pd.DataFrame | None = None,
    config: DayConfig | None = None,
    until: dt.datetime | None = None,
) -> list[DayFinding]:
    """Day findings on the building-level meters among `meter_ids` for complete local days touching [start, end).

    A day is judged once its local midnight has passed (its end is at or before `end`). `frame`, when
    given, holds the readings (meter_id, ts, kwh) and must reach back `history_days` before start;
    otherwise they are read from the database. Live, the usual days are the weeks before a day; a scan
    of history (an import) passes `until`, where its readings end, and the weeks around a day teach it.
    """
    config = config or DayConfig()
    wanted = set(meter_ids)
    found: list[DayFinding] = []
    for meter_id in building_meter_ids(infos={i: infos[i] for i in wanted if i in infos}):
        info = infos[meter_id]
        zone = ZoneInfo(info.timezone)
        first_day = start.astimezone(zone).date()
        last_day = end.astimezone(zone).date() - dt.timedelta(days=1)  # the last day whose midnight has passed
        if day_bounds(last_day + dt.timedelta(days=1), zone)[0] > end:
            last_day -= dt.timedelta(days=1)
        if last_day < first_day:
            continue
        since = day_bounds(first_day - dt.timedelta(days=config.history_days), zone)[0]
        horizon = dt.timedelta(days=config.history_days + 1)
        # Days after the judged ones teach them only in a scan of history; live, none is complete yet.
        read_to = end if until is None else max(end, min(until, day_bounds(last_day, zone)[1] + horizon))
        if frame is not None:
            rows = frame[
                (frame["meter_id"] == meter_id)
                & (frame["ts"] >= pd.Timestamp(since))
                & (frame["ts"] < pd.Timestamp(read_to))
            ]
        else:
            rows = pd.DataFrame(
                list(
                    Reading.objects.filter(meter_id=meter_id, timestamp__gte=since, timestamp__lt=read_to).values_list(
                        "timestamp", "kwh"
                    )
                ),
                columns=["ts", "kwh"],
            )
            rows["kwh"] = rows["kwh"].astype(float)
        profiles = day_profiles(
            readings=rows, tz=info.timezone, interval_minutes=info.interval_minutes, min_coverage=config.min_coverage
        )
        if profiles.empty:
            continue
        # A day still in progress (its midnight not passed in the data) is neither judged nor a usual day.
        data_end = pd.Timestamp(rows["ts"].max()) + pd.Timedelta(minutes=info.interval_minutes)
        profiles = profiles[[day_bounds(day, zone)[1] <= data_end for day in profiles.index]]
        learn_from, learn_to = since.astimezone(zone).date(), profiles.index.max() if len(profiles) else last_day
        closed = calendar_dates(site_id=info.site_id, start=learn_from, end=learn_to, kind=AcademicPeriod.Kind.HOLIDAY)
        # A vacation is a season of its own (a hostel's residents away, a lab at half staff), neither a
        # working week nor a closed day: its days are neither judged nor learned from.
        vacation = calendar_dates(site_id=info.site_id, start=learn_from, end=learn_to, kind="vacation") - closed
        profiles = profiles[[day not in vacation for day in profiles.index]]
        judged = [d for d in profiles.index if first_day <= d <= last_day]
        weekend = closed_weekdays(profiles=profiles, holidays=closed, min_separation=config.min_separation)
        if not weekend:
            continue  # no weekday is clearly closed: no clear working week
        judged_days = days_judge(
            meter_id=meter_id,
            profiles=profiles,
            closed=closed,
            days=judged,
            tz=info.timezone,
            config=config,
            around=until is not None,
            weekend=weekend,
        )
        found += closures_merge(findings=judged_days, closed=closed, weekend=weekend)
    return found


def closures_merge(
    *, findings: list[DayFinding], closed: set[dt.date], weekend: frozenset[int] = frozenset({5, 6})
) -> list[DayFinding]:
    """Consecutive working days that ran like closed days are one closure (a vacation, a shutdown), one finding.

    Working days are consecutive when only closed days (weekends, calendar holidays) lie between them. Live,
    one day is judged at a time and nothing changes; over a history a two-week closure is one event, not ten.
    """
    out: list[DayFinding] = []
    for finding in sorted(findings, key=lambda f: (f.meter_id, f.day)):
        previous = out[-1] if out else None
        if (
            previous is not None
            and previous.kind == finding.kind == CLOSURE
            and previous.meter_id == finding.meter_id
            and _only_closed_between(previous.last_day or previous.day, finding.day, closed, weekend)
        ):
            days = previous.days + 1
            out[-1] = replace(
                previous,
                end=finding.end,
                actual_kwh=previous.actual_kwh + finding.actual_kwh,
                usual_kwh=previous.usual_kwh + finding.usual_kwh,
                other_kwh=previous.other_kwh + finding.other_kwh,
                position=(previous.position * previous.days + finding.position) / days,
                like_weekday=-1,
                days=days,
                last_day=finding.day,
            )
        else:
            out.append(finding)
    return out


def _only_closed_between(first: dt.date, last: dt.date, closed: set[dt.date], weekend: frozenset[int]) -> bool:
    day = first + dt.timedelta(days=1)
    while day < last:
        if day.weekday() not in weekend and day not in closed:
            return False
        day += dt.timedelta(days=1)
    return True


def finding_days(
    *,
    kind: str,
    start: dt.datetime,
    end: dt.datetime,
    tz: str,
    closed: set[dt.date],
    weekend: frozenset[int] = frozenset({5, 6}),
) -> list[dt.date]:
    """The local days a day finding claims: a closure, its working days (the closed days inside it were expected
    closed); a closed day used like a working day, its day."""
    zone = ZoneInfo(tz)
    day, last = start.astimezone(zone).date(), (end - dt.timedelta(seconds=1)).astimezone(zone).date()
    days = []
    while day <= last:
        if kind != CLOSURE or (day.weekday() not in weekend and day not in closed):
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def day_explain(
    *,
    info: MeterInfo,
    kind: str,
    start: dt.datetime,
    end: dt.datetime,
    actual: float,
    usual: float,
    extra: dict[str, float],
) -> str:
    """One sentence for a day finding (or a run of them), in the site's local dates."""
    zone = ZoneInfo(info.timezone)
    first = start.astimezone(zone).date()
    last = (end - dt.timedelta(seconds=1)).astimezone(zone).date()
    who = info.room_label
    other = usual * extra.get("other_share", 0.0)
    share = f"{100 * actual / usual:.0f} %" if usual > 0 else "an unknown share"
    if first == last:
        when = f"{WEEKDAYS[first.weekday()]} {first.day} {first:%b %Y}"
        usual_day = f"a usual {WEEKDAYS[first.weekday()]}"
        like_plural = False
    else:
        when = (
            f"{WEEKDAYS[first.weekday()]} {first.day} {first:%b} to {WEEKDAYS[last.weekday()]} {last.day} {last:%b %Y}"
        )
        usual_day = "the usual days"
        like_plural = True
        if extra.get("days", 0) > 1:
            when += f" ({extra['days']:.0f} working days)"
    if kind == CLOSURE:
        weekday = int(extra.get("like_weekday", -1))
        like = f"a {WEEKDAYS[weekday]}" if 0 <= weekday <= 6 and not like_plural else "closed days"
        like = "a closed day" if like == "closed days" and not like_plural else like
        return (
            f"{who}: {when} ran like {like}: {share} of {usual_day} ({actual:,.0f} kWh where about {usual:,.0f} kWh "
            f"is usual and closed days use about {other:,.0f} kWh). If the site was closed (a holiday or closure), "
            "add it to the calendar; otherwise check that the plant started."
        )
    return (
        f"{who}: {when} {'were closed days' if like_plural else 'was a closed day'} but ran like a working day: "
        f"{share} of {usual_day} ({actual:,.0f} kWh "
        f"where about {usual:,.0f} kWh is usual and working days use about {other:,.0f} kWh); "
        "plant, heating or lighting was probably left on."
    )


def days_found(*, findings: list[DayFinding], policies: dict[int, Any], make: Callable[..., T]) -> list[T]:
    """Day findings as the detection pipeline's incidents (`make` is its `Found`); a suppressed kind is muted."""
    out = []
    for finding in findings:
        policy = policies.get(finding.meter_id)
        excess = max(finding.actual_kwh - finding.usual_kwh, 0.0) if finding.kind == CLOSED_DAY_USAGE else 0.0
        hours = max(int((finding.end - finding.start).total_seconds() // 3600), 1)
        out.append(
            make(
                meter_id=finding.meter_id,
                kind=finding.kind,
                start=finding.start,
                end=finding.end,
                score=finding.score,
                expected_kwh=finding.usual_kwh,
                actual_kwh=finding.actual_kwh,
                detectors=["day_level"],
                muted=bool(policy and finding.kind in policy.suppressed_kinds),
                excess=[(finding.start + dt.timedelta(hours=h), excess / hours) for h in range(hours)],
                extra={
                    "other_share": finding.other_kwh / finding.usual_kwh if finding.usual_kwh > 0 else 0.0,
                    "like_weekday": float(finding.like_weekday),
                    "position": round(finding.position, 3),
                    "days": float(finding.days),
                },
            )
        )
    return out
