"""Reading CSV and Parquet files in chunks, so memory stays flat however large the file is."""

from __future__ import annotations

import io
import queue
import threading
from collections.abc import Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from meters.ingest.types import EMPTY_CELL, MALFORMED, OPTIONAL_COLUMNS, QUALITY_COLUMN, READING_COLUMNS
from meters.ingest.validate import text_safe

CHUNK_ROWS = 100_000
CSV_BLOCK_BYTES = 4 << 20  # about 100,000 rows of long-format readings


class FileFormatError(ValueError):
    """The file cannot be read as readings at all (wrong columns, not CSV or Parquet)."""


@dataclass(frozen=True)
class FileLimits:
    """How much a file may hold once decompressed (uploads from people; trusted imports have none)."""

    max_rows: int
    max_bytes: int

    @classmethod
    def for_uploads(cls) -> FileLimits:
        from django.conf import settings

        return cls(
            max_rows=settings.READINGS_UPLOAD_MAX_ROWS, max_bytes=settings.READINGS_UPLOAD_MAX_DECOMPRESSED_BYTES
        )

    def check(self, name: str, rows: int, size: int) -> None:
        if rows > self.max_rows:
            raise FileFormatError(
                f"{name}: more than {self.max_rows:,} rows; split it or use the import_readings command"
            )
        if size > self.max_bytes:
            limit = self.max_bytes // (1024 * 1024)
            raise FileFormatError(f"{name}: more than {limit:,} MB once decompressed; split it")


@dataclass(frozen=True)
class ColumnMap:
    """Where each reading field is in the file; `meter` may be fixed for single-meter files."""

    columns: Mapping[str, str] = field(default_factory=dict)  # canonical name -> column in the file
    meter: str | None = None  # every row belongs to this meter serial
    wide: bool = False  # one column per meter (its header is the serial) beside the timestamp, values in kWh

    def meter_columns(self, names: Sequence[str]) -> list[str]:
        """A wide file's meter columns: every column but the timestamp (and blank headers)."""
        return [name for name in names if name != self.source("timestamp") and str(name).strip()]

    def source(self, name: str) -> str:
        return self.columns.get(name, name)


def file_kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return "parquet"
    if suffix in (".csv", ".txt", ".gz"):
        return "csv"
    raise FileFormatError(f"{path.name}: expected a .csv or .parquet file")


def _normalise(
    frame: pd.DataFrame, mapping: ColumnMap, first_row: int, header_rows: int, lines: list[int] | range | None = None
) -> pd.DataFrame:
    if mapping.wide:
        return _melt(frame, mapping, first_row, header_rows, lines)
    out = pd.DataFrame(index=pd.RangeIndex(len(frame)))
    for name in READING_COLUMNS:
        column = mapping.source(name)
        if name == "meter" and mapping.meter is not None:
            out[name] = mapping.meter
        elif column in frame.columns:
            out[name] = frame[column].to_numpy()
        elif name in OPTIONAL_COLUMNS:
            out[name] = None
    if QUALITY_COLUMN in frame.columns:
        out[QUALITY_COLUMN] = frame[QUALITY_COLUMN].to_numpy()
    if lines is not None:
        out["row"] = lines
    else:
        out["row"] = range(first_row + header_rows, first_row + header_rows + len(frame))
    return out


def _melt(
    frame: pd.DataFrame, mapping: ColumnMap, first_row: int, header_rows: int, lines: list[int] | range | None
) -> pd.DataFrame:
    """A wide chunk (timestamp, then a column per meter) as long rows: one per meter and line.

    Each row keeps its file line, so a rejected value is found where it is. An empty cell is no reading
    (meters start and stop on different days): it is marked `EMPTY_CELL` and counted, not quarantined.
    """
    numbers = (
        list(lines) if lines is not None else list(range(first_row + header_rows, first_row + header_rows + len(frame)))
    )
    stamps = frame[mapping.source("timestamp")].to_numpy()
    parts = []
    for column in mapping.meter_columns(list(frame.columns)):
        values = frame[column]
        empty = values.isna() | (values.astype("string").str.strip() == "")
        part = pd.DataFrame({"meter": str(column).strip(), "timestamp": stamps, "kwh": values.to_numpy()})
        for name in OPTIONAL_COLUMNS:
            part[name] = None
        part["row"] = numbers
        part[EMPTY_CELL] = empty.fillna(True).to_numpy(dtype=bool)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def _looks_wide(names: list[str], mapping: ColumnMap) -> bool:
    """A timestamp column and others, but neither a meter nor a kWh column: most likely a column per meter."""
    absent = all(mapping.source(name) not in names for name in ("meter", "kwh"))
    return absent and mapping.source("timestamp") in names and len(names) > 1


