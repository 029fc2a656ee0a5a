"""readings_ingest: validate, convert registers, upsert, quarantine, fill gaps, roll up, signal."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
from django.db import connection, transaction
from django.utils import timezone

from meters.ingest import condition
from meters.ingest.gaps import gaps_fill
from meters.ingest.hourly import HourlyAccumulator
from meters.ingest.parse import ColumnMap, FileFormatError, FileLimits, prefetched, readings_chunks, records_chunk
from meters.ingest.registers import RegisterState, registers_to_intervals
from meters.ingest.rollups import meters_lock, meters_touch, rollups_update
from meters.ingest.senders import Sender, sender_of_row
from meters.ingest.types import MAX_REASONS_IN_RESULT, IngestResult
from meters.ingest.upsert import quarantine_store, readings_upsert
from meters.ingest.validate import MeterDirectory, validate_chunk
from meters.metrics import READINGS_INGESTED, READINGS_REJECTED
from meters.models import GatewayToken, Hostel, Meter, Quality, QuarantinedReading, Site
from meters.signals import readings_ingested

Progress = Callable[[int], None]
logger = logging.getLogger(__name__)


def _create_meters(chunk: pd.DataFrame, directory: MeterDirectory, site: Site, tz: ZoneInfo | None) -> int:
    """Create meters for unknown serials: feeders of the site's 'imported' hostel, interval from the data.

    Returns how many were created.
    """
    serials = chunk["meter"].dropna().astype(str).str.strip().unique().tolist()
    directory.load(serials)
    unknown = [serial for serial in serials if serial and directory.by_serial.get(serial) is None]
    if not unknown:
        return 0
    hostel, _ = Hostel.objects.get_or_create(
        site=site, code="imported", defaults={"name": f"Imported meters ({site.code})"}
    )
    for serial in unknown:
        rows = chunk[chunk["meter"].astype(str).str.strip() == serial]
        stamps = pd.to_datetime(rows["timestamp"], format="ISO8601", utc=True, errors="coerce").dropna().sort_values()
        steps = stamps.diff().dropna().dt.total_seconds()
        steps = steps[steps > 0]
        interval = int(steps.min() // 60) if not steps.empty else 60
        interval = min((15, 30, 60), key=lambda choice: abs(choice - interval))
        kwh = pd.to_numeric(rows["kwh"], errors="coerce")
        peak_kw = float(kwh.max() * 60 / interval) if kwh.notna().any() else 0.0
        installed = stamps.iloc[0].to_pydatetime() if not stamps.empty else timezone.now()
        meter = Meter.objects.create(
            serial=serial,
            kind=Meter.Kind.FEEDER,
            hostel=hostel,
            interval_minutes=interval,
            rated_kw=max(10.0, round(peak_kw * 2, 1)),
            installed_at=installed - dt.timedelta(days=3650),
        )
        directory.add(meter)
    return len(unknown)


def _chunks(rows: Iterable[Mapping[str, Any]] | Iterable[pd.DataFrame]) -> Iterable[pd.DataFrame]:
    batch: list[Mapping[str, Any]] = []
    for item in rows:
        if isinstance(item, pd.DataFrame):
            yield item
            continue
        batch.append(item)
        if len(batch) >= 50_000:
            yield records_chunk(batch, first_index=0)
            batch = []
    if batch:
        yield records_chunk(batch)


def readings_ingest(
    *,
    rows: Iterable[Mapping[str, Any]] | Iterable[pd.DataFrame],
    source: str,
    user: Any = None,
    gateway: GatewayToken | None = None,
    sender: Sender | None = None,
    timezone_name: str | None = None,
    create_meters_in: Site | None = None,
    zero_is_missing: bool = False,
    quarantine: bool = True,
    max_reasons: int = MAX_REASONS_IN_RESULT,
    now: dt.datetime | None = None,
    progress: Progress | None = None,
) -> IngestResult:
    """Store readings (API objects or parsed file chunks) idempotently; one transaction per call.

    Rows are checked one by one: bad rows go to the quarantine with a reason and never block the
    good ones. `user` or `gateway` (or `sender`) limit which meters may be written; none means a
    trusted caller. Rejected rows keep their sender. After commit, `meters.signals.readings_ingested` is sent once.
    """
    started = time.perf_counter()
    with transaction.atomic():
        result = _ingest(
            rows=rows,
            source=source,
            sender=sender or Sender.of(user=user, gateway=gateway),
            timezone_name=timezone_name,
            create_meters_in=create_meters_in,
            zero_is_missing=zero_is_missing,
            quarantine=quarantine,
            max_reasons=max_reasons,
            now=now,
            progress=progress,
        )
        committing = time.perf_counter()
    # Measured after the commit: deferred constraint checks run there and are part of the cost.
    result.seconds = time.perf_counter() - started
    result.seconds_commit = time.perf_counter() - committing
    kind = (sender or Sender.of(user=user, gateway=gateway)).kind
    READINGS_INGESTED.labels(sender=kind.value).inc(result.accepted + result.updated)
    READINGS_REJECTED.labels(sender=kind.value).inc(result.rejected)
    return result


def _ingest(
    *,
    rows: Iterable[Mapping[str, Any]] | Iterable[pd.DataFrame],
    source: str,
    sender: Sender,
    timezone_name: str | None,
    create_meters_in: Site | None,
    zero_is_missing: bool,
    quarantine: bool,
    max_reasons: int,
    now: dt.datetime | None,
    progress: Progress | None,
) -> IngestResult:
    now = now or timezone.now()
    tz = timezone_parse(timezone_name)
    directory = sender.meters()
    registers = RegisterState()
    result = IngestResult(max_reasons=max_reasons)
    locked: set[int] = set()
    # PostgreSQL: the hours of rows COPied into empty spans are summed here, not read back (ingest.hourly).
    known = HourlyAccumulator() if connection.vendor == "postgresql" else None
    for chunk in _chunks(rows):
        if create_meters_in is not None:
            result.meters_created += _create_meters(chunk, directory, create_meters_in, tz)
        checked = validate_chunk(chunk, directory, tz=tz, now=now, zero_is_missing=zero_is_missing)
        result.skipped_missing += checked.skipped_missing
        result.zeros_kept += checked.zeros_kept
        rejections = list(checked.rejections)
        good = checked.good
        # Lock meters before reading their register state or writing: concurrent batches for the
        # same meter then run one after the other (gaps, registers and rollups stay consistent).
        fresh = sorted(set(good["meter_id"].tolist()) - locked)
        meters_lock(meter_ids=fresh)
        locked.update(fresh)
        cumulative = good["cumulative"]
        interval_rows = good[~cumulative].drop(columns="cumulative")
        # Rows of an archive keep their quality; everything else arrives raw.
        interval_rows = interval_rows.assign(quality=interval_rows["quality"].fillna(int(Quality.RAW)).astype("int64"))
        if cumulative.any():
            infos = {info.id: info for info in directory.by_serial.values() if info is not None}
            converted, register_rejections = registers_to_intervals(
                rows=good[cumulative].drop(columns=["cumulative", "quality"]), infos=infos, state=registers
            )
            rejections.extend(register_rejections)
            interval_rows = (
                pd.concat([interval_rows, converted], ignore_index=True) if len(converted) else interval_rows
            )
        before = len(interval_rows)
        interval_rows = interval_rows.drop_duplicates(["meter_id", "epoch"], keep="last")
        result.duplicates += before - len(interval_rows)
        written = readings_upsert(rows=interval_rows)
        if known is not None and written:
            if all(item.copied for item in written):
                known.add_copied(interval_rows)
            else:
                known.add_other(interval_rows["meter_id"].unique().tolist())
        for item in written:
            result.accepted += item.inserted
            result.updated += item.updated
            result.touch(item.meter_id, item.first, item.last)
        result.unchanged += len(interval_rows) - sum(item.inserted + item.updated for item in written)
        if rejections and quarantine:
            result.not_kept += quarantine_store(rejections=rejections, source=source, sender=sender.fields())
        result.add_rejections(rejections)
        if progress is not None:
            progress(len(chunk))
    ranges = result.ranges
    gap_started = time.perf_counter()
    result.gaps, result.estimated = gaps_fill(ranges=ranges)
    rollup_started = time.perf_counter()
    result.seconds_gaps = rollup_started - gap_started
    rollups_update(ranges=ranges, known=known, gaps=result.gaps)
    meters_touch(ranges=ranges)
    result.seconds_rollups = time.perf_counter() - rollup_started
    if ranges:
        meter_ids = sorted(ranges)
        start = min(span.start for span in ranges.values())
        end = max(span.end for span in ranges.values())
        transaction.on_commit(lambda: _announce(meter_ids=meter_ids, start=start, end=end))
    return result


def timezone_parse(name: str | None) -> ZoneInfo | None:
    """A time zone named by a person (None for none); an unknown name is a FileFormatError saying so."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name that is a path of a directory
        raise FileFormatError(f"unknown time zone {name[:60]!r}; use an IANA name such as Europe/London") from None


