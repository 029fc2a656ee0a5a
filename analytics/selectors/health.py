"""Reads for system health: django-health-check checks, reported as (name, ok, detail) rows.

The library runs each check with its time budget and turns a failure into an exception with a
message; the rows and the status keep the shape `/health` has always answered with.
"""

from __future__ import annotations

import abc
import asyncio
import dataclasses
import datetime as dt
from typing import Any, ClassVar

from asgiref.sync import async_to_sync, sync_to_async
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connections
from django.db.models import Max
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from health_check.base import HealthCheck, HealthCheckResult
from health_check.checks import Cache, Database
from health_check.contrib.redis import Redis
from health_check.exceptions import HealthCheckException, ServiceUnavailable
from redis.asyncio import Redis as AsyncRedis

from meters.models import Meter
from predictions.selectors import model_artifacts_problems

ESSENTIAL = frozenset({"database", "redis"})  # either down: the answer is 503

HEARTBEAT_KEY = "wattwatch:heartbeat:worker"  # written by analytics.services.heartbeat_record


@dataclasses.dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclasses.dataclass
class DatabaseCheck(Database):
    """The library's SELECT 1, on the request thread's own connection."""

    name: ClassVar[str] = "database"
    detail: str = dataclasses.field(default="", init=False, repr=False)

    async def run(self) -> None:
        try:
            await sync_to_async(super().run)()
        except ServiceUnavailable as error:
            # The driver's message names hosts and ports; this answer is public.
            raise ServiceUnavailable(type(error.__cause__ or error).__name__) from error
        self.detail = connections[self.alias].vendor


@dataclasses.dataclass
class RedisCheck(Redis):
    """The library's PING of REDIS_URL (broker, channel layer and cache)."""

    name: ClassVar[str] = "redis"
    detail: str = dataclasses.field(default="reachable", init=False, repr=False)


@dataclasses.dataclass
class EmbeddedCacheCheck(Cache):
    """Embedded mode has no Redis: the in-process cache that stands in for it must set and get."""

    name: ClassVar[str] = "redis"
    detail: str = dataclasses.field(default="in-process (embedded)", init=False, repr=False)


@dataclasses.dataclass
class _Probe(HealthCheck):
    """A check of our own: a synchronous probe on the request thread that returns its detail."""

    name: ClassVar[str] = ""
    detail: str = dataclasses.field(default="", init=False, repr=False)

    async def run(self) -> None:
        self.detail = await sync_to_async(self.probe)()

    @abc.abstractmethod
    def probe(self) -> str:
        """The detail when healthy; raises ServiceUnavailable with the detail when not."""


@dataclasses.dataclass
class WorkerCheck(_Probe):
    """A Celery worker has beaten recently (analytics.tasks.heartbeat)."""

    name: ClassVar[str] = "worker"
    now: dt.datetime | None = dataclasses.field(default=None, repr=False)

    def probe(self) -> str:
        try:
            beat: dict[str, str] | None = cache.get(HEARTBEAT_KEY)
        except Exception as error:  # Redis down: the redis check says so; here only that there is no heartbeat
            raise ServiceUnavailable(f"heartbeat unreadable ({type(error).__name__})") from error
        if not beat:
            raise ServiceUnavailable("no heartbeat yet")
        seen = parse_datetime(beat["at"])
        age = ((self.now or timezone.now()) - seen).total_seconds() if seen else float("inf")
        detail = f"last heartbeat {age:.0f} s ago from {beat['worker']}"
        if age > max(3 * settings.HEARTBEAT_SECONDS, 90):
            raise ServiceUnavailable(detail)
        return detail


@dataclasses.dataclass
class ModelArtifactsCheck(_Probe):
    """Every current model version has its artifact file, readable and whole."""

    name: ClassVar[str] = "model_artifacts"

    def probe(self) -> str:
        current, problems = model_artifacts_problems()
        if problems:
            more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
            raise ServiceUnavailable(
                f"{len(problems)} of {current} current version(s): {'; '.join(problems[:3])}{more}"
            )
        return f"{current} current version(s), artifacts readable" if current else "no trained versions yet"


@dataclasses.dataclass
class DataFreshnessCheck(_Probe):
    """When the newest reading of an active meter arrived."""

    name: ClassVar[str] = "data_freshness"

    def probe(self) -> str:
        try:
            last = Meter.objects.active().aggregate(last=Max("last_reading_at"))["last"]
        except DatabaseError as error:
            raise ServiceUnavailable(type(error).__name__) from error
        return f"latest reading {last.isoformat()}" if last else "no readings yet"


def _redis_client() -> AsyncRedis:
    return AsyncRedis.from_url(str(settings.REDIS_URL), socket_connect_timeout=2, socket_timeout=2)


def checks_build(*, now: dt.datetime | None = None) -> list[HealthCheck]:
    """The checks, in the order they are reported."""
    redis: HealthCheck = RedisCheck(client_factory=_redis_client) if settings.REDIS_URL else EmbeddedCacheCheck()
    return [DatabaseCheck(), redis, WorkerCheck(now=now), ModelArtifactsCheck(), DataFreshnessCheck()]


async def _results(checks: list[HealthCheck]) -> list[HealthCheckResult]:
    return list(await asyncio.gather(*(check.get_result() for check in checks)))


def _row(result: HealthCheckResult) -> Check:
    check: Any = result.check
    if result.error is None:
        return Check(check.name, True, check.detail)
    error: HealthCheckException = result.error
    return Check(check.name, False, error.message)


def health_checks(*, now: dt.datetime | None = None, checks: list[HealthCheck] | None = None) -> list[Check]:
    """Database, Redis (or the embedded cache), worker heartbeat, model artifacts and data freshness."""
    return [_row(result) for result in async_to_sync(_results)(checks or checks_build(now=now))]


def health_summary(*, now: dt.datetime | None = None, checks: list[HealthCheck] | None = None) -> dict[str, Any]:
    """`ok` unless the database or Redis fails; the other checks inform without failing the answer."""
    rows = health_checks(now=now, checks=checks)
    healthy = all(row.ok for row in rows if row.name in ESSENTIAL)
    return {"status": "ok" if healthy else "fail", "checks": [dataclasses.asdict(row) for row in rows]}
