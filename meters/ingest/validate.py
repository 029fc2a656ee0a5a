"""Per-row validation of a chunk, vectorised: each bad row gets the first reason that applies."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from core.text import unicode_escaped
from meters.ingest.types import EMPTY_CELL, MALFORMED, OPTIONAL_COLUMNS, QUALITY_COLUMN, Rejection
from meters.ingest.zeros import reached_zeros
from meters.models import Meter

FUTURE_TOLERANCE_S = 300  # gateway clocks drift; five minutes ahead is still accepted
MAX_POWER_FACTOR_OF_RATED = 1.5  # energy above 1.5x the rated demand is physically impossible
MAX_VOLTAGE_OF_NOMINAL = 1.5
OFFSET_PATTERN = r"(?:Z|z|[+-]\d\d(?::?\d\d)?)$"


@dataclass(frozen=True)
class MeterInfo:
    """What validation needs to know about a meter."""

    id: int
    serial: str
    hostel_id: int | None
    interval_s: int
    cumulative: bool
    rated_kw: float
    nominal_voltage: float
    installed: int  # epoch seconds
    removed: int  # epoch seconds, or a far future

    # The columns `of` reads: plain values, not model instances (a batch names hundreds of meters).
    FIELDS = (
        "id",
        "serial",
        "hostel_id",
        "interval_minutes",
        "register",
        "rated_kw",
        "nominal_voltage",
        "installed_at",
        "removed_at",
    )

    @classmethod
    def of(cls, row: tuple[Any, ...]) -> MeterInfo:
        """From a `values_list(*MeterInfo.FIELDS)` row."""
        pk, serial, hostel_id, interval_minutes, register, rated_kw, nominal_voltage, installed_at, removed_at = row
        far = 2**62
        return cls(
            id=pk,
            serial=serial,
            hostel_id=hostel_id,
            interval_s=interval_minutes * 60,
            cumulative=register == Meter.Register.CUMULATIVE,
            rated_kw=rated_kw,
            nominal_voltage=nominal_voltage,
            installed=int(installed_at.timestamp()),
            removed=int(removed_at.timestamp()) if removed_at else far,
        )


class MeterDirectory:
    """Serial -> meter, loaded lazily in bulk, restricted to the meters the caller may write."""

    def __init__(self, *, hostel_ids: frozenset[int] | None = None, meter_ids: frozenset[int] | None = None) -> None:
        # None means no restriction; an empty set means nothing is writable.
        self.hostel_ids = hostel_ids
        self.meter_ids = meter_ids
        self.by_serial: dict[str, MeterInfo | None] = {}

    def load(self, serials: Iterable[str]) -> None:
        wanted = [serial for serial in serials if serial not in self.by_serial]
        for serial in [serial for serial in wanted if "\x00" in serial]:
            self.by_serial[serial] = None  # no meter has a NUL in its serial (PostgreSQL cannot even look)
        wanted = [serial for serial in wanted if "\x00" not in serial]
        if not wanted:
            return
        for start in range(0, len(wanted), 500):
            part = wanted[start : start + 500]
            for row in Meter.objects.filter(serial__in=part).values_list(*MeterInfo.FIELDS):
                info = MeterInfo.of(row)
                self.by_serial[info.serial] = info
            for serial in part:
                self.by_serial.setdefault(serial, None)

    def add(self, meter: Meter) -> None:
        self.by_serial[meter.serial] = MeterInfo.of(tuple(getattr(meter, field) for field in MeterInfo.FIELDS))

    def writable(self, info: MeterInfo) -> bool:
        if self.meter_ids is not None and info.id in self.meter_ids:
            return True
        if self.hostel_ids is not None and info.hostel_id in self.hostel_ids:
            return True
        return self.meter_ids is None and self.hostel_ids is None

    def info(self, meter_id: int) -> MeterInfo:
        return self._by_id()[meter_id]

    def _by_id(self) -> dict[int, MeterInfo]:
        cache = {info.id: info for info in self.by_serial.values() if info is not None}
        return cache


@dataclass
class Validated:
    """A chunk split into good rows (typed columns) and rejections."""

    good: pd.DataFrame  # meter_id, epoch, kwh, voltage, current, power_factor, row, cumulative, quality
    rejections: list[Rejection]
    skipped_missing: int
    zeros_kept: int = 0  # exact zeros kept as readings under zero_is_missing (reached by low readings)


_QUALITY_CODES = {name.lower(): float(value) for name, value in (("raw", 0), ("estimated", 1), ("corrected", 2))}


def _qualities(chunk: pd.DataFrame) -> pd.Series:
    """The optional quality column as codes (NaN: none given, -1: not a quality)."""
    if QUALITY_COLUMN not in chunk.columns:
        return pd.Series(np.nan, index=chunk.index, dtype="float64")
    text = chunk[QUALITY_COLUMN].astype("string").str.strip().str.lower()
    codes = text.map(lambda value: _QUALITY_CODES.get(value, -1.0) if isinstance(value, str) and value else np.nan)
    return pd.Series(codes, index=chunk.index, dtype="float64")


def _timestamps(values: pd.Series, tz: ZoneInfo | None) -> tuple[pd.Series, pd.Series, pd.Series]:
    """UTC timestamps, a mask of naive values that could not be placed in time, and a mask of local
    times the clock change makes ambiguous (it went back) or nonexistent (it went forward)."""
    naive_problem = pd.Series(False, index=values.index)
    no_dst = pd.Series(pd.NA, index=values.index, dtype="object")
    if pd.api.types.is_datetime64_any_dtype(values):
        if values.dt.tz is None:
            if tz is None:
                return values.dt.tz_localize("UTC"), pd.Series(True, index=values.index), no_dst
            dst = _dst_problems(values, tz)
            values = values.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
            return values.dt.tz_convert("UTC"), naive_problem, dst
        return values.dt.tz_convert("UTC"), naive_problem, no_dst
    with_offsets = _utc_when_every_value_has_an_offset(values)
    if with_offsets is not None:
        return with_offsets, naive_problem, no_dst
    text = values.astype("string").str.strip()
    has_offset = text.str.contains(OFFSET_PATTERN, regex=True).fillna(False).astype(bool)
    parsed = pd.to_datetime(text.where(has_offset), format="ISO8601", utc=True, errors="coerce")
    naive = ~has_offset & text.notna()
    if naive.any():
        if tz is None:
            # Only a well-formed time without an offset gets this reason; nonsense is unparseable.
            readable = pd.to_datetime(text[naive], format="ISO8601", errors="coerce").notna()
            naive_problem = naive.copy()
            naive_problem[naive] = readable
        else:
            local = pd.to_datetime(text[naive], format="ISO8601", errors="coerce")
            if local.dt.tz is not None:  # an offset form the pattern missed
                local = local.dt.tz_convert("UTC")
            else:
                no_dst = no_dst.copy()
                no_dst[naive] = _dst_problems(local, tz)
                local = local.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")
            parsed = parsed.copy()
            parsed[naive] = local
    return parsed, naive_problem, no_dst


def _utc_when_every_value_has_an_offset(values: pd.Series) -> pd.Series | None:
    """The values as UTC times when every one is an ISO 8601 time with its UTC offset (or missing), as a
    meter's export usually is, parsed by Arrow in one pass (a fifth of a bulk import's checks went to pandas'
    ISO 8601 parser and the offset pattern); None otherwise. Arrow refuses a time without an offset, text
    with spaces around it and every value pandas cannot read, so any such value sends the whole chunk to
    the caller's path, which judges each value; where Arrow parses, pandas reads the same instant
    (meters/tests/test_validate_timestamps.py)."""
    try:
        parsed = pc.cast(pa.array(values, type=pa.string(), from_pandas=True), pa.timestamp("us", "UTC"))
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError, ValueError):
        return None
    naive_utc = parsed.cast(pa.timestamp("us")).to_numpy(zero_copy_only=False)
    return pd.Series(naive_utc, index=values.index).dt.tz_localize("UTC")


def _is(values: pd.Series, word: str) -> pd.Series:
    return (values.astype("string") == word).fillna(False).astype(bool)


def _dst_problems(local: pd.Series, tz: ZoneInfo) -> pd.Series:
    """Per naive local time: "ambiguous", "nonexistent" or NA, in `tz`."""
    out = pd.Series(pd.NA, index=local.index, dtype="object")
    given = local.notna()
    if not given.any():
        return out
    earlier = np.zeros(len(local), dtype=bool)
    out[given & local.dt.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward").isna()] = "ambiguous"
    out[given & local.dt.tz_localize(tz, ambiguous=earlier, nonexistent="NaT").isna()] = "nonexistent"
    return out


def _numbers(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Floats, and a mask of values that were given but are not numbers."""
    if pd.api.types.is_float_dtype(values) or pd.api.types.is_integer_dtype(values):
        numbers = values.astype("float64")
        return numbers, pd.Series(False, index=values.index)
    kind = pd.api.types.infer_dtype(values, skipna=True)
    if kind == "empty":  # an optional column nobody sent
        return pd.Series(np.nan, index=values.index, dtype="float64"), pd.Series(False, index=values.index)
    if kind in ("floating", "integer", "mixed-integer-float"):  # JSON numbers (not booleans, not text)
        return values.astype("float64"), pd.Series(False, index=values.index)
    try:
        # Fast path for clean text columns: Arrow's cast fails as a whole on any bad value.
        cast = pc.cast(pa.array(values, from_pandas=True, type=pa.string()), pa.float64())
        numbers = pd.Series(cast.to_numpy(zero_copy_only=False), index=values.index, dtype="float64")
        return numbers, pd.Series(False, index=values.index)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        pass
    given = values.notna() & (values.astype("string").str.strip() != "")
    # A boolean is not a number (pandas would read true as 1).
    boolean = values.map(lambda value: isinstance(value, bool | np.bool_)).astype(bool)
    numbers = pd.to_numeric(values.where(given & ~boolean), errors="coerce").astype("float64")
    return numbers, given & numbers.isna()


