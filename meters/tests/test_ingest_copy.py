"""The binary COPY path of readings_upsert (PostgreSQL) and its encoder: same rows, rollups and quarantine."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from meters.ingest import hourly, readings_ingest_file
from meters.ingest.upsert import copy_binary
from meters.models import HourlyRollup, Meter, Quality, QuarantinedReading, Reading
from meters.tests.factories import MeterFactory

T0 = dt.datetime(2025, 2, 3, 0, 0, tzinfo=dt.UTC)


_READING_KINDS = (">i8", ">i8", ">f8", ">f8", ">f8", ">f8", ">i2")


def _decode(data: bytes, kinds: tuple[str, ...] = _READING_KINDS) -> list[tuple[object, ...]]:
    """Read PostgreSQL's binary COPY format back (the server's side of the contract), row by row."""
    assert data[:11] == b"PGCOPY\n\xff\r\n\x00"
    assert data[11:19] == bytes(8)
    position = 19
    out: list[tuple[object, ...]] = []
    while True:
        count = int.from_bytes(data[position : position + 2], "big", signed=True)
        position += 2
        if count == -1:
            assert position == len(data)
            return out
        assert count == len(kinds)
        row: list[object] = []
        for kind in kinds:
            length = int.from_bytes(data[position : position + 4], "big", signed=True)
            position += 4
            if length == -1:
                row.append(None)
                continue
            assert length == np.dtype(kind).itemsize
            row.append(np.frombuffer(data[position : position + length], dtype=kind)[0].item())
            position += length
        out.append(tuple(row))


def test_copy_binary_writes_every_value_and_null_where_postgresql_expects_them() -> None:
    epoch = int(T0.timestamp())
    rows = pd.DataFrame(
        {
            "meter_id": [7, 7, 9, 9],
            "epoch": [epoch, epoch + 900, epoch - 86_400 * 365 * 40, epoch + 1800],
            "kwh": [0.25, 1.5, 0.0, 3.125],
            "voltage": [230.1, np.nan, 229.0, np.nan],
            "current": [np.nan, np.nan, 1.2, np.nan],
            "power_factor": [0.95, np.nan, 0.9, np.nan],
            "quality": [Quality.RAW, Quality.ESTIMATED, Quality.CORRECTED, Quality.RAW],
        }
    )
    decoded = _decode(copy_binary(rows))
    micros = lambda seconds: (seconds - 946_684_800) * 1_000_000  # noqa: E731
    expected = {
        (7, micros(epoch), 0.25, 230.1, None, 0.95, int(Quality.RAW)),
        (7, micros(epoch + 900), 1.5, None, None, None, int(Quality.ESTIMATED)),
        (9, micros(epoch - 86_400 * 365 * 40), 0.0, 229.0, 1.2, 0.9, int(Quality.CORRECTED)),
        (9, micros(epoch + 1800), 3.125, None, None, None, int(Quality.RAW)),
    }
    assert len(decoded) == 4
    assert set(decoded) == expected


def test_copy_binary_keeps_the_row_order_when_every_row_has_the_same_nulls() -> None:
    rows = pd.DataFrame(
        {"meter_id": [3, 1, 2], "epoch": [30, 10, 20], "kwh": [1.0, 2.0, 3.0], "quality": [0, 0, 0]}
    ).assign(voltage=np.nan, current=np.nan, power_factor=np.nan)
    assert [row[0] for row in _decode(copy_binary(rows))] == [3, 1, 2]


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("meter,timestamp,kwh,voltage,current,power_factor\n" + "".join(f"{line}\n" for line in lines))
    return path


def test_hourly_rollups_stream_in_pieces_of_bounded_rows_with_every_value_and_null(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The summed hours go to COPY piece by piece (no buffer of the whole frame); rows with the same
    NULLs keep their order, and NaN is NULL."""
    monkeypatch.setattr(hourly, "PIECE_ROWS", 2)
    nan = float("nan")
    frame = pd.DataFrame(
        {
            "meter_id": [1, 1, 2, 2, 3],
            "hour": [int(T0.timestamp()) + 3600 * k for k in range(5)],
            "kwh": [0.5, 1.5, 2.5, 3.5, 4.5],
            "readings": [1, 2, 3, 4, 1],
            "estimated": [0, 1, 0, 0, 1],
            "peak_kw": [2.0, 6.0, 10.0, 14.0, nan],
            "voltage_avg": [230.0, nan, 231.0, 232.0, nan],
            "voltage_min": [229.0, nan, 230.0, 231.0, nan],
            "voltage_max": [231.0, nan, 232.0, 233.0, nan],
            "power_factor_avg": [0.9, nan, nan, 0.95, nan],
        }
    )
    pieces = list(hourly.copy_pieces(frame))
    row_bytes = 2 + 10 * 4 + 2 * 8 + 8 + 2 + 2 + 5 * 8
    assert max(len(piece) for piece in pieces) <= 2 * row_bytes
    rows = _decode(b"".join(pieces), (">i8", ">i8", ">f8", ">i2", ">i2") + (">f8",) * 5)
    micros = [(int(T0.timestamp()) + 3600 * k - 946_684_800) * 1_000_000 for k in range(5)]
    expected = [
        (1, micros[0], 0.5, 1, 0, 2.0, 230.0, 229.0, 231.0, 0.9),
        (1, micros[1], 1.5, 2, 1, 6.0, None, None, None, None),
        (2, micros[2], 2.5, 3, 0, 10.0, 231.0, 230.0, 232.0, None),
        (2, micros[3], 3.5, 4, 0, 14.0, 232.0, 231.0, 233.0, 0.95),
        (3, micros[4], 4.5, 1, 1, None, None, None, None, None),
    ]
    assert sorted(rows, key=lambda row: row[1]) == expected  # type: ignore[arg-type,return-value]
    assert [row for row in rows if row[0] == 1 and row[6] is None] == [expected[1]]


