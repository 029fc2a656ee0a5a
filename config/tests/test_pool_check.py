"""The pooled backend's connection check: a round trip only when unsure, never a dead connection handed out."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import connection

from config.postgresql import base as pooled
from config.postgresql.base import TRUST_SECONDS, DatabaseWrapper, check_unless_recent

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]
ROOT = Path(__file__).resolve().parents[2]


class CountingConnection(psycopg.Connection[Any]):
    """A real connection that counts the statements sent on it."""

    statements = 0

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        self.statements += 1
        return super().execute(*args, **kwargs)


@pytest.fixture
def conn() -> Iterator[CountingConnection]:
    params = {k: v for k, v in connection.get_connection_params().items() if k not in ("cursor_factory", "context")}
    with CountingConnection.connect(**params, autocommit=True) as c:
        yield c


def test_a_connection_that_answered_recently_is_handed_out_without_a_round_trip(conn: CountingConnection) -> None:
    check_unless_recent(conn)  # never checked: asks the server
    assert conn.statements == 1
    for _ in range(5):
        check_unless_recent(conn)
    assert conn.statements == 1


def test_a_connection_idle_past_the_trust_window_is_asked_again(
    conn: CountingConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    check_unless_recent(conn)
    later = time.monotonic() + TRUST_SECONDS + 1
    monkeypatch.setattr(pooled, "monotonic", lambda: later)
    check_unless_recent(conn)
    assert conn.statements == 2


def test_a_connection_the_server_closed_is_caught_even_when_it_answered_recently(
    conn: CountingConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    check_unless_recent(conn)
    with connection.cursor() as cursor:  # as a restart or an administrator would
        cursor.execute("SELECT pg_terminate_backend(%s)", [conn.info.backend_pid])
    # Wait for the server's goodbye without the check's clock moving on: still inside the trust
    # window, only the poll can tell the connection is gone.
    select.select([conn.pgconn.socket], [], [], 4)
    assert pooled._has_input(conn)
    checked_at = getattr(conn, pooled._CHECKED_AT)
    with monkeypatch.context() as patch:
        patch.setattr(pooled, "monotonic", lambda: checked_at + 1)
        with pytest.raises(psycopg.OperationalError):
            check_unless_recent(conn)
    assert conn.statements == 2


def test_the_backend_gives_its_pool_this_check_and_serves_queries_through_it() -> None:
    settings = {
        **connection.settings_dict,
        "ENGINE": "config.postgresql",
        "CONN_MAX_AGE": 0,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {**connection.settings_dict["OPTIONS"], "pool": {"min_size": 1, "max_size": 2}},
    }
    wrapper = DatabaseWrapper(settings, alias="pool-check-test")
    try:
        assert wrapper.pool is not None
        assert wrapper.pool._check is check_unless_recent
        for _ in range(3):  # each a checkout and a return, as requests do
            with wrapper.cursor() as cursor:
                cursor.execute("SELECT 1")
                assert cursor.fetchone() == (1,)
            wrapper.close()
    finally:
        wrapper.close_pool()  # type: ignore[attr-defined]  # not in django-stubs yet


def test_settings_choose_this_backend_only_with_a_pool(tmp_path: Path) -> None:
    script = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "d = s.DATABASES['default']; print(json.dumps([d['ENGINE'], 'pool' in d['OPTIONS'], d['CONN_HEALTH_CHECKS']]))"
    )
    engines = []
    for size in ("0", "5"):
        env = {
            **os.environ,
            "DEBUG": "1",
            "DB_POOL_MAX_SIZE": size,
            "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/wattwatch",
            "WATTWATCH_DATA_DIR": str(tmp_path),
            "DJANGO_SETTINGS_MODULE": "config.settings",
        }
        result = subprocess.run(
            [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stderr
        engines.append(json.loads(result.stdout.strip().splitlines()[-1]))
    # Health checks on: without them Django gives the pool no check, and there would be nothing to swap.
    assert engines == [["django.db.backends.postgresql", False, True], ["config.postgresql", True, True]]
