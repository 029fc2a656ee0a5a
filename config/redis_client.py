"""Redis connections kept per process: one client for the product's own calls, one pool for the cache.

A client made per call opens a new connection each time: on the ingestion path, one per batch
(measured: 5 % of an ingest process's samples were spent connecting).

Django's Redis cache keeps its pools on the cache object, and under ASGI every request gets cache
objects of its own (they live in a context-local), so each request opened a connection, with its
handshake, for its session, throttle and cache reads (measured under the load bench: 9 % of a web
process's busy samples were spent connecting). `SharedConnectionPool`, the cache's pool class,
hands every cache object the process's one pool for its address.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

import redis
from django.conf import settings


@functools.cache
def _client(url: str) -> Any:
    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2, health_check_interval=30)


def redis_client() -> Any:
    """The process's client for settings.REDIS_URL (which must be set)."""
    if settings.REDIS_URL is None:
        raise RuntimeError("REDIS_URL is not set (embedded mode has no Redis)")
    return _client(str(settings.REDIS_URL))


class SharedConnectionPool(redis.ConnectionPool):
    """`from_url` returns the process's existing pool for the same address and options.

    redis-py's pool is thread-safe and notices a fork (a Celery child makes its own connections).
    """

    _shared: dict[tuple[str, str], redis.ConnectionPool] = {}
    _shared_lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> Any:
        key = (url, repr(sorted(kwargs.items(), key=lambda item: item[0])))
        with cls._shared_lock:
            pool = cls._shared.get(key)
            if pool is None:
                pool = cls._shared[key] = super().from_url(url, **kwargs)
            return pool
