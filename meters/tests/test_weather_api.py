"""The Open-Meteo archive adapter, against a local HTTP server (never the internet)."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from meters.ingest.weather import WeatherSourceError, weather_fetch_open_meteo
from meters.models import Weather
from meters.tests.factories import SiteFactory

PAYLOAD: dict[str, object] = {
    "hourly": {
        "time": ["2025-03-01T00:00", "2025-03-01T01:00"],
        "temperature_2m": [4.5, 4.1],
        "relative_humidity_2m": [90, 91],
        "precipitation": [0.0, 0.3],
        "wind_speed_10m": [11.0, 9.5],
        "surface_pressure": [1010.2, 1010.0],
        "shortwave_radiation": [0, 0],
    }
}


class Handler(BaseHTTPRequestHandler):
    paths: list[str] = []

    def do_GET(self) -> None:
        Handler.paths.append(self.path)
        answer: object = PAYLOAD if "latitude" in self.path else {"error": True}
        body = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def open_meteo(settings: Any) -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.OPEN_METEO_BASE_URL = f"http://127.0.0.1:{server.server_port}/v1/archive"
    yield settings.OPEN_METEO_BASE_URL
    server.shutdown()


@pytest.mark.django_db
def test_open_meteo_archive_rows_are_stored_for_the_site(open_meteo: str) -> None:
    site = SiteFactory.create()
    result = weather_fetch_open_meteo(site=site, start=dt.date(2025, 3, 1), end=dt.date(2025, 3, 1))
    assert result.stored == 2
    row = Weather.objects.get(site=site, timestamp=dt.datetime(2025, 3, 1, 1, tzinfo=dt.UTC))
    assert (row.temperature_c, row.rainfall_mm, row.pressure_hpa) == (4.1, 0.3, 1010.0)
    assert "start_date=2025-03-01" in Handler.paths[-1]
    weather_fetch_open_meteo(site=site, start=dt.date(2025, 3, 1), end=dt.date(2025, 3, 1))
    assert Weather.objects.filter(site=site).count() == 2


@pytest.mark.django_db
def test_open_meteo_failure_is_a_clear_error(settings: Any) -> None:
    settings.OPEN_METEO_BASE_URL = "http://127.0.0.1:9/nothing-listens-here"
    with pytest.raises(WeatherSourceError, match="Open-Meteo request failed"):
        weather_fetch_open_meteo(site=SiteFactory.create(), start=dt.date(2025, 3, 1), end=dt.date(2025, 3, 1))
