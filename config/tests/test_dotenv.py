""".env files are read by python-dotenv; the real environment wins over the file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from config.env import ConfigError, read_dotenv


def _unset(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    """Unset, and have monkeypatch remove whatever the test's read_dotenv sets."""
    for name in names:
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)


def test_a_dotenv_file_fills_what_the_environment_leaves_unset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _unset(monkeypatch, "WW_TEST_PLAIN", "WW_TEST_QUOTED", "WW_TEST_EXPORTED", "WW_TEST_LITERAL")
    monkeypatch.setenv("WW_TEST_REAL", "from the environment")
    env = tmp_path / ".env"
    env.write_text(
        "# a comment\n"
        "\n"
        "WW_TEST_REAL=from the file\n"
        "WW_TEST_PLAIN=plain value\n"
        "WW_TEST_QUOTED='quoted # not a comment'\n"
        "export WW_TEST_EXPORTED=exported\n"
        "WW_TEST_LITERAL=a${WW_TEST_REAL}b\n"
    )
    read_dotenv(env)
    assert os.environ["WW_TEST_REAL"] == "from the environment"
    assert os.environ["WW_TEST_PLAIN"] == "plain value"
    assert os.environ["WW_TEST_QUOTED"] == "quoted # not a comment"
    assert os.environ["WW_TEST_EXPORTED"] == "exported"
    assert os.environ["WW_TEST_LITERAL"] == "a${WW_TEST_REAL}b"


def test_a_missing_dotenv_file_changes_nothing(tmp_path: Path) -> None:
    before = dict(os.environ)
    read_dotenv(tmp_path / ".env")
    assert dict(os.environ) == before


def test_a_dotenv_line_without_a_value_stops_start_up_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _unset(monkeypatch, "WW_TEST_FIRST")
    env = tmp_path / ".env"
    env.write_text("WW_TEST_FIRST=1\nWW_TEST_BROKEN\n")
    with pytest.raises(ConfigError, match=r"\.env: WW_TEST_BROKEN: expected KEY=VALUE"):
        read_dotenv(env)
    assert "WW_TEST_FIRST" not in os.environ  # nothing is half-loaded
