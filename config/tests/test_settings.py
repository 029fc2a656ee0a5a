"""Configuration from the environment: clear one-line errors, embedded mode by default."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from config.env import ConfigError, env_bool, env_database, env_int, env_redis, env_timezone

ROOT = Path(__file__).resolve().parents[2]
SERVICE_VARIABLES = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS")


def run_manage(*args: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in SERVICE_VARIABLES}
    clean.update({"WATTWATCH_DATA_DIR": str(tmp_path)}, **env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({"DEBUG": "maybe"}, "DEBUG: expected a boolean"),
        ({"DEBUG": "1", "DATABASE_URL": "mysql://root@localhost/x"}, "DATABASE_URL: expected postgres://"),
        ({"DEBUG": "1", "REDIS_URL": "http://localhost:6379"}, "REDIS_URL: expected redis://"),
        ({"DEBUG": "0", "ALLOWED_HOSTS": "example.org"}, "SECRET_KEY: is required when DEBUG is off"),
        ({"DEBUG": "1", "WATTWATCH_HEARTBEAT_SECONDS": "soon"}, "WATTWATCH_HEARTBEAT_SECONDS: expected an integer"),
        ({"DEBUG": "1", "TIME_ZONE": "Mars/Olympus"}, "TIME_ZONE: expected an IANA time zone"),
    ],
)
def test_bad_environment_value_fails_with_one_line_naming_the_variable(
    variables: dict[str, str], expected: str, tmp_path: Path
) -> None:
    result = run_manage("check", env=variables, tmp_path=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Configuration error: ")
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_embedded_mode_is_chosen_when_no_services_are_configured(tmp_path: Path) -> None:
    script = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({'embedded': s.EMBEDDED, 'engine': s.DATABASES['default']['ENGINE'], "
        "'broker': s.CELERY_BROKER_URL, 'layer': s.CHANNEL_LAYERS['default']['BACKEND'], "
        "'db': str(s.DATABASES['default']['NAME'])}))"
    )
    clean = {k: v for k, v in os.environ.items() if k not in SERVICE_VARIABLES}
    clean.update(DEBUG="1", WATTWATCH_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="config.settings")
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    chosen = json.loads(result.stdout.strip().splitlines()[-1])
    assert chosen["embedded"] is True
    assert chosen["engine"] == "django.db.backends.sqlite3"
    assert chosen["db"].startswith(str(tmp_path))
    assert chosen["broker"] == "memory://"
    assert chosen["layer"] == "config.layers.ThreadSafeInMemoryChannelLayer"


def test_production_variables_pass_the_deploy_check(tmp_path: Path) -> None:
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env={"DEBUG": "0", "SECRET_KEY": "x7" * 30 + "q!Zr&", "ALLOWED_HOSTS": "wattwatch.example.org"},
        tmp_path=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr


SETTINGS_IMPORT = """
import importlib, json
import django.conf
importlib.import_module("config.settings")
read_while_importing = django.conf.settings.configured
import django
django.setup()
from django.conf import settings
from drf_spectacular.settings import spectacular_settings as used
from config import queues
ours = settings.SPECTACULAR_SETTINGS
print(json.dumps({
    "read_while_importing": read_while_importing,
    "title": used.TITLE == ours["TITLE"],
    "enum_name_overrides": used.ENUM_NAME_OVERRIDES == ours["ENUM_NAME_OVERRIDES"],
    "split_request": used.COMPONENT_SPLIT_REQUEST == ours["COMPONENT_SPLIT_REQUEST"],
    "hooks": len(used.POSTPROCESSING_HOOKS) == len(ours["POSTPROCESSING_HOOKS"]),
    "csp": settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["script-src"],
    "routes": len(settings.CELERY_TASK_ROUTES) > 0 and settings.CELERY_TASK_ROUTES == queues.ROUTES,
}))
"""


def test_the_settings_module_reads_no_settings_while_it_runs_and_drf_spectacular_gets_ours(tmp_path: Path) -> None:
    """config/settings.py imports its fixed data (config/openapi.py, content_policy.py, queues.py, logs.py):
    an import there that reads django.conf.settings (drf_spectacular.settings does, once, when first
    imported) makes Django load the half-run settings module again, and drf-spectacular kept its
    defaults: no ENUM_NAME_OVERRIDES (drf_spectacular.W001 in `make check-deploy`), no title, no hooks."""
    clean = {k: v for k, v in os.environ.items() if k not in SERVICE_VARIABLES}
    clean.update(DEBUG="1", WATTWATCH_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="config.settings")
    result = subprocess.run(
        [sys.executable, "-c", SETTINGS_IMPORT], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen == {
        "read_while_importing": False,
        "title": True,
        "enum_name_overrides": True,
        "split_request": True,
        "hooks": True,
        "csp": ["'self'"],
        "routes": True,
    }


def test_env_bool_accepts_common_spellings(monkeypatch: pytest.MonkeyPatch) -> None:
    for value, expected in [("yes", True), ("On", True), ("0", False), ("false", False)]:
        monkeypatch.setenv("FLAG", value)
        assert env_bool("FLAG", not expected) is expected


def test_env_int_enforces_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "70000")
    with pytest.raises(ConfigError, match="PORT: must be at most 65535"):
        env_int("PORT", 8000, minimum=1, maximum=65535)


def test_database_url_without_a_database_name_is_rejected(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@localhost:5432")
    with pytest.raises(ConfigError, match="names no database"):
        env_database("DATABASE_URL", sqlite_path=tmp_path / "x.sqlite3")


def test_redis_and_timezone_readers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOPE_URL", raising=False)
    assert env_redis("NOPE_URL") is None
    monkeypatch.setenv("TZ_TEST", "Europe/London")
    assert env_timezone("TZ_TEST", "UTC") == "Europe/London"


def test_with_a_pool_size_postgresql_uses_djangos_own_pool_with_health_checks(tmp_path: Path) -> None:
    script = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "d = s.DATABASES['default']; print(json.dumps([d['ENGINE'], d['OPTIONS'].get('pool'), "
        "d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'], s.CHANNEL_LAYERS['default']['BACKEND']]))"
    )
    chosen = []
    for size in ("0", "5"):
        env = {k: v for k, v in os.environ.items() if k not in SERVICE_VARIABLES}
        env.update(
            DEBUG="1",
            DB_POOL_MAX_SIZE=size,
            DB_CONN_MAX_AGE="60",
            DATABASE_URL="postgres://postgres@127.0.0.1:5432/wattwatch",  # no connection is made
            REDIS_URL="redis://127.0.0.1:6379/15",
            WATTWATCH_DATA_DIR=str(tmp_path),
            DJANGO_SETTINGS_MODULE="config.settings",
        )
        result = subprocess.run(
            [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stderr
        chosen.append(json.loads(result.stdout.strip().splitlines()[-1]))
    layer = "channels_redis.pubsub.RedisPubSubChannelLayer"
    assert chosen[0] == ["django.db.backends.postgresql", None, 60, True, layer]  # persistent connections
    # Django's pool requires CONN_MAX_AGE 0; CONN_HEALTH_CHECKS gives the pool its check before each checkout.
    pool = {"min_size": 1, "max_size": 5, "timeout": 20}
    assert chosen[1] == ["django.db.backends.postgresql", pool, 0, True, layer]
