from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import override_settings

from predictions.ml.artifacts import IncompatibleArtifact, artifact_read, artifact_write


@pytest.fixture(autouse=True)
def models_dir(tmp_path: Path) -> Iterator[Path]:
    with override_settings(ML_MODELS_DIR=tmp_path):
        yield tmp_path


def test_artifact_round_trips() -> None:
    artifact_write(name="x.pkl", family="forecast", format_version=2, payload={"a": [1, 2]})
    assert artifact_read(name="x.pkl", family="forecast", format_version=2) == {"a": [1, 2]}


def test_other_format_version_is_refused() -> None:
    artifact_write(name="x.pkl", family="forecast", format_version=1, payload=1)
    with pytest.raises(IncompatibleArtifact, match="format version 1"):
        artifact_read(name="x.pkl", family="forecast", format_version=2)


def test_other_family_missing_and_truncated_files_are_refused(models_dir: Path) -> None:
    artifact_write(name="x.pkl", family="anomaly", format_version=1, payload=1)
    with pytest.raises(IncompatibleArtifact, match="expected forecast"):
        artifact_read(name="x.pkl", family="forecast", format_version=1)
    with pytest.raises(IncompatibleArtifact, match="missing"):
        artifact_read(name="nope.pkl", family="forecast", format_version=1)
    data = (models_dir / "x.pkl").read_bytes()
    (models_dir / "x.pkl").write_bytes(data[: len(data) // 2])
    with pytest.raises(IncompatibleArtifact, match="unreadable"):
        artifact_read(name="x.pkl", family="anomaly", format_version=1)


def test_no_temporary_file_is_left_behind(models_dir: Path) -> None:
    artifact_write(name="y.pkl", family="failure", format_version=1, payload=list(range(1000)))
    assert [p.name for p in models_dir.iterdir()] == ["y.pkl"]


def test_artifact_name_cannot_escape_the_directory() -> None:
    with pytest.raises(ValueError, match="escapes"):
        artifact_write(name="../evil.pkl", family="failure", format_version=1, payload=1)
