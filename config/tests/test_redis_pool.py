"""The Redis cache (django-redis) and the product's own Redis calls share one connection pool per process,
though ASGI gives each request its own cache object."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Each request under ASGI runs in a context of its own, where django.core.cache.caches (a
# context-local) builds a new cache object: two fresh contexts stand for two requests.
SCRIPT = """
import contextvars, json, django
django.setup()
from django.core.cache import caches
from django_redis import get_redis_connection

def cache_and_pool():
    cache = caches["default"]
    return cache, cache.client.get_client(write=True).connection_pool

first, second = contextvars.Context().run(cache_and_pool), contextvars.Context().run(cache_and_pool)
own = contextvars.Context().run(lambda: get_redis_connection("default").connection_pool)
print(json.dumps({"same_cache": first[0] is second[0], "same_pool": first[1] is second[1] is own,
                  "socket_timeout": first[1].connection_kwargs.get("socket_timeout")}))
"""


def test_requests_in_different_contexts_and_the_product_s_calls_share_one_connection_pool(tmp_path: Path) -> None:
    # No connection is made: building a client and its pool does not touch the server.
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        DEBUG="1",
        REDIS_URL="redis://127.0.0.1:6379/15",
        WATTWATCH_DATA_DIR=str(tmp_path),
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["same_cache"] is False  # as under ASGI: a cache object per request
    assert seen["same_pool"] is True
    assert seen["socket_timeout"] == 5  # a hung Redis cannot hold a request on a kept connection