def _announce(*, meter_ids: list[int], start: dt.datetime, end: dt.datetime) -> None:
    """Tell listeners about committed readings. Best effort: the readings are already stored, and a
    listener failing (a broker down while detection enqueues) must not turn the upload into an error;
    listeners catch up from the data with their own periodic sweep."""
    answers = readings_ingested.send_robust(sender=readings_ingest, meter_ids=meter_ids, start=start, end=end)
    for receiver, answer in answers:
        if isinstance(answer, Exception):
            logger.error(
                "readings_ingested listener %s failed for %d meters (%s to %s): %r",
                getattr(receiver, "__qualname__", receiver),
                len(meter_ids),
                start,
                end,
                answer,
            )


def readings_ingest_file(
    *,
    path: Path,
    source: str | None = None,
    user: Any = None,
    mapping: ColumnMap | None = None,
    timezone_name: str | None = None,
    create_meters_in: Site | None = None,
    zero_is_missing: bool = False,
    progress: Progress | None = None,
    limits: FileLimits | None = None,
) -> IngestResult:
    """Stream a CSV or Parquet file of readings into the database (refused past `limits`, if given)."""
    return readings_ingest(
        rows=prefetched(readings_chunks(path=path, mapping=mapping, limits=limits)),
        source=source or path.name,
        user=user,
        timezone_name=timezone_name,
        create_meters_in=create_meters_in,
        zero_is_missing=zero_is_missing,
        progress=progress,
    )


