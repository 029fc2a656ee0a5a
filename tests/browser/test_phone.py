"""A warden lives on a phone: every role's pages fit 390 px without sideways scrolling, an alert's actions are
on screen and work with a tap, and the hostel's rooms are a grid to tap (Debian's Chromium via Playwright)."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.test_pages import (  # noqa: F401  (fixtures: the browser, and the CSP check on every test)
    _nothing_blocked_by_the_content_security_policy,
    browser,
    shoot,
    signed_in_page,
    wait_until,
)
from tests.conftest import login

pytestmark = [pytest.mark.browser]
PHONE = 390


def _raise_alert(base: str, title: str) -> int:
    """A manual alert in Hostel A (room A-107 of the demo), raised as the administrator; its id."""
    admin = login(base, "admin")
    hostel = next(h for h in admin.get(f"{base}/api/v1/hostels", timeout=10).json()["results"] if h["code"] == "A")
    response = admin.post(
        f"{base}/api/v1/alerts",
        json={"kind": "manual", "title": title, "hostel": hostel["id"], "dedupe_key": title},
        headers={"X-CSRFToken": admin.cookies["csrftoken"], "Referer": f"{base}/alerts/"},
        timeout=10,
    )
    assert response.status_code == 202, response.text
    deadline = time.monotonic() + 60  # raised by the in-process worker
    while time.monotonic() < deadline:
        found = admin.get(f"{base}/api/v1/alerts", params={"status": "open"}, timeout=10).json()["results"]
        for alert in found:
            if alert["title"] == title:
                return int(alert["id"])
        time.sleep(0.5)
    raise AssertionError(f"alert {title!r} was never raised")


def _fits(page: Any, name: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE, f"{name} is {width}px wide on a {PHONE}px phone"


def _links(page: Any, pattern: str) -> list[str]:
    return re.findall(pattern, page.content())


@pytest.mark.parametrize("role", ["warden_a", "manager", "admin"])
def test_every_page_of_each_role_fits_a_phone(browser: Any, embedded_server: str, role: str) -> None:  # noqa: F811
    title = f"Phone width check for {role} {int(time.time())}"
    alert_id = _raise_alert(embedded_server, title)
    page = signed_in_page(browser, embedded_server, role, phone=True)
    _fits(page, "home")
    expect(page.get_by_role("heading", name="Open alerts")).to_be_visible()
    shoot(page, f"{role}-home-phone")
    hostel = _links(page, r'href="(/hostels/\d+/)"')[0]
    pages = {"dashboard": "/dashboard/", "inbox": "/alerts/", "alert": f"/alerts/{alert_id}/", "hostel": hostel}
    pages |= {"insights": "/insights/", "savings": "/interventions/", "settings": "/alerts/settings/"}
    if role != "warden_a":
        pages["upload"] = "/meters/upload/"
        pages["new-intervention"] = "/interventions/new/"
    if role == "admin":
        pages["system"] = "/system/"
    for name, path in pages.items():
        page.goto(f"{embedded_server}{path}")
        page.wait_for_load_state("networkidle")
        _fits(page, name)
        shoot(page, f"{role}-{name}-phone")
    page.goto(f"{embedded_server}{hostel}")
    site = _links(page, r'href="(/sites/\d+/)"')[0]
    room = _links(page, r'href="(/rooms/\d+/)"')[0]
    page.goto(f"{embedded_server}{site}")
    page.wait_for_load_state("networkidle")
    _fits(page, "site")
    page.goto(f"{embedded_server}{hostel}")
    page.goto(f"{embedded_server}{room}")
    wait_until(page, "document.querySelectorAll('.js-plotly-plot').length >= 1")
    _fits(page, "room")
    expect(page.get_by_role("heading", name="Latest readings")).to_be_visible()
    shoot(page, f"{role}-room-phone")
    page.context.close()


def test_warden_acknowledges_an_alert_with_a_thumb_on_a_phone(browser: Any, embedded_server: str) -> None:  # noqa: F811
    title = f"Heater left on in A-107 {int(time.time())}"
    alert_id = _raise_alert(embedded_server, title)
    page = signed_in_page(browser, embedded_server, "warden_a", phone=True)
    page.goto(f"{embedded_server}/alerts/")
    button = page.get_by_role("button", name=f"Acknowledge alert {alert_id}")
    box = button.bounding_box()
    assert box is not None
    assert box["x"] >= 0, f"Acknowledge is off screen: {box}"
    assert box["x"] + box["width"] <= PHONE, f"Acknowledge is off screen: {box}"
    assert box["height"] >= 44, f"Acknowledge is too small for a thumb: {box}"
    _fits(page, "inbox")
    shoot(page, "warden_a-inbox-phone-before-acknowledge")
    button.click()
    page.wait_for_load_state()
    expect(page.get_by_text(f"Alert #{alert_id} acknowledged.")).to_be_visible()
    shoot(page, "warden_a-inbox-phone-acknowledged")
    # The alert's own page: its remaining actions are on screen too.
    page.goto(f"{embedded_server}/alerts/{alert_id}/")
    resolve = page.get_by_role("button", name=f"Resolve alert {alert_id}")
    box = resolve.bounding_box()
    assert box is not None
    assert box["x"] + box["width"] <= PHONE
    resolve.click()
    page.wait_for_load_state()
    expect(page.get_by_text(f"Alert #{alert_id} resolved.")).to_be_visible()
    _fits(page, "alert")
    shoot(page, "warden_a-alert-phone-resolved")
    page.context.close()


def test_on_a_phone_the_hostels_rooms_are_a_grid_to_tap(browser: Any, embedded_server: str) -> None:  # noqa: F811
    page = signed_in_page(browser, embedded_server, "warden_a", phone=True)
    page.get_by_role("link", name="Hostel A").first.click()
    page.wait_for_load_state()
    grid = page.locator(".room-grid")
    expect(grid).to_be_visible()
    expect(page.locator(".chart.heatmap")).not_to_be_visible()  # the Plotly map is for wider screens
    cells = grid.locator("a.cell")
    assert cells.count() >= 10
    box = cells.first.bounding_box()
    assert box is not None
    assert box["height"] >= 44
    shoot(page, "warden_a-hostel-phone-grid")
    cells.first.click()
    page.wait_for_load_state()
    assert re.search(r"/(rooms|alerts)/\d+/$", page.url), page.url
    page.context.close()


def test_a_manager_uploads_a_file_on_a_phone_and_its_page_reloads_until_the_import_is_done(
    browser: Any,  # noqa: F811
    embedded_server: str,
) -> None:
    page = signed_in_page(browser, embedded_server, "manager", phone=True)
    page.goto(f"{embedded_server}/meters/upload/")
    body = b"meter,timestamp,kwh\nNO-SUCH-METER-PHONE,2025-02-01T00:00:00Z,0.1\n"
    page.set_input_files("#file", files=[{"name": "phone.csv", "mimeType": "text/csv", "buffer": body}])
    page.get_by_role("button", name="Preview").click()
    page.get_by_role("button", name="Import this file").click()
    page.wait_for_url(re.compile(r".*/meters/upload/[0-9a-f-]{36}/$"))
    # Queued, then importing, then done: the page reloads itself (no script) until the report is there.
    # (The imports lane may be between steps of the first run's history scan: a minute or more when loaded.)
    page.locator('[data-upload-status="done"]').wait_for(timeout=180_000)
    expect(page.get_by_role("heading", name="Report for phone.csv")).to_be_visible()
    expect(page.get_by_role("cell", name="unknown meter 'NO-SUCH-METER-PHONE'")).to_be_visible()
    _fits(page, "upload-status")
    shoot(page, "manager-upload-done-phone")
    page.context.close()