def _check_columns(names: list[str], mapping: ColumnMap) -> None:
    if mapping.wide:
        if mapping.source("timestamp") not in names or not mapping.meter_columns(names):
            raise FileFormatError(
                f"a wide file needs a {mapping.source('timestamp')} column and one column per meter; "
                f"found {', '.join(names) or 'none'}"
            )
        if all(mapping.source(name) in names for name in ("meter", "kwh")):
            raise FileFormatError(
                f"this file has {mapping.source('meter')} and {mapping.source('kwh')} columns, so it looks long "
                "(a row per reading), not wide: read it as long (leave out --wide)"
            )
        return
    required = ["timestamp", "kwh"] + ([] if mapping.meter else ["meter"])
    missing = [mapping.source(name) for name in required if mapping.source(name) not in names]
    if missing:
        raise FileFormatError(
            f"missing column(s) {', '.join(missing)}; found {', '.join(names) or 'none'} "
            "(expected meter,timestamp,kwh[,voltage,current,power_factor]"
            + ("; a column per meter is a wide file: read it as wide (--wide)" if _looks_wide(names, mapping) else "")
            + ")"
        )


def readings_chunks(
    *, path: Path, mapping: ColumnMap | None = None, chunk_rows: int = CHUNK_ROWS, limits: FileLimits | None = None
) -> Iterator[pd.DataFrame]:
    """Yield the file as chunks of canonical reading columns, with each row's line number.

    With `limits`, a file past them is refused (FileFormatError) before its rows are materialised
    where its metadata tells (Parquet), and as soon as the rows read pass them otherwise.
    """
    mapping = mapping or ColumnMap()
    if file_kind(path) == "parquet":
        yield from _parquet_chunks(path, mapping, chunk_rows, limits)
        return
    try:
        # From the first line alone: a bad line further on must cost only its own row.
        with path.open("rb") as handle:
            first = handle.readline(1 << 16)
        header = pacsv.read_csv(io.BytesIO(first), read_options=pacsv.ReadOptions(block_size=1 << 17)).schema.names
    except (pa.ArrowInvalid, OSError, UnicodeDecodeError) as error:
        raise FileFormatError(f"{path.name}: not a readable CSV file ({error})") from error
    _check_columns(header, mapping)
    rows = size = 0
    for chunk in _csv_chunks(path, header, mapping):
        rows, size = rows + len(chunk), size + int(chunk.memory_usage(deep=False).sum())
        if limits is not None:
            limits.check(path.name, rows, size)
        yield chunk


# Parquet metadata may claim anything; each column chunk the reader decompresses at once is bounded.
PARQUET_MAX_COLUMN_CHUNK_BYTES = 256 * 1024 * 1024


def _parquet_chunks(
    path: Path, mapping: ColumnMap, chunk_rows: int, limits: FileLimits | None
) -> Iterator[pd.DataFrame]:
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as error:
        raise FileFormatError(f"{path.name}: not a Parquet file ({error})") from error
    names = parquet.schema_arrow.names
    _check_columns(names, mapping)
    # Only the columns readings use: another column, however large, is never decompressed.
    wanted = {mapping.source(name) for name in READING_COLUMNS} | {QUALITY_COLUMN}
    if mapping.wide:  # every column is a meter's; a batch of rows becomes a row per meter and line
        wanted = set(names)
        chunk_rows = max(1, chunk_rows // len(mapping.meter_columns(names)))
    columns = [name for name in names if name in wanted]
    if limits is not None:
        metadata = parquet.metadata
        indexes = [index for index in range(metadata.num_columns) if metadata.schema.column(index).name in wanted]
        size = 0
        for group in range(metadata.num_row_groups):
            row_group = metadata.row_group(group)
            for index in indexes:
                chunk_size = row_group.column(index).total_uncompressed_size
                if chunk_size > min(PARQUET_MAX_COLUMN_CHUNK_BYTES, limits.max_bytes):
                    raise FileFormatError(
                        f"{path.name}: a column chunk decompresses to {chunk_size:,} bytes; "
                        "write it in smaller row groups"
                    )
                size += chunk_size
        limits.check(path.name, metadata.num_rows, size)
    seen = read = 0
    try:
        for batch in parquet.iter_batches(batch_size=chunk_rows, columns=columns):
            read += batch.nbytes
            if limits is not None:
                limits.check(path.name, seen + batch.num_rows, read)
            frame = batch.to_pandas()
            yield _normalise(frame, mapping, seen, header_rows=1)
            seen += len(frame)
    except (pa.ArrowInvalid, OSError) as error:
        raise FileFormatError(f"{path.name}: unreadable after row {seen + 1} ({str(error)[:200]})") from error


def _csv_chunks(path: Path, header: list[str], mapping: ColumnMap) -> Iterator[pd.DataFrame]:
    """The CSV's rows, with each one's line number. A line that does not split into the header's
    columns becomes one row carrying MALFORMED (rejected with its line number by validation), and
    bytes that are not UTF-8 reject only their own row: the rest of the file is read."""
    malformed: list[tuple[int | None, str]] = []

    def skip(row: Any) -> str:
        try:
            text = str(row.text)[:200]
        except Exception:  # a line that is not even text
            text = "(not text)"
        malformed.append((row.number, f"line has {row.actual_columns} fields, expected {row.expected_columns}: {text}"))
        return "skip"

    # Everything as bytes, decoded per column: a bad value must reject its row, not the whole block.
    reader = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(block_size=CSV_BLOCK_BYTES, use_threads=False),
        parse_options=pacsv.ParseOptions(invalid_row_handler=skip),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(header, pa.binary()), strings_can_be_null=True, quoted_strings_can_be_null=True
        ),
    )
    line = 2  # the first line after the header
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            break
        except (pa.ArrowInvalid, OSError) as error:
            raise FileFormatError(f"{path.name}: unreadable after line {line} ({str(error)[:200]})") from error
        frame = pd.DataFrame({name: _text(batch.column(name)) for name in batch.schema.names})
        # Good rows take the line numbers the malformed ones did not (a quoted value spanning lines
        # aside, one row is one line).
        bad = {number: reason for number, reason in malformed if number is not None}
        unplaced = [reason for number, reason in malformed if number is None]
        malformed.clear()
        lines: list[int] | range = []
        placed: list[tuple[int, str]] = []
        if not bad and not unplaced:  # the common case: one line per row, numbered in one step
            lines = range(line, line + len(frame))
            line += len(frame)
        while len(lines) < len(frame):
            assert isinstance(lines, list)
            if line in bad:
                placed.append((line, bad.pop(line)))
            else:
                lines.append(line)
            line += 1
        while line in bad:
            placed.append((line, bad.pop(line)))
            line += 1
        malformed.extend(bad.items())  # reported early: they belong to a later batch
        placed.extend((line - 1, reason) for reason in unplaced)
        chunk = _normalise(frame, mapping, 0, 0, lines=lines)
        yield pd.concat([chunk, _malformed_rows(placed)], ignore_index=True) if placed else chunk
    if malformed:
        yield _malformed_rows([(number or line, reason) for number, reason in malformed])


