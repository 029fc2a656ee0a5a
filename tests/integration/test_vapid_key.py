"""The installation's Web Push (VAPID) key: made once, kept in the data folder, private."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from config.env import ConfigError, installation_vapid_key


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_the_vapid_key_is_made_once_per_installation_and_kept_private(tmp_path: Path) -> None:
    path = tmp_path / "var" / "vapid_private_key.pem"
    first = installation_vapid_key(path)
    assert installation_vapid_key(path) == first
    assert len(unb64url(first)) == 65
    assert unb64url(first)[0] == 4
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert installation_vapid_key(tmp_path / "other.pem") != first


def test_a_file_that_is_not_a_p256_key_is_refused_with_its_name(tmp_path: Path) -> None:
    path = tmp_path / "vapid_private_key.pem"
    path.write_text("not a key")
    with pytest.raises(ConfigError, match=r"VAPID_PRIVATE_KEY_FILE: .* is not a PEM private key"):
        installation_vapid_key(path)
