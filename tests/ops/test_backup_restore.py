"""docs/backup.md, done for real: pg_dump of a campus and a tar of ml_models, restored into a new
database and directory, serve the same pages and API answers as the original."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client

from alerts import services
from conftest import Campus
from meters.ingest import readings_ingest
from predictions.ml.artifacts import artifact_write
from predictions.models import ModelVersion

pytestmark = [pytest.mark.postgres, pytest.mark.skipif(shutil.which("pg_dump") is None, reason="needs pg_dump")]

START = dt.datetime(2025, 3, 3, tzinfo=dt.UTC)


def _libpq_env() -> dict[str, str]:
    import os

    settings = connection.settings_dict
    env = {**os.environ, "PGHOST": str(settings["HOST"] or "127.0.0.1"), "PGPORT": str(settings["PORT"] or 5432)}
    env["PGUSER"] = str(settings["USER"] or "postgres")
    if settings.get("PASSWORD"):
        env["PGPASSWORD"] = str(settings["PASSWORD"])
    return env


@contextlib.contextmanager
def serving_from(database: str, models_dir: Path, settings: Any) -> Iterator[None]:
    """This process answers from another database and models directory for a while."""
    original, original_models = connection.settings_dict["NAME"], settings.ML_MODELS_DIR
    connection.close()
    connection.settings_dict["NAME"] = database
    settings.ML_MODELS_DIR = models_dir
    cache.clear()  # signed-in users and dashboard figures are cached per process
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["NAME"] = original
        settings.ML_MODELS_DIR = original_models
        cache.clear()


def _normalised(body: bytes) -> str:
    text = body.decode()
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "csrf", text)
    text = re.sub(r'nonce="[^"]+"', "nonce", text)
    # "5 seconds ago" moves on between the two reads; the instant itself (the datetime attribute) is compared.
    text = re.sub(r'(<time datetime="[^"]+">)[^<]*(</time>)', r"\1\2", text)
    return text


def answers(campus: Campus, manager: Any, warden_a: Any) -> dict[str, tuple[int, str]]:
    paths = {
        "home": (manager, "/"),
        "hostel": (manager, f"/hostels/{campus.hostel_a.pk}/"),
        "alerts page": (manager, "/alerts/"),
        "warden home": (warden_a, "/"),
        "hostels api": (manager, "/api/v1/hostels"),
        "readings api": (
            manager,
            f"/api/v1/meters/{campus.meter_a.pk}/readings?start=2025-03-03T00:00:00Z&end=2025-03-04T00:00:00Z",
        ),
        "hourly api": (
            manager,
            f"/api/v1/meters/{campus.meter_a.pk}/readings?resolution=hourly"
            "&start=2025-03-03T00:00:00Z&end=2025-03-04T00:00:00Z",
        ),
        "alerts api": (manager, "/api/v1/alerts"),
        "warden alerts api": (warden_a, "/api/v1/alerts"),
        "model versions api": (manager, "/api/v1/model-versions"),
    }
    out = {}
    for name, (user, path) in paths.items():
        client = Client()
        client.force_login(user)
        response = client.get(path)
        out[name] = (response.status_code, _normalised(response.content))
    health = Client().get("/health").json()
    checks = {check["name"]: check for check in health["checks"]} if "checks" in health else health
    out["model artifacts"] = (200, repr(checks.get("model_artifacts")))
    return out


@pytest.mark.django_db(transaction=True)
def test_a_restored_backup_serves_the_same_pages(
    campus: Campus, manager: Any, warden_a: Any, tmp_path: Path, settings: Any
) -> None:
    settings.ML_MODELS_DIR = models = tmp_path / "ml_models"
    models.mkdir()
    artifact = artifact_write(name="anomaly-v1.pkl", family="anomaly", format_version=1, payload={"fitted": True})
    ModelVersion.objects.create(
        family="anomaly", format_version=1, status=ModelVersion.Status.CURRENT, artifact=artifact.name
    )
    for meter in (campus.meter_a, campus.meter_b):
        rows = [
            {
                "meter": meter.serial,
                "timestamp": (START + dt.timedelta(minutes=15 * k)).isoformat(),
                "kwh": 0.2 + k % 5 / 10,
            }
            for k in range(96)
        ]
        readings_ingest(rows=rows, source="backup test")
    services.alert_raise(kind="anomaly", title="A-101 night load", meter=campus.meter_a, score=0.9)
    services.alert_raise(kind="stale_meter", title="B-101 silent", meter=campus.meter_b)
    before = answers(campus, manager, warden_a)
    assert all(status == 200 for status, _ in before.values()), {k: v[0] for k, v in before.items()}
    assert "RM-A-101" in before["readings api"][1] or "0.2" in before["readings api"][1]
    assert "artifacts readable" in before["model artifacts"][1]

    # The backup, as docs/backup.md writes it.
    env, source = _libpq_env(), str(connection.settings_dict["NAME"])
    dump, archive = tmp_path / "wattwatch.dump", tmp_path / "ml_models.tar.gz"
    subprocess.run(["pg_dump", "--format=custom", "--no-owner", f"--file={dump}", source], env=env, check=True)
    subprocess.run(["tar", "-C", str(models.parent), "-czf", str(archive), models.name], check=True)

    # The restore: a new database and a new models directory.
    restored = f"{source}_restored"
    subprocess.run(["dropdb", "--if-exists", "--force", restored], env=env, check=True)
    subprocess.run(["createdb", restored], env=env, check=True)
    try:
        subprocess.run(
            ["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={restored}", str(dump)], env=env, check=True
        )
        elsewhere = tmp_path / "restored"
        elsewhere.mkdir()
        subprocess.run(["tar", "-C", str(elsewhere), "-xzf", str(archive)], check=True)
        shutil.rmtree(models)  # nothing may come from the original directory

        with serving_from(restored, elsewhere / "ml_models", settings):
            with connection.cursor() as cur:
                cur.execute("SELECT relkind FROM pg_class WHERE relname = 'meters_reading'")
                assert cur.fetchone()[0] == "p"  # still partitioned
            after = answers(campus, manager, warden_a)
    finally:
        subprocess.run(["dropdb", "--if-exists", "--force", restored], env=env, check=True)

    for name in before:
        assert after[name] == before[name], name
