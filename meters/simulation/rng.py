"""Random generators keyed by the seed and stable names, so results never depend on iteration order."""

from __future__ import annotations

import hashlib

import numpy as np


def _word(key: str | int) -> int:
    digest = hashlib.blake2b(str(key).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def rng_for(seed: int, *keys: str | int) -> np.random.Generator:
    """A generator for one stream (say "noise" of meter RM-A101) of one seed."""
    words = [seed & 0xFFFFFFFF, (seed >> 32) & 0xFFFFFFFF]
    for key in keys:
        value = _word(key)
        words += [value & 0xFFFFFFFF, value >> 32]
    return np.random.default_rng(np.random.SeedSequence(words))
