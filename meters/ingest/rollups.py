"""Hourly and daily rollups, recomputed only for the hours and local days a batch touched.

Days are the hostel site's local days: a day is [local midnight, next local midnight) turned
into UTC, so DST days have 23 or 25 hours. Daily rows are summed from hourly rows, which is
exact wherever the site's UTC offset is a whole number of hours. A negative interval (a register
reset's naive delta, which only a simulator writes: validation quarantines it) is never summed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from django.db import IntegrityError, connection, transaction
from django.db.models import Avg, Count, Max, Min, Q, Sum
from django.db.models.functions import TruncDate, TruncHour

from meters.ingest import hourly as known_hours
from meters.ingest.arrays import date_array, float_array, int_array, timestamp_array
from meters.ingest.hostel_rollups import hostel_rollups_update
from meters.ingest.hourly import HourlyAccumulator
from meters.ingest.types import Gap, MeterRange
from meters.models import DailyRollup, HourlyRollup, Meter, Quality, Reading


def _hour_floor(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


def local_day_bounds(*, start: dt.datetime, end: dt.datetime, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """UTC bounds of the whole local days that contain [start, end]."""
    first = start.astimezone(tz).date()
    last = end.astimezone(tz).date() + dt.timedelta(days=1)
    return (
        dt.datetime.combine(first, dt.time(), tz).astimezone(dt.UTC),
        dt.datetime.combine(last, dt.time(), tz).astimezone(dt.UTC),
    )


def _timezones(meter_ids: list[int]) -> dict[int, str]:
    return {
        meter_id: tz or "UTC"
        for meter_id, tz in Meter.objects.filter(id__in=meter_ids).values_list("id", "hostel__site__timezone")
    }


def meters_lock(*, meter_ids: list[int]) -> None:
    """Lock these meters' rows in id order until commit (PostgreSQL).

    Two batches for the same meters then run one after the other: the second waits for the first
    to commit, and its gap and rollup statements see the first one's readings. Id order means two
    single-chunk batches (every API call) cannot deadlock; two huge files sharing meters in a
    different order can, and PostgreSQL then rolls one back (re-running it is safe: imports are
    idempotent).
    """
    if connection.vendor != "postgresql" or not meter_ids:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {Meter._meta.db_table} WHERE id = ANY(%s) ORDER BY id FOR NO KEY UPDATE",
            [sorted(meter_ids)],
        )


def meter_delete_lock(sender: type[Meter], instance: Meter, **kwargs: object) -> None:
    """Before a meter and its rows are deleted, wait for any ingest holding it (pre_delete, PostgreSQL).

    Readings and rollups have no database foreign key (it was checked row by row at commit). Django
    deletes a meter's readings and rollups, then the meter, in one transaction; without this lock an
    ingest that locked the meter earlier could commit rollups after those deletes ran and leave them
    without a meter. With it, the delete waits for that ingest, and its deletes then see its rows.
    """
    if connection.vendor != "postgresql" or instance.pk is None:
        return
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {Meter._meta.db_table} WHERE id = %s FOR UPDATE", [instance.pk])


def meters_touch(*, ranges: Mapping[int, MeterRange]) -> None:
    """Move each meter's last_reading_at forward to the newest reading written, never back."""
    if not ranges:
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                UPDATE {Meter._meta.db_table} AS m SET last_reading_at = a.last
                FROM unnest(%s::bigint[], %s::timestamptz[]) AS a(id, last)
                WHERE m.id = a.id AND (m.last_reading_at IS NULL OR m.last_reading_at < a.last)
                """,
                [int_array(ranges), timestamp_array(span.end for span in ranges.values())],
            )
        return
    for meter_id, span in ranges.items():
        Meter.objects.filter(pk=meter_id).filter(
            Q(last_reading_at__isnull=True) | Q(last_reading_at__lt=span.end)
        ).update(last_reading_at=span.end)


def rollups_update(
    *, ranges: Mapping[int, MeterRange], known: HourlyAccumulator | None = None, gaps: Sequence[Gap] = ()
) -> int:
    """Bring hourly, daily and hostel rollups up to date for the given meters and spans; returns rows written.

    `known` (PostgreSQL): the hours a large batch COPied, summed while it was written (meters.ingest.hourly);
    `gaps` then names the estimates written since, whose hours are recomputed from the table.
    """
    if not ranges:
        return 0
    zones = _timezones(list(ranges))
    hours: list[tuple[int, dt.datetime, dt.datetime]] = []
    days: list[tuple[int, dt.datetime, dt.datetime]] = []
    for meter_id, span in ranges.items():
        day_start, day_end = local_day_bounds(start=span.start, end=span.end, tz=ZoneInfo(zones.get(meter_id, "UTC")))
        hours.append((meter_id, _hour_floor(span.start), _hour_floor(span.end) + dt.timedelta(hours=1)))
        days.append((meter_id, day_start, day_end))
    exact = None
    if connection.vendor == "postgresql":
        if known is not None and known.worth_it():
            written, exact = _update_postgresql(hours, days, known=known, gaps=gaps, zones=zones)
        else:
            written, _ = _update_postgresql(hours, days)
    else:
        written = _update_generic(hours, days, zones)
    return written + hostel_rollups_update(spans=hours, exact=exact)


def _arrays(spans: list[tuple[int, dt.datetime, dt.datetime]]) -> list[str]:
    return [int_array(s[0] for s in spans), timestamp_array(s[1] for s in spans), timestamp_array(s[2] for s in spans)]


_HOURLY_SELECT = """
    SELECT a.meter_id, b.hour, b.kwh, b.readings, b.estimated, b.peak_kwh * 60.0 / m.interval_minutes,
           b.voltage_avg, b.voltage_min, b.voltage_max, b.power_factor_avg
    FROM unnest(%s::bigint[], %s::timestamptz[], %s::timestamptz[]) AS a(meter_id, s, e)
    JOIN {meter} m ON m.id = a.meter_id
    -- LATERAL: one index range scan per meter, whatever the planner thinks of the table's size
    -- (a small table once got a sequential scan and a hash join: 150 ms a batch).
    CROSS JOIN LATERAL (
        SELECT date_trunc('hour', r.timestamp AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS hour,
               sum(r.kwh) AS kwh, count(*) AS readings,
               count(*) FILTER (WHERE r.quality = {estimated}) AS estimated, max(r.kwh) AS peak_kwh,
               avg(r.voltage) AS voltage_avg, min(r.voltage) AS voltage_min, max(r.voltage) AS voltage_max,
               avg(r.power_factor) AS power_factor_avg
        FROM {reading} r
        WHERE r.meter_id = a.meter_id AND r.timestamp >= a.s AND r.timestamp < a.e AND r.kwh >= 0
        GROUP BY 1
    ) b
"""
_HOURLY_COLUMNS = (
    "meter_id, hour, kwh, readings, estimated, peak_kw, voltage_avg, voltage_min, voltage_max, power_factor_avg"
)
_HOURLY_UPSERT = """
    ON CONFLICT (meter_id, hour) DO UPDATE SET
        kwh = EXCLUDED.kwh, readings = EXCLUDED.readings, estimated = EXCLUDED.estimated,
        peak_kw = EXCLUDED.peak_kw, voltage_avg = EXCLUDED.voltage_avg, voltage_min = EXCLUDED.voltage_min,
        voltage_max = EXCLUDED.voltage_max, power_factor_avg = EXCLUDED.power_factor_avg
"""


def _without_rollups(cursor: Any, spans: list[tuple[int, dt.datetime, dt.datetime]]) -> set[int]:
    """The meters with no hourly rollup at all in their span (an index probe per meter)."""
    cursor.execute(
        f"""
        SELECT a.meter_id FROM unnest(%s::bigint[], %s::timestamptz[], %s::timestamptz[]) AS a(meter_id, s, e)
        WHERE NOT EXISTS (
            SELECT 1 FROM {HourlyRollup._meta.db_table} h
            WHERE h.meter_id = a.meter_id AND h.hour >= a.s AND h.hour < a.e
        )
        """,
        _arrays(spans),
    )
    return {int(row[0]) for row in cursor.fetchall()}


def _update_hourly_postgresql(cursor: Any, hours: list[tuple[int, dt.datetime, dt.datetime]]) -> int:
    """Hourly rollups of these spans, recomputed from the readings in one statement (or two).

    Spans with no rollup yet (a first load, a meter's next hours) are a plain INSERT: ON CONFLICT
    probes the unique index once more per row before inserting, a quarter of the time of the whole
    statement on a fresh import (bench/ingest_file.py). The savepoint makes a clash with a writer
    that does not lock meters (none in ingestion) fall back to the upsert.
    """
    query = _HOURLY_SELECT.format(
        meter=Meter._meta.db_table, reading=Reading._meta.db_table, estimated=int(Quality.ESTIMATED)
    )
    insert = f"INSERT INTO {HourlyRollup._meta.db_table} ({_HOURLY_COLUMNS}) {query}"
    fresh = _without_rollups(cursor, hours)
    written = 0
    if fresh:
        try:
            with transaction.atomic():
                cursor.execute(insert, _arrays([span for span in hours if span[0] in fresh]))
                written += cursor.rowcount
        except IntegrityError:
            fresh = set()
    rest = [span for span in hours if span[0] not in fresh]
    if rest:
        cursor.execute(insert + _HOURLY_UPSERT, _arrays(rest))
        written += cursor.rowcount
    return written


_HOURLY_STAGE = "wattwatch_hourly_stage"


def _epoch_spans(spans: list[tuple[int, int, int]]) -> list[str]:
    return [
        int_array(s[0] for s in spans),
        timestamp_array(dt.datetime.fromtimestamp(s[1], dt.UTC) for s in spans),
        timestamp_array(dt.datetime.fromtimestamp(s[2], dt.UTC) for s in spans),
    ]


def _write_known_hourly(cursor: Any, known: HourlyAccumulator, *, gaps: list[Gap]) -> tuple[pd.DataFrame, set[int]]:
    """Write the hours summed in NumPy; their edge hours and filled gaps are recomputed from the table first.

    Returns the rows written and the meters whose rows were COPied into a range of hours (their first
    to their last) that held no rollup before: the table's hours of those meters there are exactly these rows.
    """
    intervals = dict(Meter.objects.filter(id__in=sorted(known.meters())).values_list("id", "interval_minutes"))
    frame = known.frame(intervals=intervals)
    hour = known_hours.HOUR
    recompute = known.edges()
    for gap in gaps:
        if gap.filled:
            first = int(gap.start.timestamp()) // hour * hour
            last = (int(gap.end.timestamp()) - 1) // hour * hour
            recompute.append((gap.meter_id, first, last + hour))
    if recompute:
        query = _HOURLY_SELECT.format(
            meter=Meter._meta.db_table, reading=Reading._meta.db_table, estimated=int(Quality.ESTIMATED)
        )
        cursor.execute(query, _epoch_spans(recompute))
        fresh = pd.DataFrame(cursor.fetchall(), columns=list(known_hours.COLUMNS))
        fresh["hour"] = [int(moment.timestamp()) for moment in fresh["hour"]]
        frame = known_hours.replace_hours(frame, recompute, fresh.astype(known_hours.DTYPES))
    if frame.empty:
        return frame, set()
    bounds = frame.groupby("meter_id")["hour"].agg(["min", "max"])
    spans = [
        (int(m), dt.datetime.fromtimestamp(low, dt.UTC), dt.datetime.fromtimestamp(high + hour, dt.UTC))
        for m, low, high in zip(bounds.index.tolist(), bounds["min"].tolist(), bounds["max"].tolist(), strict=True)
    ]
    empty = _without_rollups(cursor, spans)
    table = HourlyRollup._meta.db_table
    direct = frame["meter_id"].isin(list(empty))
    if direct.any():
        try:
            with transaction.atomic():
                _copy_hourly(cursor, table, frame if direct.all() else frame[direct])
        except IntegrityError:  # a rollup written since the probe: everything goes through the upsert
            direct[:] = False
            empty = set()
    rest = frame[~direct]
    if len(rest):
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {_HOURLY_STAGE} (meter_id bigint, hour timestamptz, kwh float8, "
            "readings smallint, estimated smallint, peak_kw float8, voltage_avg float8, voltage_min float8, "
            "voltage_max float8, power_factor_avg float8) ON COMMIT DELETE ROWS"
        )
        cursor.execute(f"TRUNCATE {_HOURLY_STAGE}")
        _copy_hourly(cursor, _HOURLY_STAGE, rest)
        cursor.execute(
            f"INSERT INTO {table} ({_HOURLY_COLUMNS}) SELECT {_HOURLY_COLUMNS} FROM {_HOURLY_STAGE} {_HOURLY_UPSERT}"
        )
    return frame, empty


def _copy_hourly(cursor: Any, table: str, frame: pd.DataFrame) -> None:
    with (
        cursor.db.wrap_database_errors,
        cursor.cursor.copy(f"COPY {table} ({_HOURLY_COLUMNS}) FROM STDIN (FORMAT binary)") as copy,
    ):
        for piece in known_hours.copy_pieces(frame):
            copy.write(piece)


def _update_postgresql(
    hours: list[tuple[int, dt.datetime, dt.datetime]],
    days: list[tuple[int, dt.datetime, dt.datetime]],
    *,
    known: HourlyAccumulator | None = None,
    gaps: Sequence[Gap] = (),
    zones: Mapping[int, str] | None = None,
) -> tuple[int, pd.DataFrame | None]:
    """Returns the rows written and, with `known`, the hourly rows of the meters COPied into hours that held
    no rollup (`_write_known_hourly`): over their first to last hour the table holds exactly those rows."""
    hourly, daily = HourlyRollup._meta.db_table, DailyRollup._meta.db_table
    meter = Meter._meta.db_table
    hostel, site = "meters_hostel", "meters_site"
    exact = None
    with connection.cursor() as cursor:
        written = 0
        if known is not None:
            summed = known.meters()
            frame, direct = _write_known_hourly(cursor, known, gaps=[gap for gap in gaps if gap.meter_id in summed])
            written += len(frame)
            hours = [span for span in hours if span[0] not in summed]
            if direct:
                # Their inner days summed from those hours (a SQL pass over them was 3 s of a 1.29 M-row
                # import); the first and last day of each meter, which may hold older hours, stay below.
                exact = frame[frame["meter_id"].isin(list(direct))]
                inner = known_hours.inner_days(exact, dict(zones or {}))
                written += _write_days(cursor, inner)
                days = _days_around(days, inner, zones or {})
        written += _update_hourly_postgresql(cursor, hours)
        cursor.execute(
            f"""
            INSERT INTO {daily} (meter_id, day, kwh, readings, estimated, peak_kw)
            SELECT a.meter_id, b.day, b.kwh, b.readings, b.estimated, b.peak_kw
            FROM unnest(%s::bigint[], %s::timestamptz[], %s::timestamptz[]) AS a(meter_id, s, e)
            JOIN {meter} m ON m.id = a.meter_id
            LEFT JOIN {hostel} ho ON ho.id = m.hostel_id
            LEFT JOIN {site} st ON st.id = ho.site_id
            CROSS JOIN LATERAL (
                SELECT (h.hour AT TIME ZONE coalesce(st.timezone, 'UTC'))::date AS day, sum(h.kwh) AS kwh,
                       sum(h.readings) AS readings, sum(h.estimated) AS estimated, max(h.peak_kw) AS peak_kw
                FROM {hourly} h
                WHERE h.meter_id = a.meter_id AND h.hour >= a.s AND h.hour < a.e
                GROUP BY 1
            ) b
            ON CONFLICT (meter_id, day) DO UPDATE SET
                kwh = EXCLUDED.kwh, readings = EXCLUDED.readings, estimated = EXCLUDED.estimated,
                peak_kw = EXCLUDED.peak_kw
            """,
            _arrays(days),
        )
        return written + cursor.rowcount, exact


def _write_days(cursor: Any, days: pd.DataFrame) -> int:
    """Upsert these daily rollups (meters.ingest.hourly.DAY_COLUMNS)."""
    if days.empty:
        return 0
    cursor.execute(
        f"""
        INSERT INTO {DailyRollup._meta.db_table} (meter_id, day, kwh, readings, estimated, peak_kw)
        SELECT * FROM unnest(%s::bigint[], %s::date[], %s::float8[], %s::bigint[], %s::bigint[], %s::float8[])
        ON CONFLICT (meter_id, day) DO UPDATE SET
            kwh = EXCLUDED.kwh, readings = EXCLUDED.readings, estimated = EXCLUDED.estimated,
            peak_kw = EXCLUDED.peak_kw
        """,
        [
            int_array(days["meter_id"].tolist()),
            date_array(days["day"].tolist()),
            float_array(days["kwh"].tolist()),
            int_array(days["readings"].tolist()),
            int_array(days["estimated"].tolist()),
            float_array(days["peak_kw"].tolist()),
        ],
    )
    return len(days)


def _days_around(
    days: list[tuple[int, dt.datetime, dt.datetime]], inner: pd.DataFrame, zones: Mapping[int, str]
) -> list[tuple[int, dt.datetime, dt.datetime]]:
    """`days` (meter, UTC bounds of its local days) without each meter's `inner` days: the days before
    its first inner day and after its last, which the daily statement still sums from the table."""
    if inner.empty:
        return days
    bounds = inner.groupby("meter_id")["day"].agg(["min", "max"])
    first, last = (
        dict(zip(bounds.index.tolist(), bounds["min"].tolist(), strict=True)),
        dict(zip(bounds.index.tolist(), bounds["max"].tolist(), strict=True)),
    )
    out = []
    for meter_id, start, end in days:
        if meter_id not in first:
            out.append((meter_id, start, end))
            continue
        tz = ZoneInfo(zones.get(meter_id, "UTC"))
        inner_start = dt.datetime.combine(first[meter_id], dt.time(), tz).astimezone(dt.UTC)
        inner_end = dt.datetime.combine(last[meter_id] + dt.timedelta(days=1), dt.time(), tz).astimezone(dt.UTC)
        out += [(meter_id, start, inner_start), (meter_id, inner_end, end)]
    return out


def _update_generic(
    hours: list[tuple[int, dt.datetime, dt.datetime]],
    days: list[tuple[int, dt.datetime, dt.datetime]],
    zones: dict[int, str],
) -> int:
    written = 0
    intervals = dict(Meter.objects.filter(id__in=[h[0] for h in hours]).values_list("id", "interval_minutes"))
    for meter_id, start, end in hours:
        per_hour = 60.0 / intervals[meter_id]
        rows = (
            Reading.objects.filter(meter_id=meter_id, timestamp__gte=start, timestamp__lt=end, kwh__gte=0)
            .annotate(bucket=TruncHour("timestamp", tzinfo=dt.UTC))
            .values("bucket")
            .annotate(
                total=Sum("kwh"),
                n=Count("id"),
                est=Count("id", filter=Q(quality=Quality.ESTIMATED)),
                peak=Max("kwh"),
                v_avg=Avg("voltage"),
                v_min=Min("voltage"),
                v_max=Max("voltage"),
                pf=Avg("power_factor"),
            )
        )
        objs = [
            HourlyRollup(
                meter_id=meter_id,
                hour=row["bucket"],
                kwh=row["total"],
                readings=row["n"],
                estimated=row["est"],
                peak_kw=row["peak"] * per_hour,
                voltage_avg=row["v_avg"],
                voltage_min=row["v_min"],
                voltage_max=row["v_max"],
                power_factor_avg=row["pf"],
            )
            for row in rows
        ]
        HourlyRollup.objects.bulk_create(
            objs,
            update_conflicts=True,
            unique_fields=["meter", "hour"],
            update_fields=list(known_hours.COLUMNS[2:]),  # every column but the key
        )
        written += len(objs)
    for meter_id, start, end in days:
        tz = ZoneInfo(zones.get(meter_id, "UTC"))
        day_rows = (
            HourlyRollup.objects.filter(meter_id=meter_id, hour__gte=start, hour__lt=end)
            .annotate(local_day=TruncDate("hour", tzinfo=tz))
            .values("local_day")
            .annotate(total=Sum("kwh"), n=Sum("readings"), est=Sum("estimated"), peak=Max("peak_kw"))
        )
        day_objs = [
            DailyRollup(
                meter_id=meter_id,
                day=row["local_day"],
                kwh=row["total"],
                readings=row["n"],
                estimated=row["est"],
                peak_kw=row["peak"],
            )
            for row in day_rows
        ]
        DailyRollup.objects.bulk_create(
            day_objs,
            update_conflicts=True,
            unique_fields=["meter", "day"],
            update_fields=["kwh", "readings", "estimated", "peak_kw"],
        )
        written += len(day_objs)
    return written
