"""Hourly rollups summed in NumPy while a large batch is written (PostgreSQL), not read back from the table.

Recomputing a bulk import's rollups from the readings it has just written re-read every reading and
inserted the rollups row by row: 16.2 s of a 1.29 M-row import, 4.8 s of it the read
(bench/ingest_file.py, EXPLAIN ANALYZE). The batch's rows are already in memory, so their hours are
summed here and COPied instead, where that gives exactly what the table would:

- Only rows written by the COPY path count: that path first checks that the meter had no reading
  in the chunk's [first, last] span. An hour strictly inside such a span therefore holds exactly the
  rows this import wrote there (later chunks are summed in too, or mark the meter as written other ways).
- The first and last hour of each span may hold older readings, and filled gaps add estimates:
  those hours are recomputed from the table by the rollups module (a few hundred small scans).
- A meter any chunk wrote by the upsert path (an overlapping or repeated import) is left entirely to
  the rollups module's recomputation, as before.

Daily rollups of the local days strictly inside a meter's written hours are summed from them too
(`inner_days`), where the table held no rollup of that meter in that range before.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from meters.models import Quality

HOUR = 3600
# Below this many rows, recomputing from the table is as quick and takes fewer statements (API batches).
MIN_ROWS = 5_000
COLUMNS = (
    "meter_id",
    "hour",
    "kwh",
    "readings",
    "estimated",
    "peak_kw",
    "voltage_avg",
    "voltage_min",
    "voltage_max",
    "power_factor_avg",
)
# The frame's dtypes. Rows read back from the table come with None for NULL (object columns): cast to
# these before they join the summed ones, or the whole frame turns to objects (2 s of concat and casts
# for 1.29 M rows).
DTYPES = {name: "int64" if name in ("meter_id", "hour", "readings", "estimated") else "float64" for name in COLUMNS}
_SUMS = ("kwh", "readings", "estimated", "v_sum", "v_n", "pf_sum", "pf_n")


@dataclass
class HourlyAccumulator:
    """Partial hourly sums of the rows a batch COPied, the spans they covered, and the meters written otherwise."""

    parts: list[pd.DataFrame] = field(default_factory=list)
    spans: list[tuple[int, int, int]] = field(default_factory=list)  # (meter id, first epoch, last epoch)
    other: set[int] = field(default_factory=set)
    rows: int = 0

    def add_copied(self, rows: pd.DataFrame) -> None:
        """Rows (meter_id, epoch, kwh, voltage, power_factor, quality) stored by COPY into an empty span."""
        if rows.empty:
            return
        meter = rows["meter_id"].to_numpy(dtype="int64")
        epoch = rows["epoch"].to_numpy(dtype="int64")
        spans = pd.DataFrame({"m": meter, "e": epoch}).groupby("m")["e"].agg(["min", "max"])
        self.spans.extend(zip(spans.index.tolist(), spans["min"].tolist(), spans["max"].tolist(), strict=True))
        kwh = rows["kwh"].to_numpy(dtype="float64")
        keep = kwh >= 0  # as the rollup statement: a negative interval is never summed
        voltage = rows["voltage"].to_numpy(dtype="float64")[keep]
        power_factor = rows["power_factor"].to_numpy(dtype="float64")[keep]
        frame = pd.DataFrame(
            {
                "meter_id": meter[keep],
                "hour": epoch[keep] // HOUR * HOUR,
                "kwh": kwh[keep],
                "readings": 1,
                "estimated": (rows["quality"].to_numpy()[keep] == int(Quality.ESTIMATED)).astype("int64"),
                "peak": kwh[keep],
                "v_sum": np.nan_to_num(voltage),
                "v_n": (~np.isnan(voltage)).astype("int64"),
                "v_min": voltage,
                "v_max": voltage,
                "pf_sum": np.nan_to_num(power_factor),
                "pf_n": (~np.isnan(power_factor)).astype("int64"),
            }
        )
        # Hourly meters: each row is an hour of its own, and grouping would change nothing (1.5 s for
        # 1.29 M rows). Otherwise (15- and 30-minute meters) the rows of each hour are summed here.
        self.parts.append(frame if _one_row_per_hour(frame) else _combine(frame))
        self.rows += len(rows)

    def add_other(self, meter_ids: list[int]) -> None:
        """Meters a chunk wrote by the upsert path: their rollups are recomputed from the table."""
        self.other.update(meter_ids)

    def worth_it(self) -> bool:
        return self.rows >= MIN_ROWS

    def meters(self) -> set[int]:
        return {span[0] for span in self.spans} - self.other

    def edges(self) -> list[tuple[int, int, int]]:
        """(meter, hour start, hour end) of the first and last hour of each COPied span, as epochs."""
        out: set[tuple[int, int, int]] = set()
        for meter_id, first, last in self.spans:
            if meter_id in self.other:
                continue
            for moment in (first, last):
                hour = moment // HOUR * HOUR
                out.add((meter_id, hour, hour + HOUR))
        return sorted(out)

    def frame(self, *, intervals: dict[int, int]) -> pd.DataFrame:
        """One row per (meter, hour) in COLUMNS (hour as epoch seconds), meters written otherwise left out."""
        if not self.parts:
            return pd.DataFrame(columns=list(COLUMNS))
        # Column by column: concatenating (and then building) frames of 1.29 M rows stacked every column
        # into blocks twice (0.4 to 0.6 s); copy=False keeps the arrays as they are.
        sums = pd.DataFrame(
            {name: np.concatenate([part[name].to_numpy() for part in self.parts]) for name in self.parts[0].columns},
            copy=False,
        )
        self.parts = [sums]
        if not _one_row_per_hour(sums):  # an hour split between two chunks
            sums = _combine(sums)
        if self.other:
            sums = sums[~sums["meter_id"].isin(list(self.other))]
        minutes = sums["meter_id"].map(intervals).to_numpy(dtype="float64")
        with np.errstate(invalid="ignore", divide="ignore"):
            return pd.DataFrame(
                copy=False,
                data={
                    "meter_id": sums["meter_id"].to_numpy(dtype="int64"),
                    "hour": sums["hour"].to_numpy(dtype="int64"),
                    "kwh": sums["kwh"].to_numpy(dtype="float64"),
                    "readings": sums["readings"].to_numpy(dtype="int64"),
                    "estimated": sums["estimated"].to_numpy(dtype="int64"),
                    "peak_kw": sums["peak"].to_numpy(dtype="float64") * 60.0 / minutes,
                    "voltage_avg": np.where(sums["v_n"] > 0, sums["v_sum"] / sums["v_n"], np.nan),
                    "voltage_min": sums["v_min"].to_numpy(dtype="float64"),
                    "voltage_max": sums["v_max"].to_numpy(dtype="float64"),
                    "power_factor_avg": np.where(sums["pf_n"] > 0, sums["pf_sum"] / sums["pf_n"], np.nan),
                },
            )


def _combine(frame: pd.DataFrame) -> pd.DataFrame:
    grouped = frame.groupby(["meter_id", "hour"], sort=False)
    out = grouped[list(_SUMS)].sum()
    out["peak"] = grouped["peak"].max()
    out["v_min"] = grouped["v_min"].min()
    out["v_max"] = grouped["v_max"].max()
    return out.reset_index()


def replace_hours(frame: pd.DataFrame, spans: list[tuple[int, int, int]], fresh: pd.DataFrame) -> pd.DataFrame:
    """`frame` without its hours inside `spans`, plus `fresh` (those spans' hours recomputed from the table)."""
    if not spans:
        return frame
    keys: list[int] = []
    for meter_id, start, end in spans:
        keys.extend(meter_id * _KEY + hour // HOUR for hour in range(start, end, HOUR))
    keep = ~np.isin(_hour_keys(frame), np.array(keys, dtype="int64"))
    if not len(fresh):
        return frame[keep]
    # Column by column, as `HourlyAccumulator.frame` (a frame's concat stacks 1.29 M rows into blocks again).
    return pd.DataFrame(
        {name: np.concatenate([frame[name].to_numpy()[keep], fresh[name].to_numpy()]) for name in frame.columns},
        copy=False,
    )


_KEY = 1 << 24  # (meter, hour) as one integer: hours since 1970 stay below 2**24 until the year 3884


def _hour_keys(frame: pd.DataFrame) -> np.ndarray:
    """Each row's (meter, hour) as one integer."""
    return frame["meter_id"].to_numpy(dtype="int64") * _KEY + frame["hour"].to_numpy(dtype="int64") // HOUR


def _one_row_per_hour(frame: pd.DataFrame) -> bool:
    """No two rows share a meter's hour (checked in one pass when they come in order, as an import's do)."""
    key = _hour_keys(frame)
    return bool((key[1:] > key[:-1]).all()) or pd.Index(key).is_unique


DAY_COLUMNS = ("meter_id", "day", "kwh", "readings", "estimated", "peak_kw")


def inner_days(frame: pd.DataFrame, zones: dict[int, str]) -> pd.DataFrame:
    """Daily rollups (DAY_COLUMNS, day as a date) of each meter's local days strictly between the day of
    its first hour in `frame` and the day of its last, summed from `frame` as the daily statement sums
    the table's hours. Exact only where the table holds no other hours of those meters in that range
    (the caller's check); the first and last day may share hours with older rollups and are left out.
    `zones`: each meter's time zone name (UTC if missing), as the statement's.
    """
    meter_ids = frame["meter_id"].to_numpy(dtype="int64")
    hours = frame["hour"].to_numpy(dtype="int64")
    # Each hour as the local wall clock's seconds since 1970, one zone at a time (NumPy only: a column
    # of zone names per row took a second of string work for 1.29 M hours).
    wall = hours.copy()
    by_zone: dict[str, list[int]] = {}
    for meter_id in np.unique(meter_ids).tolist():
        by_zone.setdefault(zones.get(meter_id, "UTC"), []).append(meter_id)
    for zone, members in by_zone.items():
        if zone == "UTC":
            continue
        pick = np.isin(meter_ids, members)
        local = pd.DatetimeIndex(pd.to_datetime(hours[pick], unit="s", utc=True)).tz_convert(zone)
        wall[pick] = local.tz_localize(None).to_numpy().astype("datetime64[s]").astype("int64")
    sums = pd.DataFrame(
        {
            "meter_id": meter_ids,
            "day": wall // 86_400,  # floor division: the local date as days since 1970
            "kwh": frame["kwh"].to_numpy(dtype="float64"),
            "readings": frame["readings"].to_numpy(dtype="int64"),
            "estimated": frame["estimated"].to_numpy(dtype="int64"),
            "peak_kw": frame["peak_kw"].to_numpy(dtype="float64"),
        }
    )
    grouped = sums.groupby(["meter_id", "day"], sort=True)
    days = grouped[["kwh", "readings", "estimated"]].sum()
    days["peak_kw"] = grouped["peak_kw"].max()  # NaN (NULL) only where every hour's is
    days = days.reset_index()
    meter = days["meter_id"].to_numpy()
    changes = meter[1:] != meter[:-1]
    first, last = np.r_[True, changes], np.r_[changes, True]  # each meter's first and last day
    days = days[~first & ~last].reset_index(drop=True)
    days["day"] = days["day"].to_numpy().astype("datetime64[D]").astype(object)
    return days[list(DAY_COLUMNS)]


# PostgreSQL's binary COPY (see meters.ingest.upsert): per row a field count, then each field as its
# length and big-endian bytes, -1 for NULL. Rows with the same NULL pattern share one NumPy layout.
_FIELDS = (
    ("meter_id", ">i8", False),
    ("hour", ">i8", False),
    ("kwh", ">f8", False),
    ("readings", ">i2", False),
    ("estimated", ">i2", False),
    ("peak_kw", ">f8", True),
    ("voltage_avg", ">f8", True),
    ("voltage_min", ">f8", True),
    ("voltage_max", ">f8", True),
    ("power_factor_avg", ">f8", True),
)
_PG_EPOCH = 946_684_800


# Rows per piece of the stream: the whole frame as one buffer (and its join) held 200 MB more at the
# end of a 1.29 M-row import than these pieces, written one at a time.
PIECE_ROWS = 65_536


def copy_pieces(frame: pd.DataFrame) -> Iterator[bytes]:
    """`frame` (COLUMNS, hour as epoch seconds) as a binary COPY stream in pieces; NaN is NULL."""
    values = {name: frame[name].to_numpy() for name, _, _ in _FIELDS}
    values["hour"] = (values["hour"].astype("int64") - _PG_EPOCH) * 1_000_000
    nullable = [name for name, _, can in _FIELDS if can]
    present = {name: ~np.isnan(values[name].astype("float64")) for name in nullable}
    codes = np.zeros(len(frame), dtype=np.int64)
    for bit, name in enumerate(nullable):
        codes |= present[name].astype(np.int64) << bit
    yield b"PGCOPY\n\xff\r\n\x00" + bytes(8)
    for code in np.unique(codes).tolist():
        rows = np.flatnonzero(codes == code)
        here = {name: bool(code >> bit & 1) for bit, name in enumerate(nullable)}
        layout: list[tuple[str, str]] = [("count", ">i2")]
        for name, kind, can in _FIELDS:
            layout.append((f"{name}_len", ">i4"))
            if not can or here[name]:
                layout.append((name, kind))
        for start in range(0, len(rows), PIECE_ROWS):
            pick = rows[start : start + PIECE_ROWS]
            block = np.empty(len(pick), dtype=np.dtype(layout))
            block["count"] = len(_FIELDS)
            for name, kind, can in _FIELDS:
                if can and not here[name]:
                    block[f"{name}_len"] = -1
                    continue
                block[f"{name}_len"] = np.dtype(kind).itemsize
                block[name] = values[name][pick]
            yield block.tobytes()
    yield (-1).to_bytes(2, "big", signed=True)