def quarantine_reprocess(*, ids: Iterable[int]) -> IngestResult:
    """Try quarantined rows again (after a fix to the row, the meter or the ledger), each with the
    rights its sender has now: whoever asks for the re-processing, the rows store only what their
    sender could have stored."""
    pending = list(QuarantinedReading.objects.filter(id__in=list(ids), status=QuarantinedReading.Status.PENDING))
    by_sender: dict[tuple[str, int | None, int | None], list[QuarantinedReading]] = {}
    for item in pending:
        by_sender.setdefault((item.sender_kind, item.sender_gateway_id, item.sender_user_id), []).append(item)
    total = IngestResult(max_reasons=len(pending))
    for rows in by_sender.values():
        sender = sender_of_row(rows[0])
        conditions = [item for item in rows if item.source.startswith(condition.SOURCE_PREFIX)]
        if conditions:
            condition_reprocess(conditions, sender=sender)
        readings = [item for item in rows if not item.source.startswith(condition.SOURCE_PREFIX)]
        if readings:
            result = _readings_reprocess(readings, sender=sender)
            for name in ("accepted", "updated", "unchanged", "duplicates", "skipped_missing", "estimated"):
                setattr(total, name, getattr(total, name) + getattr(result, name))
            total.add_rejections(result.rejections)
    return total


def _readings_reprocess(pending: list[QuarantinedReading], *, sender: Sender) -> IngestResult:
    with transaction.atomic():
        records = [dict(item.raw) for item in pending]
        for index, item in enumerate(pending):
            records[index].setdefault("meter", item.meter_serial)
        chunk = records_chunk(records)
        result = readings_ingest(
            rows=[chunk], source="quarantine re-processing", sender=sender, quarantine=False, max_reasons=len(records)
        )
        failed = {rejection.row for rejection in result.rejections}
        resolved = [item.id for index, item in enumerate(pending) if index not in failed]
        QuarantinedReading.objects.filter(id__in=resolved).update(
            status=QuarantinedReading.Status.REPROCESSED, resolved_at=timezone.now()
        )
        for rejection in result.rejections:
            reason = rejection.stored_reason or rejection.reason
            QuarantinedReading.objects.filter(pk=pending[rejection.row].pk).update(reason=reason[:300])
    return result


def condition_reprocess(pending: list[QuarantinedReading], *, sender: Sender) -> None:
    """Quarantined transformer condition items, tried again; those still bad keep their new reason."""
    with transaction.atomic():
        result = condition.conditions_ingest(
            items=[dict(item.raw) for item in pending],
            source="quarantine re-processing",
            sender=sender,
            quarantine=False,
        )
        failed = {index: result.stored_reasons.get(index, reason) for index, _code, reason in result.rejections}
        QuarantinedReading.objects.filter(
            id__in=[item.id for index, item in enumerate(pending) if index not in failed]
        ).update(status=QuarantinedReading.Status.REPROCESSED, resolved_at=timezone.now())
        for index, reason in failed.items():
            QuarantinedReading.objects.filter(pk=pending[index].pk).update(reason=reason[:300])