@pytest.mark.django_db
def test_a_file_with_bad_rows_and_duplicates_stores_exactly_the_good_rows_twice_over(tmp_path: Path) -> None:
    """First import takes the direct COPY path (nothing stored), the second the staging-table upsert."""
    meter = MeterFactory.create(serial="M-1", interval_minutes=15, rated_kw=5.0)
    stamp = lambda minutes: (T0 + dt.timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    lines = [
        f"M-1,{stamp(0)},0.25,230.5,1.1,0.97",
        f"M-1,{stamp(15)},0.5,,,",
        f"M-1,{stamp(30)},0.75,231,,0.9",
        f"M-1,{stamp(30)},0.8,231,,0.9",  # a duplicate: the last one wins
        f"M-1,{stamp(45)},-1,,,",  # negative: quarantined
        f"NOPE,{stamp(45)},0.1,,,",  # unknown meter: quarantined
        f"M-1,{stamp(60)},abc,,,",  # not a number: quarantined
        f"M-1,{stamp(75)},1.0,,,",
    ]
    first = readings_ingest_file(path=_write(tmp_path / "a.csv", lines))
    assert (first.accepted, first.updated, first.duplicates, first.rejected) == (4, 0, 1, 3)
    assert QuarantinedReading.objects.count() == 3
    assert sorted(int(n or 0) for n in QuarantinedReading.objects.values_list("row_number", flat=True)) == [
        6,
        7,
        8,
    ]  # file lines

    def stored() -> list[tuple[Any, ...]]:
        return list(
            Reading.objects.filter(meter=meter)
            .order_by("timestamp")
            .values_list("timestamp", "kwh", "voltage", "current", "power_factor", "quality")
        )

    assert stored()[:3] == [
        (T0, 0.25, 230.5, 1.1, 0.97, Quality.RAW),
        (T0 + dt.timedelta(minutes=15), 0.5, None, None, None, Quality.RAW),
        (T0 + dt.timedelta(minutes=30), 0.8, 231.0, None, 0.9, Quality.RAW),
    ]
    # The rejected 00:45 and 01:00 are a short gap, filled with estimates; 01:15 is the file's.
    assert [(row[0], row[5]) for row in stored()[3:]] == [
        (T0 + dt.timedelta(minutes=45), Quality.ESTIMATED),
        (T0 + dt.timedelta(minutes=60), Quality.ESTIMATED),
        (T0 + dt.timedelta(minutes=75), Quality.RAW),
    ]
    hour = HourlyRollup.objects.get(meter=meter, hour=T0)
    in_hour = [row for row in stored() if row[0] < T0 + dt.timedelta(hours=1)]
    assert (hour.readings, hour.estimated) == (4, 1)
    assert hour.kwh == pytest.approx(sum(float(row[1]) for row in in_hour))
    assert hour.voltage_avg == pytest.approx((230.5 + 231) / 2)

    # Again, with one value changed and one estimate replaced by a real value: the staging path.
    lines[1] = f"M-1,{stamp(15)},0.6,,,"
    lines.append(f"M-1,{stamp(45)},0.3,,,")
    second = readings_ingest_file(path=_write(tmp_path / "b.csv", lines))
    assert (second.accepted + second.updated, second.duplicates, second.rejected) == (2, 1, 3)
    rows = {row[0]: row for row in stored()}
    assert rows[T0 + dt.timedelta(minutes=15)][1:] == (0.6, None, None, None, Quality.CORRECTED)
    assert rows[T0 + dt.timedelta(minutes=45)][1:] == (0.3, None, None, None, Quality.RAW)
    assert rows[T0][1:] == (0.25, 230.5, 1.1, 0.97, Quality.RAW)
    hour = HourlyRollup.objects.get(meter=meter, hour=T0)
    assert (hour.kwh, hour.readings, hour.estimated) == (pytest.approx(0.25 + 0.6 + 0.8 + 0.3), 4, 0)
    assert Meter.objects.get(pk=meter.pk).last_reading_at == T0 + dt.timedelta(minutes=75)


def test_prefetched_gives_the_same_chunks_in_order_and_raises_where_the_reader_failed() -> None:
    from meters.ingest.parse import FileFormatError, prefetched

    frames = [pd.DataFrame({"row": [k]}) for k in range(5)]
    assert [int(frame["row"].iloc[0]) for frame in prefetched(iter(frames))] == [0, 1, 2, 3, 4]

    def failing() -> Iterator[pd.DataFrame]:
        yield frames[0]
        raise FileFormatError("big.csv: past the limit")

    chunks = prefetched(failing())
    assert int(next(chunks)["row"].iloc[0]) == 0
    with pytest.raises(FileFormatError, match="past the limit"):
        next(chunks)


def test_prefetched_stops_its_reader_when_the_caller_stops_early() -> None:
    import threading

    from meters.ingest.parse import prefetched

    read = []

    def endless() -> Iterator[pd.DataFrame]:
        k = 0
        while True:
            read.append(k)
            yield pd.DataFrame({"row": [k]})
            k += 1

    chunks = prefetched(endless())
    next(chunks)
    chunks.close()
    assert not any(thread.name == "readings-prefetch" for thread in threading.enumerate())
    assert len(read) <= 3  # the one taken, at most one waiting and one being read
