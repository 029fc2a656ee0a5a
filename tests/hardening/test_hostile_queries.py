"""No 500 from user input in query strings: every GET URL, walked with hostile dates and cursors.

Dates past year 9999 or before year 1 (also once moved to UTC), digits that are not ASCII and
garbage cursors get a 400 (on the API in the standard error shape), or are ignored; never a 500.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client

from tests.hardening import test_url_walk
from tests.hardening.test_url_walk import Targets, _paths

targets = test_url_walk.targets  # the URL walk's fixture: Hostel B's objects fill the paths

DATE_PARAMS = ("since", "until", "start", "end", "at", "day", "date", "from", "to", "month", "days", "page")
HOSTILE = (
    "0001-01-01T00:00:00+14:00",
    "0001-01-01",
    "9999-12-31",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "10000-01-01T00:00:00Z",
    "9999-12-31T23:59:59-14:00",
    "10000-01-01",
    "0000-01-01",
    "99999999999999999999",
    "²",
    "2025-02-30",
)
CURSORS = (
    "!!!",
    base64.b64encode(b"o=99999999999999999999&p=10000-01-01").decode(),
    base64.b64encode(b"p=\xff").decode(),
)


def _queries() -> list[str]:
    out = ["?" + "&".join(f"{name}={quote(value)}" for name in DATE_PARAMS) for value in HOSTILE]
    out += [f"?cursor={quote(cursor)}" for cursor in CURSORS]
    return out


@pytest.mark.django_db
def test_hostile_dates_and_cursors_in_any_query_string_get_no_server_error(targets: Targets, manager: Any) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(manager)
    problems = []
    for _pattern, path in _paths(targets):
        if path.startswith("/admin"):
            continue  # Django's own admin, not ours
        for query in _queries():
            response = client.get(path + query)
            if response.status_code >= 500:
                problems.append(f"GET {path}{query}: {response.status_code}")
            elif response.status_code == 400 and path.startswith("/api/"):
                body = response.json()
                if not isinstance(body.get("error"), dict) or "message" not in body["error"]:
                    problems.append(f"GET {path}{query}: 400 without the error shape: {body}")
    assert not problems, "\n".join(problems)


@pytest.mark.django_db
def test_a_condition_item_dated_before_year_one_in_utc_costs_only_that_item(targets: Targets, manager: Any) -> None:
    from customers.tests.factories import TransformerFactory

    TransformerFactory.create(code="TX-1")
    body = [
        {"transformer": "TX-1", "measured_at": "0001-01-01T00:00:00+14:00", "top_oil_c": 60},
        {"transformer": "TX-1", "measured_at": "9999-12-31T23:59:59-14:00", "top_oil_c": 60},
        {"transformer": "TX-1", "measured_at": "2025-06-01T15:00:00Z", "top_oil_c": 60},
    ]
    client = Client()
    client.force_login(manager)
    response = client.post("/api/v1/transformer-condition/batch", data=body, content_type="application/json")
    assert response.status_code == 200
    data = response.json()
    assert (data["accepted"], data["rejected"]) == (1, 2)
    assert "out of range" in data["rejections"][0]["reason"]


@pytest.mark.django_db
def test_an_out_of_range_day_on_a_page_is_a_400_that_says_why(targets: Targets, manager: Any) -> None:
    client = Client()
    client.force_login(manager)
    response = client.get("/dashboard/", {"start": "9999-12-30", "end": "9999-12-31"})
    assert response.status_code == 400
    assert "less than or equal to 2100-12-31" in response.content.decode()
    export = client.get("/dashboard/hostels.csv", {"end": "0001-01-01"})
    assert export.status_code == 400
    assert "Invalid date range" in export.content.decode()


@pytest.mark.django_db
def test_a_garbage_cursor_is_a_400_in_the_error_shape(targets: Targets, manager: Any) -> None:
    client = Client()
    client.force_login(manager)
    for cursor in (*CURSORS[1:], "abc"):  # "!!!" decodes to nothing: the first page
        response = client.get(f"/api/v1/meters/{targets.campus.meter_a.pk}/readings", {"cursor": cursor})
        assert response.status_code == 400
        assert response.json()["error"]["message"]
