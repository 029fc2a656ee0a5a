"""Text as it arrives from outside, made storable and sendable."""

from __future__ import annotations


def unicode_escaped(value: str) -> str:
    """The text, with any unpaired surrogate (JSON can say "\\ud800"; it is not Unicode, so no
    database, encoder or response can hold it) written out as its escape: the six characters \\ud800."""
    if value.isascii():
        return value
    try:
        value.encode()
    except UnicodeEncodeError:
        return value.encode("utf-8", "backslashreplace").decode()
    return value
