"""Day findings for building-level meters over a span: read the readings, learn the week, judge, merge runs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo

import pandas as pd

from meters.models import AcademicPeriod, Reading
from predictions.detection.days.judge import days_judge
from predictions.detection.days.model import DayConfig, DayFinding, day_bounds
from predictions.detection.days.profiles import building_meter_ids, calendar_dates, closed_weekdays, day_profiles
from predictions.detection.days.runs import closures_merge
from predictions.detection.frames import MeterInfo


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