def _malformed_rows(rows: list[tuple[int, str]]) -> pd.DataFrame:
    out = pd.DataFrame({name: pd.Series([None] * len(rows), dtype=object) for name in READING_COLUMNS})
    out["row"] = [number for number, _ in rows]
    out[MALFORMED] = [reason for _, reason in rows]
    return out


def _text(column: pa.ChunkedArray) -> pd.Series:
    """A column of bytes as text; values that are not UTF-8 are shown with U+FFFD (their row is rejected)."""
    try:
        return column.cast(pa.string()).to_pandas()
    except pa.ArrowInvalid:
        values = column.to_pylist()
        return pd.Series(
            [value.decode("utf-8", errors="replace") if value is not None else None for value in values], dtype=object
        )


def records_chunk(records: Sequence[Mapping[str, Any]], *, first_index: int = 0) -> pd.DataFrame:
    """An API batch (list of objects) as one chunk; `row` is each item's index in the list."""
    out = pd.DataFrame(index=pd.RangeIndex(len(records)))
    for name in READING_COLUMNS:
        out[name] = pd.Series(_encodable([record.get(name) for record in records]), dtype=object)
    out["row"] = range(first_index, first_index + len(records))
    return out


def _encodable(values: list[Any]) -> list[Any]:
    """The values, with any text that is not valid Unicode (an unpaired surrogate, which JSON can
    carry) written out as its escape (`text_safe`), so its row is rejected for that value, in words
    that show it, instead of failing the batch where it is turned into UTF-8. One join checks all."""
    try:
        "".join(value for value in values if isinstance(value, str)).encode()
    except UnicodeEncodeError:
        return [text_safe(value) if isinstance(value, str) else value for value in values]
    return values


def preview_rows(
    *, path: Path, mapping: ColumnMap | None = None, rows: int = 10, limits: FileLimits | None = None
) -> list[dict[str, object]]:
    """The first rows of a file as read, for the upload page's preview."""
    chunk = next(readings_chunks(path=path, mapping=mapping, chunk_rows=rows, limits=limits), None)
    if chunk is None:
        return []
    head = chunk.sort_values("row").head(rows)
    head = head.astype(object).where(head.notna(), None)
    return [{str(key): value for key, value in record.items()} for record in head.to_dict(orient="records")]


def prefetched(chunks: Iterator[pd.DataFrame], *, depth: int = 1) -> Generator[pd.DataFrame, None, None]:
    """The same chunks, read one ahead in a thread while the caller writes the previous one.

    Reading (Arrow's CSV parser, which releases the GIL) then overlaps the database's work on the
    last chunk. The reader touches no database. Its exceptions (a FileFormatError, a file past its
    limits) are raised here, at the chunk where they happened; stopping early stops the reader.
    """
    ready: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: tuple[str, Any]) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            for chunk in chunks:
                if not put(("chunk", chunk)):
                    return
        except BaseException as error:  # handed to the consumer, raised in its thread
            put(("error", error))
            return
        put(("end", None))

    reader = threading.Thread(target=read, name="readings-prefetch", daemon=True)
    reader.start()
    try:
        while True:
            kind, value = ready.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        reader.join()
