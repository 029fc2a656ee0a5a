"""Hostile input: files and batches mixing good rows and junk; every row ends stored or quarantined."""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meters.ingest import FileFormatError, readings_ingest, readings_ingest_file
from meters.models import GatewayToken, Meter, QuarantinedReading, Reading
from meters.services import gateway_token_create
from meters.tests.factories import MeterFactory

START = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
FUZZ = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Junk cells: arbitrary text (including separators, quotes, newlines and NUL characters),
# numbers a meter cannot produce, timestamps that are not on the grid, in the future or nonsense.
junk_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=30)
junk_meter = st.one_of(junk_text, st.just("FZ-1"), st.just("NO-SUCH-METER"), st.just(""))
junk_timestamp = st.one_of(
    junk_text,
    st.just("2025-03-01T00:07:00Z"),  # off the 15-minute grid
    st.just("2999-01-01T00:00:00Z"),  # far future
    st.just("2025-03-01 00:00:00"),  # no offset
    st.just("1900-01-01T00:00:00Z"),  # before installation
    st.datetimes(timezones=st.just(dt.UTC)).map(lambda value: value.isoformat()),
)
junk_kwh = st.one_of(
    junk_text,
    st.sampled_from(["-1", "nan", "inf", "-inf", "1e308", "", "0x10", "1,5"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(min_value=-1e12, max_value=-1e-9).map(repr),
)
junk_row = st.fixed_dictionaries({"meter": junk_meter, "timestamp": junk_timestamp, "kwh": junk_kwh})
# Good rows: distinct slots of meter FZ-1, which is outside the junk timestamps' fixed values.
good_slots = st.lists(st.integers(min_value=1, max_value=400), unique=True, max_size=25)


def _good(slot: int) -> dict[str, str]:
    return {
        "meter": "FZ-1",
        "timestamp": (START + dt.timedelta(minutes=15 * slot)).isoformat().replace("+00:00", "Z"),
        "kwh": f"{0.05 + (slot % 7) * 0.01:.2f}",
    }


def _mix(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[int]]:
    slots = draw(good_slots)
    junk = draw(st.lists(junk_row, max_size=25))
    rows: list[dict[str, Any]] = [_good(slot) for slot in slots] + junk
    order = draw(st.permutations(range(len(rows))))
    return [rows[index] for index in order], slots


mixed_rows = st.composite(_mix)()


@pytest.fixture
def fuzz_meter(db: None) -> Meter:
    return MeterFactory.create(
        serial="FZ-1", interval_minutes=15, rated_kw=5.0, installed_at=START - dt.timedelta(days=30)
    )


def _reset() -> None:
    Reading.objects.filter(meter__serial="FZ-1").delete()
    QuarantinedReading.objects.all().delete()


def _assert_every_row_accounted(result: Any, rows: int, slots: list[int], meter: Meter) -> None:
    assert result.rows == rows, result.summary()
    assert QuarantinedReading.objects.count() == result.rejected
    stored = set(Reading.objects.filter(meter=meter, quality=0).values_list("timestamp", flat=True)) | set(
        Reading.objects.filter(meter=meter).exclude(quality=0).values_list("timestamp", flat=True)
    )
    missing = [slot for slot in slots if START + dt.timedelta(minutes=15 * slot) not in stored]
    assert not missing, f"good rows lost: slots {missing}"
    for item in QuarantinedReading.objects.all():
        assert item.reason.strip(), "a quarantined row carries its reason"


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["meter", "timestamp", "kwh"])
        writer.writeheader()
        writer.writerows(rows)


@FUZZ
@given(case=mixed_rows)
def test_csv_import_stores_every_good_row_and_quarantines_every_bad_one(
    fuzz_meter: Meter, case: tuple[list[dict[str, Any]], list[int]]
) -> None:
    rows, slots = case
    _reset()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.csv"
        _write_csv(path, rows)
        try:
            result = readings_ingest_file(path=path)
        except FileFormatError:
            # Only a file the CSV reader cannot split into rows may be refused as a whole, and then
            # nothing is stored: the user is told and can fix the file.
            assert not Reading.objects.filter(meter=fuzz_meter).exists()
            return
    _assert_every_row_accounted(result, len(rows), slots, fuzz_meter)


@FUZZ
@given(case=mixed_rows)
def test_parquet_import_stores_every_good_row_and_quarantines_every_bad_one(
    fuzz_meter: Meter, case: tuple[list[dict[str, Any]], list[int]]
) -> None:
    rows, slots = case
    _reset()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.parquet"
        frame = pd.DataFrame(rows, columns=["meter", "timestamp", "kwh"]).astype(object)
        frame.to_parquet(path)
        result = readings_ingest_file(path=path)
    _assert_every_row_accounted(result, len(rows), slots, fuzz_meter)


# JSON, unlike a CSV or Parquet file, can carry text that is not valid Unicode: unpaired surrogates.
surrogate_text = st.text(
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF, exclude_categories=[]), min_size=1, max_size=3
).map(lambda text: "FZ-" + text)
json_text = junk_text | surrogate_text
json_junk = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | json_text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(json_text, children, max_size=3),
    max_leaves=6,
)