def _raw(row: dict[Any, Any]) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in row.items():
        if key == "row":
            continue
        if (isinstance(value, float) and math.isnan(value)) or value is pd.NaT or value is pd.NA:
            value = None
        elif isinstance(value, pd.Timestamp | dt.datetime):
            value = value.isoformat()
        elif isinstance(value, np.generic):
            value = value.item()
        out[text_safe(str(key))] = json_safe(value)
    return out


def text_safe(value: str) -> str:
    """Text as PostgreSQL text and jsonb accept it: hostile input may carry NUL, which they cannot
    hold, and unpaired surrogates (JSON can say "\\ud800"), which are not Unicode: written out as
    their escape, as the API's parser does."""
    return unicode_escaped(value.replace("\x00", "\ufffd"))


# What the quarantine keeps of one raw value: enough to see and fix a row, not a junk batch's megabytes.
RAW_MAX_CHARS = 500
RAW_MAX_ITEMS = 20
RAW_MAX_DEPTH = 3


def json_safe(value: object, depth: int = 0) -> object:
    """A raw value as PostgreSQL jsonb accepts it: no NaN/Infinity, no NUL, plain containers, and
    bounded (long text, long or deep containers are cut)."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, str):
        return text_safe(value[:RAW_MAX_CHARS])
    if isinstance(value, dict | list | tuple) and depth >= RAW_MAX_DEPTH:
        return text_safe(repr(value)[:RAW_MAX_CHARS])
    if isinstance(value, dict):
        items = list(value.items())[:RAW_MAX_ITEMS]
        return {text_safe(str(key)[:RAW_MAX_CHARS]): json_safe(item, depth + 1) for key, item in items}
    if isinstance(value, list | tuple):
        return [json_safe(item, depth + 1) for item in value[:RAW_MAX_ITEMS]]
    if value is None or isinstance(value, bool | int | float):
        return value
    return text_safe(str(value)[:RAW_MAX_CHARS])


def validate_chunk(
    chunk: pd.DataFrame,
    directory: MeterDirectory,
    *,
    tz: ZoneInfo | None,
    now: dt.datetime,
    zero_is_missing: bool = False,
) -> Validated:
    """Check every row of a chunk; good rows come back typed, bad rows with their reason."""
    if EMPTY_CELL in chunk.columns:  # a wide file's empty cells: no reading, counted as missing
        empty = chunk[EMPTY_CELL].astype(bool)
        checked = validate_chunk(
            chunk[~empty].drop(columns=EMPTY_CELL), directory, tz=tz, now=now, zero_is_missing=zero_is_missing
        )
        checked.skipped_missing += int(empty.sum())
        return checked
    n = len(chunk)
    reason = pd.Series(pd.NA, index=chunk.index, dtype="object")

    def reject(mask: pd.Series, why: pd.Series | str | Callable[[], pd.Series]) -> None:
        fresh = mask & reason.isna()
        if fresh.any():
            if callable(why):  # per-row reasons are built only when some row is rejected
                why = why()
            reason[fresh] = why[fresh] if isinstance(why, pd.Series) else why

    if MALFORMED in chunk.columns:
        broken = chunk[MALFORMED].notna()
        reject(broken, lambda: "malformed line: " + chunk[MALFORMED].astype("string").fillna(""))
    serial = chunk["meter"].astype("string").str.strip()
    directory.load(serial.dropna().unique().tolist())
    infos = {s: directory.by_serial.get(s) for s in serial.dropna().unique().tolist()}
    known = {s: info for s, info in infos.items() if info is not None}
    writable = {s: info for s, info in known.items() if directory.writable(info)}
    reject(serial.isna() | (serial == ""), "meter serial missing")
    # The same words whether the meter does not exist or belongs to a hostel the caller cannot
    # write to: a reason must not reveal another hostel's meters.
    reject(~serial.isin(list(writable)), lambda: "unknown meter '" + serial.fillna("") + "'")

    # Per-meter attributes looked up once per distinct serial, then spread with numpy.
    codes, uniques = pd.factorize(serial)
    distinct = [str(value) for value in uniques]

    def attribute(name: str, missing: float = np.nan) -> pd.Series:
        table = [float(getattr(writable[s], name)) if s in writable else missing for s in distinct]
        return pd.Series(np.array([*table, missing], dtype="float64")[codes], index=chunk.index)

    meter_id = attribute("id", 0.0)
    interval_s = attribute("interval_s")
    cumulative = attribute("cumulative", 0.0).astype(bool)

    stamps, naive, dst = _timestamps(chunk["timestamp"], tz)
    reject(chunk["timestamp"].isna(), "timestamp missing")
    reject(naive, "timestamp has no UTC offset; give one (e.g. +00:00) or import with --timezone")
    if dst.notna().any():
        text = chunk["timestamp"].astype("string").fillna("")
        reject(
            _is(dst, "ambiguous"),
            lambda: "timestamp '" + text + f"' is ambiguous in {tz} (the clock went back); give a UTC offset",
        )
        reject(
            _is(dst, "nonexistent"), lambda: "timestamp '" + text + f"' does not exist in {tz} (the clock went forward)"
        )
    reject(stamps.isna(), lambda: "unparseable timestamp '" + chunk["timestamp"].astype("string").fillna("") + "'")
    epoch = pd.Series(stamps.array.as_unit("s").asi8, index=chunk.index).where(stamps.notna(), 0)
    reject(epoch > int(now.timestamp()) + FUTURE_TOLERANCE_S, "timestamp is in the future")
    off_grid = (epoch % interval_s.fillna(1)) != 0
    if off_grid.any():
        reject(
            off_grid,
            "timestamp is not on the meter's "
            + (interval_s.fillna(60) // 60).astype("int64").astype("string")
            + "-minute grid",
        )
    installed = attribute("installed")
    removed = attribute("removed")
    reject(epoch < installed, "timestamp is before the meter was installed")
    reject(epoch >= removed, "timestamp is after the meter was removed")

    kwh, kwh_bad = _numbers(chunk["kwh"])
    reject(kwh_bad | kwh.isna() | ~np.isfinite(kwh.fillna(0)), "kWh missing or not a number")
    reject(kwh < 0, "negative energy")
    quality = _qualities(chunk)
    reject(quality == -1, "quality must be raw, estimated or corrected")
    # A row with a quality is interval energy already derived (an archive), whatever the register.
    cumulative &= quality.isna()
    rated = attribute("rated_kw")
    limit = rated * (interval_s / 3600.0) * MAX_POWER_FACTOR_OF_RATED
    impossible = ~cumulative & (kwh > limit)
    if impossible.any():
        reject(
            impossible,
            (kwh * 3600.0 / interval_s).round(1).astype("string")
            + " kW is impossible for a meter rated "
            + rated.astype("string")
            + " kW",
        )

    columns: dict[str, pd.Series] = {}
    for name in OPTIONAL_COLUMNS:
        values, bad = _numbers(chunk[name])
        reject(bad, f"{name.replace('_', ' ')} is not a number")
        columns[name] = values
    nominal = attribute("nominal_voltage")
    reject(
        (columns["voltage"] < 0) | (columns["voltage"] > nominal * MAX_VOLTAGE_OF_NOMINAL),
        "voltage out of range (0 to 1.5x the meter's nominal voltage)",
    )
    reject(columns["current"] < 0, "negative current")
    reject(columns["power_factor"].abs() > 1, "power factor outside -1 to 1")

    skipped = kept_zeros = 0
    keep = reason.isna()
    if zero_is_missing:
        zero = keep & (kwh == 0)
        if zero.any():
            # A zero the readings fall to (a net meter whose solar panels cover the building) is a reading;
            # one they jump to is a gap the source filled. A cumulative index is never 0 by falling to it.
            plain = keep & ~cumulative
            reached = reached_zeros(
                meter_id=meter_id[plain], epoch=epoch[plain], kwh=kwh[plain], interval_s=interval_s[plain]
            ).reindex(chunk.index, fill_value=False)
            kept_zeros = int((zero & reached).sum())
            zero &= ~reached
        skipped = int(zero.sum())
        keep &= ~zero

    bad = reason.notna()
    rejections = []
    if bad.any():
        bad_serials = serial[bad].fillna("").tolist()
        records = chunk[bad].to_dict(orient="records")
        for record, why, serial_text in zip(records, reason[bad].tolist(), bad_serials, strict=True):
            info = known.get(serial_text)
            stored = None
            if info is not None and serial_text not in writable:
                # The sender hears "unknown meter" either way; the quarantine tells the administrator why.
                stored = f"not permitted: meter '{serial_text}' is not the sender's to write"
            rejections.append(
                Rejection(
                    row=int(record["row"]),
                    reason=str(why),
                    meter_serial=str(serial_text),
                    raw=_raw(record),
                    meter_id=info.id if info is not None else None,
                    stored_reason=stored,
                )
            )
    good = pd.DataFrame(
        {
            "meter_id": meter_id[keep].astype("int64"),
            "epoch": epoch[keep].astype("int64"),
            "kwh": kwh[keep],
            "voltage": columns["voltage"][keep],
            "current": columns["current"][keep],
            "power_factor": columns["power_factor"][keep],
            "row": chunk["row"][keep].astype("int64"),
            "cumulative": cumulative[keep],
            "quality": quality[keep],
        }
    )
    assert len(good) + len(rejections) + skipped == n
    return Validated(good=good, rejections=rejections, skipped_missing=skipped, zeros_kept=kept_zeros)
