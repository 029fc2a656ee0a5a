"""A room's use creeping up over days beyond what its residents, the weather and the calendar explain (`drift`).

The point detectors judge readings and windows of up to a day against a baseline retrained weekly from
the room's recent weeks; a slow rise (a fridge or heater failing over two to four weeks) is learnt into
that baseline a little more at every retrain and never stands out on any one day. This detector judges
whole local days instead, over the room's last weeks, all with one model:

- each day's ratio of what the room used to what the baseline expected (residents, weather, calendar),
  as a log, less the median ratio of its hostel's lived-in rooms that day (what the model got wrong
  for everyone: a change of season it has not learnt, the exams);
- only the days since the room last changed residents count (same number of occupants all day, never
  empty): the residents' return at the start of term is a step the baseline's occupancy features
  answer, and it is never inside the days compared. A room whose residents just came back has too few
  such days to be judged;
- a drift is a rise through those days (a Theil-Sen slope whose lower confidence bound is above zero, at a
  pace of at least half as much again in four weeks)
  whose last days stand clearly above the first ones (the first third of the days), by at least
  `min_rise` of the room's use and `min_rise_kw` of power (a warden's time), and whose latest day is
  above the median. Days its residents were away (under `away_share` of what was expected) are left out.

A day is judged once its local midnight has passed; a finding covers the days of one detection run found
rising and says since when the room has been rising.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from scipy.stats import theilslopes

from predictions.detection.days import WEEKDAYS, day_bounds
from predictions.detection.frames import MeterInfo, frame_load

KIND = "drift"
T = TypeVar("T")


@dataclass(frozen=True)
class DriftConfig:
    """How far back a room is read and how clear a rise must be."""

    lookback_days: int = 28  # the days of steady residents a rise is judged over, at most
    min_days: int = 10  # days of the same residents needed before a rise can be told from their habits
    recent_days: int = 3  # the latest days, compared with the first ones
    min_rise: float = 0.3  # the latest days above the first ones, as a share of the room's use
    min_pace: float = 0.5  # the rise's pace: half as much again over `lookback_days` (slower is the residents' habits)
    min_rise_kw: float = 0.12  # and in average power: below it a rise is not worth a warden's time
    confidence: float = 0.999  # of the slope's interval whose lower bound must be above zero
    away_share: float = 0.4  # a day below this share of what was expected: its residents were away
    min_coverage: float = 0.8  # share of a day's readings needed for the day to count
    peer_minimum: int = 5  # lived-in rooms of a hostel needed to take out what they share; else the campus's
    floor_kw: float = 0.05  # added to a day's use and expectation (as kWh a day): a near-empty day's ratio is noise


@dataclass
class DriftFinding:
    """A room that has been rising since `since`, found on the local days from `first` to `day`."""

    meter_id: int
    day: dt.date  # the last judged day found rising (its figures are below)
    since: dt.date
    actual_kwh: float  # the days found rising
    expected_kwh: float  # the same days at the room's level of its first steady days
    rise: float  # share above that level (0.5: half as much again)
    days: int  # days of the same residents judged
    occupants: int
    score: float
    first: dt.date | None = None  # the first judged day found rising (`day` when None)
    start: dt.datetime | None = None  # local midnight starting `first`
    end: dt.datetime | None = None  # local midnight ending `day`
    extra: dict[str, float] = field(default_factory=dict)


def room_days(
    *, frame: pd.DataFrame, expected: np.ndarray, infos: dict[int, MeterInfo], min_coverage: float
) -> pd.DataFrame:
    """One row per room meter and local day: kWh used and expected, occupants (steady all day or not)."""
    rooms = frame["is_main"].to_numpy(dtype=float) == 0
    if not rooms.any():
        return pd.DataFrame(columns=["meter_id", "day", "actual", "expected", "occupants", "steady", "hostel_id"])
    data = frame.loc[rooms, ["meter_id", "ts", "kwh", "occupants", "interval_h"]].copy()
    data["expected"] = expected[rooms]
    data["hostel_id"] = frame.loc[rooms, "hostel_id"].to_numpy() if "hostel_id" in frame.columns else 0
    parts = []
    for tz in {infos[int(m)].timezone for m in data["meter_id"].unique()}:
        same = data["meter_id"].map(lambda m, tz=tz: infos[int(m)].timezone == tz)
        part = data[same].copy()
        part["day"] = part["ts"].dt.tz_convert(ZoneInfo(tz)).dt.date
        parts.append(part)
    data = pd.concat(parts)
    data["occupants"] = data["occupants"].fillna(0.0)
    grouped = data.groupby(["meter_id", "day"])
    days = grouped.agg(
        actual=("kwh", "sum"),
        expected=("expected", "sum"),
        low=("occupants", "min"),
        high=("occupants", "max"),
        readings=("kwh", "count"),
        interval_h=("interval_h", "first"),
        hostel_id=("hostel_id", "first"),
    ).reset_index()
    days = days[days["readings"] >= min_coverage * 24 / days["interval_h"]]
    days["occupants"] = days["high"]
    days["steady"] = days["low"] == days["high"]
    return days[["meter_id", "day", "actual", "expected", "occupants", "steady", "hostel_id"]].reset_index(drop=True)


def peer_adjusted(days: pd.DataFrame, *, peer_minimum: int, floor_kwh: float) -> pd.Series:
    """Each room day's log ratio of used to expected, less the median of its hostel's lived-in rooms that day."""
    ratio = pd.Series(
        np.log((days["actual"] + floor_kwh) / (days["expected"].clip(lower=0.0) + floor_kwh)), index=days.index
    )
    lived = days["occupants"] > 0
    by_hostel = ratio[lived].groupby([days["hostel_id"][lived], days["day"][lived]])
    hostel = by_hostel.median().where(by_hostel.count() >= peer_minimum)
    campus = ratio[lived].groupby(days["day"][lived]).median()
    shared = hostel.reindex(pd.MultiIndex.from_arrays([days["hostel_id"], days["day"]])).to_numpy()
    shared = np.where(np.isnan(shared), campus.reindex(days["day"]).to_numpy(), shared)
    return ratio - np.nan_to_num(shared, nan=0.0)


def _steady_run(rows: pd.DataFrame) -> pd.DataFrame:
    """The room's last days with the same residents as its last day (consecutive, none empty)."""
    occupants = rows["occupants"].to_numpy()
    steady = rows["steady"].to_numpy()
    dates = pd.to_datetime(rows["day"]).to_numpy()
    last = occupants[-1]
    first = len(rows) - 1
    while first > 0:
        gap = (dates[first] - dates[first - 1]) / np.timedelta64(1, "D")
        if gap > 2 or occupants[first - 1] != last or not steady[first - 1]:
            break
        first -= 1
    return rows.iloc[first:]


