"""Text from outside is made storable: unpaired surrogates are written out as their escapes."""

from __future__ import annotations

from core.text import unicode_escaped


def test_an_unpaired_surrogate_becomes_its_six_character_escape() -> None:
    assert unicode_escaped("kWh \ud800 x") == "kWh \\ud800 x"


def test_valid_text_is_returned_unchanged() -> None:
    assert unicode_escaped("Résidence Ωmega") == "Résidence Ωmega"
    assert unicode_escaped("plain") == "plain"
