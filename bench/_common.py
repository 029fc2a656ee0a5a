"""Shared helpers for the ingestion benchmarks: a throwaway PostgreSQL database with meters."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent


def admin_url(database_url: str) -> str:
    parts = urlsplit(database_url)
    return urlunsplit((parts.scheme, parts.netloc, "/postgres", "", ""))


def database_url(server: str, name: str) -> str:
    parts = urlsplit(server)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))


def _own(name: str) -> bool:
    """A benchmark's throwaway database: wattwatch_ingest_..., or NAME_ingest_... on a shared server."""
    return name.startswith("wattwatch_ingest_") or "_ingest_" in name


def recreate_database(server: str, name: str, *, template: str | None = None) -> str:
    """Drop and create `name` (must start with wattwatch_ingest_), migrate it, return its URL.

    With `template`, the new database is a copy of that one (a simulated large campus, say): the
    benchmark then works against its tables and indexes, and the original is never touched.
    """
    import psycopg

    assert _own(name), "benchmarks only touch their own databases"
    with psycopg.connect(admin_url(server), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if template:
            # A template must have no other sessions. The copy is a file-level clone: PostgreSQL 15's
            # default copies block by block through shared buffers and the WAL, which left the bench
            # starting with shared buffers full of the copy's dirty pages for its backends to write out.
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [template],
            )
            strategy = " STRATEGY FILE_COPY" if conn.info.server_version >= 150000 else ""
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"{strategy}')
        else:
            conn.execute(f'CREATE DATABASE "{name}"')
    url = database_url(server, name)
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "1"}
    env.pop("REDIS_URL", None)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    return url


def drop_database(server: str, name: str) -> None:
    import psycopg

    assert _own(name)
    with psycopg.connect(admin_url(server), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def django_setup(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DEBUG", "1")
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def create_meters(count: int, interval_minutes: int = 15) -> list[tuple[int, str]]:
    """`count` room meters in one hostel, rated generously; returns (id, serial)."""
    import datetime as dt

    from meters.models import Hostel, Meter, Room, Site

    site, _ = Site.objects.get_or_create(
        code="bench", defaults={"name": "Bench", "timezone": "Europe/London", "latitude": 52.2, "longitude": 0.1}
    )
    hostel, _ = Hostel.objects.get_or_create(site=site, code="BENCH", defaults={"name": "Bench hostel", "floors": 10})
    rooms = Room.objects.bulk_create(
        Room(hostel=hostel, number=f"R{k:05d}", floor=k % 10, bed_type=4, capacity=4) for k in range(count)
    )
    meters = Meter.objects.bulk_create(
        Meter(
            serial=f"BENCH-{k:05d}",
            kind=Meter.Kind.ROOM,
            hostel=hostel,
            room=room,
            interval_minutes=interval_minutes,
            rated_kw=10.0,
            installed_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
        )
        for k, room in enumerate(rooms)
    )
    return [(meter.id, meter.serial) for meter in meters]
