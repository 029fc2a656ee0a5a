"""Writing and reading model artifacts safely.

An artifact is written to a temporary name in the same directory and renamed into place, so a
reader sees either the old file or the new one, never half of one. Each artifact carries its
family and format version; anything that does not match raises `IncompatibleArtifact`, and the
caller retrains instead of crashing.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings

MAGIC = "wattwatch-model"


class IncompatibleArtifact(Exception):
    """The artifact is missing, corrupt, of another family, or of another format version."""


def artifact_path(name: str) -> Path:
    directory: Path = settings.ML_MODELS_DIR
    directory.mkdir(parents=True, exist_ok=True)
    path = (directory / name).resolve()
    if directory.resolve() not in path.parents:
        raise ValueError(f"artifact name {name!r} escapes the models directory")
    return path


def artifact_problem(name: str) -> str | None:
    """What stops artifact `name` from being read, found without unpickling it; None when it looks whole.

    Cheap enough for every health request: the file must exist, be readable, start with the
    envelope `artifact_write` writes and end where a pickle ends (a truncated copy does not).
    """
    try:
        path = artifact_path(name)
    except ValueError:
        return "outside the models directory"
    except OSError as error:  # the directory cannot be created
        return f"unreadable ({type(error).__name__})"
    try:
        with path.open("rb") as handle:
            head = handle.read(64)
            if head:
                handle.seek(-1, os.SEEK_END)
            tail = handle.read(1)
    except FileNotFoundError:
        return "missing"
    except IsADirectoryError:
        return "not a file"
    except OSError as error:  # permissions, I/O errors
        return f"unreadable ({type(error).__name__})"
    if not head:
        return "empty"
    if MAGIC.encode() not in head:
        return "not a Wattwatch model artifact"
    if tail != pickle.STOP:
        return "truncated"
    return None


def artifact_write(*, name: str, family: str, format_version: int, payload: Any) -> Path:
    """Atomically write `payload` as artifact `name`; returns its path."""
    path = artifact_path(name)
    envelope = {"magic": MAGIC, "family": family, "format_version": format_version, "payload": payload}
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            pickle.dump(envelope, handle, protocol=pickle.HIGHEST_PROTOCOL)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def artifact_read(*, name: str, family: str, format_version: int) -> Any:
    """Read an artifact written by `artifact_write`, refusing anything incompatible."""
    path = artifact_path(name)
    try:
        with path.open("rb") as handle:
            # Artifacts are written only by our own workers into ML_MODELS_DIR.
            envelope = pickle.load(handle)  # noqa: S301
    except FileNotFoundError:
        raise IncompatibleArtifact(f"{name}: missing") from None
    except Exception as error:  # truncated or garbage file
        raise IncompatibleArtifact(f"{name}: unreadable ({type(error).__name__})") from None
    if not isinstance(envelope, dict) or envelope.get("magic") != MAGIC:
        raise IncompatibleArtifact(f"{name}: not a Wattwatch model artifact")
    if envelope.get("family") != family:
        raise IncompatibleArtifact(f"{name}: is a {envelope.get('family')} model, expected {family}")
    if envelope.get("format_version") != format_version:
        raise IncompatibleArtifact(
            f"{name}: format version {envelope.get('format_version')}, this code reads {format_version}"
        )
    return envelope["payload"]