def drift_judge(*, days: pd.DataFrame, position: int, config: DriftConfig, meter_id: int) -> DriftFinding | None:
    """Whether one room's day at `position` of its `days` (sorted by day, with `adjusted`) ends a drift."""
    rows = days.iloc[max(0, position - config.lookback_days + 1) : position + 1]
    last = rows.iloc[-1]
    if last["occupants"] <= 0 or not last["steady"]:
        return None
    run = _steady_run(rows)
    n = len(run)
    if n < config.min_days:
        return None
    # Days its residents were away (far below what the model expected of them) or a register reset are no level.
    run = run[(run["actual"] >= config.away_share * run["expected"]) & (run["actual"] >= 0)]
    n = len(run)
    if n < config.min_days:
        return None
    y = run["adjusted"].to_numpy(dtype=float)
    t = (pd.to_datetime(run["day"]) - pd.Timestamp(run["day"].iloc[0])).dt.days.to_numpy(dtype=float)
    slope, _, low, _ = theilslopes(y, t, alpha=config.confidence)
    if low <= 0 or np.exp(slope * config.lookback_days) - 1.0 < config.min_pace:
        return None
    k = config.recent_days
    before, recent = float(np.median(y[: max(k, n // 3)])), float(np.median(y[-k:]))
    rise = float(np.exp(recent - before) - 1.0)
    if rise < config.min_rise or y[-1] < float(np.median(y)):
        return None
    actual = float(last["actual"])
    level = actual / (1.0 + rise)
    if (actual - level) / 24.0 < config.min_rise_kw:
        return None
    # Since when: the day after the last one still near the first days' level (before the rise).
    smooth = pd.Series(y).rolling(k, center=True, min_periods=1).median().to_numpy()
    near = np.flatnonzero(smooth[: n - k] <= before + 0.25 * (recent - before))
    onset = int(near[-1]) + 1 if len(near) else 0
    return DriftFinding(
        meter_id=meter_id,
        day=last["day"],
        since=run["day"].iloc[onset],
        actual_kwh=actual,
        expected_kwh=level,
        rise=rise,
        days=n,
        occupants=int(last["occupants"]),
        score=float(1.0 - 0.5 * np.exp(-low / max(slope - low, 1e-6))),
        extra={"rise": rise, "days": float(n)},
    )


def _midnight_between(start: dt.datetime, end: dt.datetime, zone: ZoneInfo) -> bool:
    """Whether a local day ends in (start, end]."""
    last = (end - dt.timedelta(microseconds=1)).astimezone(zone).date()
    return day_bounds(last, zone)[0] > start or day_bounds(last, zone)[1] <= end


def drift_findings(
    *,
    infos: dict[int, MeterInfo],
    meter_ids: Iterable[int],
    start: dt.datetime,
    end: dt.datetime,
    model: Any,
    frame: pd.DataFrame | None = None,
    config: DriftConfig | None = None,
) -> list[DriftFinding]:
    """Drift findings on the room meters among `meter_ids` for complete local days touching [start, end).

    `model` is the anomaly baseline (`AnomalyBaseline`) that judged [start, end); `frame`, when given,
    holds the readings with their context and must reach back `lookback_days` before start, otherwise
    they are read from the database.
    """
    config = config or DriftConfig()
    rooms = sorted(i for i in set(meter_ids) if i in infos and infos[i].kind == "room")
    # Nothing to judge (and nothing to read) unless a local midnight passed in (start, end].
    zones = {infos[i].timezone for i in rooms}
    if not any(_midnight_between(start, end, ZoneInfo(tz)) for tz in zones):
        return []
    since = start - dt.timedelta(days=config.lookback_days + 2)
    if frame is None:
        rows = frame_load(meter_ids=rooms, start=since, end=end)
    else:
        keep = frame["meter_id"].isin(rooms) & (frame["ts"] >= pd.Timestamp(since)) & (frame["ts"] < pd.Timestamp(end))
        rows = frame[keep].reset_index(drop=True)
    if rows.empty:
        return []
    expected = model.predict(rows, with_iforest=False, peers=True).expected
    days = room_days(frame=rows, expected=expected, infos=infos, min_coverage=config.min_coverage)
    if days.empty:
        return []
    days["adjusted"] = peer_adjusted(days, peer_minimum=config.peer_minimum, floor_kwh=config.floor_kw * 24)
    found = []
    for meter_id, own in days.groupby("meter_id"):
        info = infos[int(str(meter_id))]
        zone = ZoneInfo(info.timezone)
        own = own.sort_values("day")
        own = own.reset_index(drop=True)
        judged = [i for i, d in enumerate(own["day"]) if start < day_bounds(d, zone)[1] <= end]
        rising = [f for i in judged if (f := drift_judge(days=own, position=i, config=config, meter_id=info.id))]
        if not rising:
            continue
        # One finding per room and run: the days it was found rising, with the latest day's figures.
        finding = rising[-1]
        finding.first = rising[0].day
        finding.actual_kwh = sum(f.actual_kwh for f in rising)
        finding.expected_kwh = sum(f.expected_kwh for f in rising)
        finding.start, finding.end = day_bounds(rising[0].day, zone)[0], day_bounds(finding.day, zone)[1]
        found.append(finding)
    return found


def drift_explain(
    *, info: MeterInfo, start: dt.datetime, end: dt.datetime, actual: float, level: float, extra: dict[str, float]
) -> str:
    """One sentence for a warden: since when the room has been rising, by how much, and what to check."""
    zone = ZoneInfo(info.timezone)
    since = dt.date.fromordinal(int(extra["since"]))
    last = (end - dt.timedelta(seconds=1)).astimezone(zone).date()
    first = start.astimezone(zone).date()
    days = (last - first).days + 1
    occupants = int(extra.get("occupants", 0))
    who = f"{info.room_label}, {info.bed_type} beds, {occupants} occupant{'s' if occupants != 1 else ''}"
    when = f"{WEEKDAYS[last.weekday()]} {last.day} {last:%b %Y}"
    over = f"on {when}" if days == 1 else f"in the {days} days to {when}"
    return (
        f"{who}: use has crept up day after day since {WEEKDAYS[since.weekday()]} {since.day} {since:%b %Y}, "
        f"with the same residents and allowing for the weather and the calendar: {actual:.1f} kWh {over} where "
        f"its earlier level was about {level:.1f} kWh ({100 * extra['rise']:.0f} % more at the end, about "
        f"{max(actual - level, 0.0) / (24 * days):.2f} kW). Check for an appliance running harder or longer "
        "(a failing fridge, a heater stuck on) or a faulty meter."
    )


def drift_found(*, findings: list[DriftFinding], policies: dict[int, Any], make: Callable[..., T]) -> list[T]:
    """Drift findings as the detection pipeline's incidents (`make` is its `Found`); a suppressed kind is muted."""
    out = []
    for finding in findings:
        if finding.start is None or finding.end is None:
            continue
        policy = policies.get(finding.meter_id)
        muted = bool(policy and (KIND in policy.suppressed_kinds or not policy.fit))
        days = max(round((finding.end - finding.start).total_seconds() / 86400), 1)
        hourly = max(finding.actual_kwh - finding.expected_kwh, 0.0) / (24 * days)
        out.append(
            make(
                meter_id=finding.meter_id,
                kind=KIND,
                start=finding.start,
                end=finding.end,
                score=finding.score,
                expected_kwh=finding.expected_kwh,
                actual_kwh=finding.actual_kwh,
                detectors=["room_drift"],
                muted=muted,
                occupants=float(finding.occupants),
                excess=[(finding.start + dt.timedelta(hours=h), hourly) for h in range(24 * days)],
                extra=finding.extra | {"since": float(finding.since.toordinal()), "occupants": finding.occupants},
            )
        )
    return out