def _api_mix(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[int]]:
    slots = draw(good_slots)
    junk = draw(
        st.lists(
            st.fixed_dictionaries(
                {"meter": json_junk | junk_meter, "timestamp": json_junk | junk_timestamp, "kwh": json_junk | junk_kwh}
            ),
            max_size=20,
        )
    )
    rows: list[dict[str, Any]] = [dict(_good(slot), kwh=float(_good(slot)["kwh"])) for slot in slots] + junk
    order = draw(st.permutations(range(len(rows))))
    return [rows[index] for index in order], slots


@FUZZ
@given(case=st.composite(_api_mix)())
def test_batch_service_stores_every_good_item_and_quarantines_every_bad_one(
    fuzz_meter: Meter, case: tuple[list[dict[str, Any]], list[int]]
) -> None:
    rows, slots = case
    _reset()
    result = readings_ingest(rows=rows, source="fuzz")
    _assert_every_row_accounted(result, len(rows), slots, fuzz_meter)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=json_junk | st.lists(json_junk, max_size=5) | st.binary(max_size=200))
def test_batch_endpoint_answers_any_body_with_a_clear_status_never_a_server_error(fuzz_meter: Meter, body: Any) -> None:
    if not GatewayToken.objects.filter(name="fuzz").exists():
        _FUZZ_KEYS["key"] = gateway_token_create(name="fuzz", meter_ids=[fuzz_meter.id])[1]
    token = _FUZZ_KEYS["key"]
    payload = body if isinstance(body, bytes) else json.dumps(body, allow_nan=False)
    response = Client().post(
        "/api/v1/readings/batch", data=payload, content_type="application/json", HTTP_AUTHORIZATION=f"Gateway {token}"
    )
    assert response.status_code in (200, 400), response.content[:300]
    if response.status_code == 200:
        answer = response.json()
        assert answer["accepted"] + answer["updated"] + answer["unchanged"] + answer["rejected"] + answer[
            "duplicates"
        ] == len(body)
        assert all(
            not (isinstance(item["reason"], float) and math.isnan(item["reason"])) for item in answer["rejections"]
        )


_FUZZ_KEYS: dict[str, str] = {}


@pytest.fixture
def fuzz_transformer(db: None) -> Any:
    from customers.tests.factories import TransformerFactory

    return TransformerFactory.create(code="FZ-TX")


def _condition_mix(draw: st.DrawFn) -> tuple[list[Any], list[int]]:
    slots = draw(good_slots)
    number = json_junk | junk_kwh | st.floats(allow_nan=False, allow_infinity=False)
    junk = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "transformer": json_junk | st.sampled_from(["FZ-TX", "NO-SUCH-TX", ""]),
                    "measured_at": json_junk | junk_timestamp,
                },
                optional={"top_oil_c": number, "dissolved_gas_ppm": number, "extra": json_junk},
            )
            | json_junk,
            max_size=20,
        )
    )
    good = [
        {
            "transformer": "FZ-TX",
            "measured_at": (START + dt.timedelta(hours=slot)).isoformat(),
            "top_oil_c": 60.0 + slot % 30,
        }
        for slot in slots
    ]
    rows = good + junk
    order = draw(st.permutations(range(len(rows))))
    return [rows[index] for index in order], slots


@FUZZ
@given(case=st.composite(_condition_mix)())
def test_condition_batches_store_every_good_item_and_quarantine_every_bad_one(
    fuzz_transformer: Any, case: tuple[list[Any], list[int]]
) -> None:
    from customers.models import TransformerCondition
    from meters.ingest.condition import conditions_ingest

    items, slots = case
    TransformerCondition.objects.all().delete()
    QuarantinedReading.objects.all().delete()
    result = conditions_ingest(items=items, source="fuzz")
    accounted = result.accepted + result.updated + result.unchanged + result.rejected + result.duplicates
    assert accounted == len(items), result.summary()
    assert QuarantinedReading.objects.count() == result.rejected
    assert all(reason for _, _, reason in result.rejections)
    stored = set(TransformerCondition.objects.values_list("measured_at", flat=True))
    missing = [slot for slot in slots if START + dt.timedelta(hours=slot) not in stored]
    assert not missing, f"good items lost: {missing}"


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=json_junk | st.lists(json_junk, max_size=5) | st.binary(max_size=200))
def test_condition_endpoint_answers_any_body_with_a_clear_status_never_a_server_error(
    fuzz_transformer: Any, body: Any
) -> None:
    if not GatewayToken.objects.filter(name="fuzz-tx").exists():
        _FUZZ_KEYS["tx"] = gateway_token_create(name="fuzz-tx", meter_ids=[])[1]
    payload = body if isinstance(body, bytes) else json.dumps(body, allow_nan=False)
    response = Client().post(
        "/api/v1/transformer-condition/batch",
        data=payload,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Gateway {_FUZZ_KEYS['tx']}",
    )
    assert response.status_code in (200, 400), response.content[:300]
