"""Toasts arriving together collapse: live.js in Debian's headless Chromium, fed by a scripted socket.

No server: the page and live.js are served by Playwright routes, and the socket is Playwright's, so
the test exercises only the client's grouping (the socket path itself is covered in test_pages).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ORIGIN = "http://wattwatch.test"
PAGE = """<!doctype html><html><body>
<span id="live-status"></span>
<div id="toasts" class="toasts" data-inbox="/alerts/"></div>
<script src="/static/wattwatch/live.js"></script>
</body></html>"""

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason=f"no Chromium at {CHROMIUM} (.ci/run installs it)"),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield instance
        instance.close()


def raised(n: int, hostel_id: int, hostel: str) -> str:
    return json.dumps(
        {
            "type": "alert.raised",
            "id": n,
            "event_id": 100 + n,
            "action": "raised",
            "hostel_id": hostel_id,
            "hostel": hostel,
            "title": f"Alert {n}",
            "severity": "high",
            "status": "open",
            "previous_status": None,
            "at": "2026-12-06T02:00:00+00:00",
            "url": f"/alerts/{n}/",
        }
    )


def page_with_socket(browser: Any) -> tuple[Any, list[Any]]:
    page = browser.new_page()
    sockets: list[Any] = []
    script = (ROOT / "static" / "wattwatch" / "live.js").read_text()
    page.route(f"{ORIGIN}/", lambda route: route.fulfill(body=PAGE, content_type="text/html; charset=utf-8"))
    page.route(
        f"{ORIGIN}/static/wattwatch/live.js",
        lambda route: route.fulfill(body=script, content_type="text/javascript; charset=utf-8"),
    )
    page.route_web_socket("ws://wattwatch.test/ws/alerts/", lambda socket: sockets.append(socket))
    page.goto(f"{ORIGIN}/")
    page.wait_for_function("document.getElementById('live-status').textContent === 'live'")
    return page, sockets


def test_three_alerts_of_one_hostel_arriving_together_show_as_one_toast_linking_to_its_inbox(browser: Any) -> None:
    page, sockets = page_with_socket(browser)
    for n in (1, 2, 3):
        sockets[0].send(raised(n, 7, "Hostel A"))
    sockets[0].send(raised(4, 8, "Hostel B"))
    page.wait_for_function("document.querySelectorAll('.toast').length === 2")
    toasts = page.locator(".toast")
    assert toasts.nth(0).inner_text() == "3 new alerts in Hostel A"
    assert toasts.nth(0).get_attribute("href") == "/alerts/?hostel=7"
    assert toasts.nth(1).inner_text() == "HIGH: Alert 4 · Hostel B"
    assert toasts.nth(1).get_attribute("href") == "/alerts/4/"
    page.close()


def test_an_alert_arriving_after_the_window_gets_its_own_toast(browser: Any) -> None:
    page, sockets = page_with_socket(browser)
    sockets[0].send(raised(1, 7, "Hostel A"))
    page.wait_for_function("document.querySelectorAll('.toast').length === 1")
    page.wait_for_timeout(2300)
    sockets[0].send(raised(2, 7, "Hostel A"))
    page.wait_for_function("document.querySelectorAll('.toast').length === 2")
    assert page.locator(".toast").all_inner_texts() == ["HIGH: Alert 1 · Hostel A", "HIGH: Alert 2 · Hostel A"]
    page.close()
