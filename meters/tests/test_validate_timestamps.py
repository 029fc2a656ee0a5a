"""Timestamps that all carry their UTC offset are parsed by Arrow in one pass (meters.ingest.validate); any
other chunk goes value by value through pandas, and both read every value the same."""

from __future__ import annotations

import pandas as pd
import pytest

from meters.ingest import validate
from meters.ingest.validate import _timestamps

WITH_OFFSETS = [
    "2018-01-01T00:00:00Z",
    "2018-06-01T01:30:00+01:00",
    "2018-06-01T01:30:00.5+0100",
    "2018-01-01T00:00Z",
    "2018-01-01T00:00:00+01",
    "2018-01-01T00:00:00-00:00",
    "2018-01-01 00:00:00+00:00",
    "2018-03-25T01:30:00+00:00",  # inside London's missing hour, but with an offset: a real instant
    None,
]


def _epochs(values: list[str | None]) -> list[int | None]:
    stamps, naive, dst = _timestamps(pd.Series(values, dtype="string"), None)
    assert not naive.any()
    assert dst.isna().all()
    return [None if pd.isna(stamp) else int(stamp.timestamp() * 1000) for stamp in stamps]


def test_times_with_offsets_read_the_same_by_arrow_as_by_pandas() -> None:
    # One naive value (no offset) sends the chunk to pandas' path; the other values must not change.
    by_pandas = _epochs([*WITH_OFFSETS, "not a time"])[:-1]
    assert _epochs(WITH_OFFSETS) == by_pandas
    assert by_pandas[0] == 1514764800000
    assert by_pandas[1] == 1527813000000
    assert by_pandas[-1] is None


def test_a_chunk_with_offsets_is_parsed_without_pandas(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("pandas' ISO 8601 parser was used")

    monkeypatch.setattr(validate.pd, "to_datetime", refuse)
    assert _epochs(["2018-01-01T00:00:00Z", "2018-01-01T01:00:00+01:00"]) == [1514764800000, 1514764800000]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (" 2018-01-01T00:00:00Z ", 1514764800000),  # trimmed by the value-by-value path
        ("20180101T000000Z", 1514764800000),  # ISO 8601's basic form: pandas reads it, Arrow does not
        ("2018-02-30T00:00:00Z", None),  # no such day
        ("garbage+01:00", None),
    ],
)
def test_a_value_arrow_refuses_is_judged_by_pandas_with_the_rest_of_its_chunk(value: str, expected: int | None) -> None:
    assert _epochs(["2018-01-01T00:00:00Z", value]) == [1514764800000, expected]
