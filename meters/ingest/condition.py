"""Transformer condition readings (top-oil temperature, dissolved gas) from monitors, gateways and staff.

Each item is checked on its own: a bad one is quarantined with its reason (as readings are) and the
good ones are stored. Idempotent on (transformer, measured_at): a repeat changes nothing, a changed
value updates the stored reading.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from customers.models import Transformer, TransformerCondition
from meters.ingest.quarantine import quarantine_overflow, quarantine_room
from meters.ingest.senders import Sender
from meters.ingest.validate import json_safe, text_safe
from meters.models import QuarantinedReading
from meters.signals import transformer_condition_ingested

SOURCE_PREFIX = "transformer condition"
FIELDS = {"transformer", "measured_at", "top_oil_c", "dissolved_gas_ppm"}
LIMITS = {"top_oil_c": (-50.0, 200.0), "dissolved_gas_ppm": (0.0, 100_000.0)}
FUTURE_SLACK = dt.timedelta(minutes=10)
EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)  # no transformer monitor is older


@dataclass
class ConditionResult:
    accepted: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0  # repeats of an item earlier in the same batch: the last one wins
    rejections: list[tuple[int, str, str]] = field(default_factory=list)  # (index, transformer, reason)
    # What the quarantine says where the sender hears less (a transformer that exists but is not theirs).
    stored_reasons: dict[int, str] = field(default_factory=dict)

    @property
    def rejected(self) -> int:
        return len(self.rejections)

    def summary(self) -> dict[str, int]:
        return {
            "accepted": self.accepted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "duplicates": self.duplicates,
        }


def _value(item: dict[str, Any], name: str) -> float | None:
    raw = item.get(name)
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool):
        raise ValueError(f"{name} must be a number, not {raw!r}")
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, not {str(raw)[:40]!r}") from None
    low, high = LIMITS[name]
    if not math.isfinite(value) or not low <= value <= high:
        raise ValueError(f"{name} {value:g} is outside {low:g} to {high:g}")
    return value


class NotPermitted(ValueError):
    """The transformer exists but the sender may not write it: the sender hears "unknown"."""

    def __init__(self, code: str) -> None:
        super().__init__(f"unknown transformer {code[:40]!r}")
        self.stored = f"not permitted: transformer {code[:40]!r} does not feed the sender's meters"


def _check(
    item: Any, codes: dict[str, int], now: dt.datetime, writable: frozenset[int] | None
) -> tuple[int, dt.datetime, float | None, float | None]:
    if not isinstance(item, dict):
        raise ValueError("expected an object")
    unknown = sorted(set(item) - FIELDS)
    if unknown:
        raise ValueError(f"unknown field {unknown[0]!r}")
    code = str(item.get("transformer") or "")
    if code not in codes:
        raise ValueError(f"unknown transformer {code[:40]!r}" if code else "transformer is required")
    if writable is not None and codes[code] not in writable:
        # The same words as for a code that does not exist, so that codes cannot be listed.
        raise NotPermitted(code)
    raw_time = item.get("measured_at")
    try:
        when = parse_datetime(raw_time) if isinstance(raw_time, str) else None
    except ValueError:  # well formed but impossible, such as month 13
        when = None
    if when is None:
        raise ValueError(f"measured_at {str(raw_time)[:40]!r} is not an ISO 8601 date-time")
    if timezone.is_naive(when):
        raise ValueError("measured_at needs a UTC offset (for example 2025-01-01T12:00:00Z)")
    try:
        when = when.astimezone(dt.UTC)
    except OverflowError:  # before year 1 or past year 9999 once in UTC
        raise ValueError(f"measured_at {str(raw_time)[:40]!r} is out of range") from None
    if when < EARLIEST:
        raise ValueError(f"measured_at {str(raw_time)[:40]!r} is before {EARLIEST:%Y}")
    if when > now + FUTURE_SLACK:
        raise ValueError(f"measured_at {raw_time} is in the future")
    oil, gas = _value(item, "top_oil_c"), _value(item, "dissolved_gas_ppm")
    if oil is None and gas is None:
        raise ValueError("give top_oil_c, dissolved_gas_ppm or both")
    return codes[code], when.astimezone(dt.UTC), oil, gas


def _as_object(item: Any) -> dict[str, Any]:
    return item if isinstance(item, dict) else {"value": repr(item)[:500]}


def conditions_ingest(
    *, items: list[Any], source: str, sender: Sender | None = None, quarantine: bool = True
) -> ConditionResult:
    """Store the good items; quarantine each bad one with its reason and sender.

    A sender (gateway key or user) may write only the transformers feeding its meters or hostels;
    no sender means a trusted caller (a command or task).
    """
    sender = sender or Sender(QuarantinedReading.Sender.TRUSTED)
    writable = sender.transformers()
    result = ConditionResult()
    # PostgreSQL text cannot hold NUL or an unpaired surrogate, so a code with one is looked up by
    # nobody: it is unknown.
    wanted = {str(item.get("transformer")) for item in items if isinstance(item, dict)} - {""}
    wanted = {code for code in wanted if text_safe(code) == code}
    codes = dict(Transformer.objects.filter(code__in=wanted).values_list("code", "pk"))
    now = timezone.now()
    good: dict[tuple[int, dt.datetime], tuple[float | None, float | None]] = {}
    for index, item in enumerate(items):
        try:
            pk, when, oil, gas = _check(item, codes, now, writable)
        except ValueError as error:
            code = str(item.get("transformer", ""))[:64] if isinstance(item, dict) else ""
            result.rejections.append((index, code, str(error)))
            if isinstance(error, NotPermitted):
                result.stored_reasons[index] = error.stored
            continue
        if (pk, when) in good:
            result.duplicates += 1
        good[(pk, when)] = (oil, gas)
    with transaction.atomic():
        stored = {
            (row.transformer_id, row.measured_at): row
            for row in TransformerCondition.objects.select_for_update().filter(
                transformer_id__in={pk for pk, _ in good}, measured_at__in={when for _, when in good}
            )
        }
        new, changed = [], []
        for (pk, when), (oil, gas) in good.items():
            row = stored.get((pk, when))
            if row is None:
                new.append(
                    TransformerCondition(transformer_id=pk, measured_at=when, top_oil_c=oil, dissolved_gas_ppm=gas)
                )
                new[-1].source = source[:200]
            elif (row.top_oil_c, row.dissolved_gas_ppm) == (oil, gas):
                result.unchanged += 1
            else:
                row.top_oil_c, row.dissolved_gas_ppm, row.source = oil, gas, source[:200]
                changed.append(row)
        # A concurrent batch may have stored the same reading since: update it rather than fail.
        TransformerCondition.objects.bulk_create(
            new,
            batch_size=2000,
            update_conflicts=True,
            unique_fields=["transformer", "measured_at"],
            update_fields=["top_oil_c", "dissolved_gas_ppm", "source"],
        )
        TransformerCondition.objects.bulk_update(changed, ["top_oil_c", "dissolved_gas_ppm", "source"], batch_size=2000)
        result.accepted, result.updated = len(new), len(changed)
        if quarantine and result.rejections:
            kept = result.rejections
            room = quarantine_room(sender=sender.fields())
            if room is not None and len(kept) > room:
                quarantine_overflow(source=source, dropped=len(kept) - room)
                kept = kept[:room]
            QuarantinedReading.objects.bulk_create(
                [
                    QuarantinedReading(
                        source=f"{SOURCE_PREFIX}: {source}"[:200],
                        row_number=index,
                        raw=json_safe(_as_object(items[index])),
                        reason=text_safe(result.stored_reasons.get(index, reason))[:300],
                        **sender.fields(),
                    )
                    for index, _code, reason in kept
                ]
            )
        latest: dict[int, tuple[int, dt.datetime, float | None, float | None]] = {}
        for (pk, when), (oil, gas) in good.items():
            if pk not in latest or when > latest[pk][1]:
                latest[pk] = (pk, when, oil, gas)
        if latest:
            rows = list(latest.values())
            transaction.on_commit(lambda: transformer_condition_ingested.send(sender="meters.ingest", latest=rows))
    return result
