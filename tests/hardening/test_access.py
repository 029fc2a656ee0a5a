"""Hostile access, round two: development keys, gateway scope, quarantine senders, assigning."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _secret_key_of_installation(data_dir: Path) -> str:
    env = {
        "PATH": "/usr/bin:/bin",
        "DEBUG": "1",
        "WATTWATCH_DATA_DIR": str(data_dir),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    out = subprocess.run(
        [
            str(ROOT / ".venv/bin/python"),
            "-c",
            "import django; django.setup(); from django.conf import settings as s; print(s.SECRET_KEY)",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip()


def test_a_development_server_signs_with_its_own_random_key_kept_in_the_data_folder(tmp_path: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    key = _secret_key_of_installation(first)
    assert len(key) >= 50
    assert "insecure" not in key
    assert key != _secret_key_of_installation(second), "two installations must not share a key"
    assert _secret_key_of_installation(first) == key, "later runs read the same key"
    path = first / "secret_key"
    assert path.read_text().strip() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not [name for name in os.listdir(first) if name.startswith(".secret_key.")], "no temporary file left"


def test_no_fixed_development_key_is_left_in_the_settings() -> None:
    assert "django-insecure" not in (ROOT / "config/settings.py").read_text()
