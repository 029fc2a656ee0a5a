"""Cumulative registers: a running kWh index turned into interval kWh.

The interval that starts at the previous index's time gets the difference. A gap of k intervals
is spread evenly over them (marked estimated: the total is exact, the split is not), so a gap
never becomes one giant interval. A decrease is a rollover (the index wrapped at a power of ten),
a reset or a replacement from the meter's ledger, or, when the new index is small enough to be
energy since zero, a reset that ingestion records in the ledger itself. Anything else is rejected.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from meters.ingest.types import Rejection
from meters.ingest.validate import MAX_POWER_FACTOR_OF_RATED, MeterInfo
from meters.models import MeterEvent, Quality, RegisterReading


@dataclass
class _Baseline:
    epoch: int
    index: float


@dataclass
class RegisterState:
    """Last index seen per meter during one ingest call, and the ledger of those meters."""

    last: dict[int, _Baseline | None] = field(default_factory=dict)
    events: dict[int, list[MeterEvent]] = field(default_factory=dict)

    def load(self, meter_id: int, before: int) -> None:
        if meter_id in self.last:
            return
        self.events[meter_id] = list(MeterEvent.objects.filter(meter_id=meter_id).order_by("occurred_at"))
        previous = (
            RegisterReading.objects.filter(meter_id=meter_id, timestamp__lt=_utc(before))
            .order_by("-timestamp")
            .values_list("timestamp", "index_kwh")
            .first()
        )
        if previous is not None:
            self.last[meter_id] = _Baseline(int(previous[0].timestamp()), previous[1])
            return
        # No index yet: an install or replacement entry in the ledger gives the starting index.
        start = next(
            (
                event
                for event in reversed(self.events[meter_id])
                if event.kind in (MeterEvent.Kind.INSTALL, MeterEvent.Kind.REPLACE)
                and event.register_after is not None
                and event.occurred_at.timestamp() <= before
            ),
            None,
        )
        self.last[meter_id] = (
            _Baseline(int(start.occurred_at.timestamp()), start.register_after or 0.0) if start else None
        )


def _utc(epoch: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC)


def _rollover(previous: float, index: float) -> float:
    size = 10.0 ** len(str(int(previous)))
    return size - previous + index


def registers_to_intervals(
    *, rows: pd.DataFrame, infos: dict[int, MeterInfo], state: RegisterState
) -> tuple[pd.DataFrame, list[Rejection]]:
    """Convert index rows (sorted per meter) into interval rows; returns (intervals, rejections)."""
    out: list[dict[str, object]] = []
    rejections: list[Rejection] = []
    registers: list[RegisterReading] = []
    for _, part in rows.sort_values(["meter_id", "epoch"]).groupby("meter_id", sort=False):
        info = infos[int(part["meter_id"].iloc[0])]
        state.load(info.id, int(part["epoch"].iloc[0]))
        step = info.interval_s
        max_kwh_per_step = info.rated_kw * step / 3600.0 * MAX_POWER_FACTOR_OF_RATED
        record: Any
        for record in part.itertuples(index=False):
            epoch, index = int(record.epoch), float(record.kwh)
            base = state.last.get(info.id)

            def reject(why: str, record: object = record, index: float = index, info: MeterInfo = info) -> None:
                rejections.append(
                    Rejection(
                        row=int(record.row),  # type: ignore[attr-defined]
                        reason=why,
                        meter_serial=info.serial,
                        raw={"meter": info.serial, "timestamp": _utc(record.epoch).isoformat(), "kwh": index},  # type: ignore[attr-defined]
                        meter_id=info.id,
                    )
                )

            if base is None:
                state.last[info.id] = _Baseline(epoch, index)
                registers.append(RegisterReading(meter_id=info.id, timestamp=_utc(epoch), index_kwh=index))
                continue
            if epoch <= base.epoch:
                if epoch == base.epoch and index == base.index:
                    continue
                reject("register reading out of order: send indexes oldest first")
                continue
            origin = base.epoch - base.epoch % step  # a ledger baseline may be off the grid
            steps = max(1, -(-(epoch - origin) // step))
            ceiling = max_kwh_per_step * steps
            ledger = [
                event
                for event in state.events.get(info.id, [])
                if base.epoch < event.occurred_at.timestamp() <= epoch
                and event.kind in (MeterEvent.Kind.REGISTER_RESET, MeterEvent.Kind.REPLACE)
            ]
            if ledger:
                event = ledger[-1]
                before = event.register_before if event.register_before is not None else base.index
                energy = max(0.0, before - base.index) + max(0.0, index - (event.register_after or 0.0))
            elif index >= base.index:
                energy = index - base.index
            elif _rollover(base.index, index) <= ceiling:
                energy = _rollover(base.index, index)
            elif index <= ceiling:
                event = MeterEvent.objects.create(
                    meter_id=info.id,
                    kind=MeterEvent.Kind.REGISTER_RESET,
                    occurred_at=_utc(epoch),
                    register_before=base.index,
                    register_after=0.0,
                    note=f"Detected by ingestion: index went from {base.index:g} to {index:g} kWh.",
                )
                state.events.setdefault(info.id, []).append(event)
                energy = index
            else:
                reject(
                    f"register went down from {base.index:g} to {index:g} kWh with no reset or replacement "
                    "in the meter's ledger"
                )
                continue
            if energy > ceiling:
                reject(
                    f"register rose {energy:g} kWh in {steps * step // 60} minutes: impossible for a meter rated "
                    f"{info.rated_kw:g} kW"
                )
                continue
            share = energy / steps
            quality = Quality.RAW if steps == 1 else Quality.ESTIMATED
            for k in range(steps):
                out.append(
                    {
                        "meter_id": info.id,
                        "epoch": origin + k * step,
                        "kwh": share,
                        "voltage": record.voltage if k == steps - 1 else None,
                        "current": record.current if k == steps - 1 else None,
                        "power_factor": record.power_factor if k == steps - 1 else None,
                        "row": record.row,
                        "quality": int(quality),
                    }
                )
            state.last[info.id] = _Baseline(epoch, index)
            registers.append(RegisterReading(meter_id=info.id, timestamp=_utc(epoch), index_kwh=index))
    if registers:
        RegisterReading.objects.bulk_create(
            registers,
            update_conflicts=True,
            unique_fields=["meter", "timestamp"],
            update_fields=["index_kwh"],
            batch_size=1000,
        )
    columns = ["meter_id", "epoch", "kwh", "voltage", "current", "power_factor", "row", "quality"]
    return pd.DataFrame(out, columns=columns), rejections
