"""Reads for system health."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Max
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from analytics.services import HEARTBEAT_KEY
from meters.models import Meter


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def health_checks(*, now: dt.datetime | None = None) -> list[Check]:
    """Database, cache/broker, worker heartbeat, model artifacts and data freshness."""
    now = now or timezone.now()
    checks: list[Check] = []
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks.append(Check("database", True, connection.vendor))
    except Exception as error:  # any driver error means the database is unusable
        checks.append(Check("database", False, type(error).__name__))
    try:
        cache.set("wattwatch:health", "ok", timeout=10)
        ok = cache.get("wattwatch:health") == "ok"
        checks.append(Check("redis", ok, "in-process (embedded)" if settings.EMBEDDED else "reachable"))
    except Exception as error:  # connection refused, timeout...
        checks.append(Check("redis", False, type(error).__name__))
    beat: dict[str, str] | None = None
    try:
        beat = cache.get(HEARTBEAT_KEY)
    except Exception:  # reported by the redis check above
        beat = None
    if beat:
        seen = parse_datetime(beat["at"])
        age = (now - seen).total_seconds() if seen else float("inf")
        limit = max(3 * settings.HEARTBEAT_SECONDS, 90)
        checks.append(Check("worker", age <= limit, f"last heartbeat {age:.0f} s ago from {beat['worker']}"))
    else:
        checks.append(Check("worker", False, "no heartbeat yet"))
    artifacts = sorted(p.name for p in settings.ML_MODELS_DIR.glob("*") if p.is_file() and p.name != "README.md")
    checks.append(Check("model_artifacts", True, f"{len(artifacts)} artifact(s)"))
    try:
        last = Meter.objects.active().aggregate(last=Max("last_reading_at"))["last"]
        checks.append(
            Check("data_freshness", True, f"latest reading {last.isoformat()}" if last else "no readings yet")
        )
    except Exception as error:
        checks.append(Check("data_freshness", False, type(error).__name__))
    return checks


def health_summary(*, now: dt.datetime | None = None) -> dict[str, Any]:
    checks = health_checks(now=now)
    essential = {"database", "redis"}
    healthy = all(check.ok for check in checks if check.name in essential)
    return {"status": "ok" if healthy else "fail", "checks": [asdict(check) for check in checks]}
