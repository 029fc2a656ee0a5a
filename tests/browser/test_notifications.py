"""The notification settings page at desktop and phone width (the push itself: test_push_delivery.py)."""

from __future__ import annotations

import shutil
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.test_pages import CHROMIUM, shoot, signed_in_page, wait_until
from tests.browser.test_pages import browser as browser  # the fixture, by name

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason=f"no Chromium at {CHROMIUM} (.ci/run installs it)"),
]


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_a_warden_chooses_what_reaches_them_on_their_settings_page(
    browser: Any, embedded_server: str, phone: bool
) -> None:
    page = signed_in_page(browser, embedded_server, "warden_b", phone=phone)
    if phone:
        page.goto(f"{embedded_server}/alerts/settings/")
    else:
        page.set_viewport_size({"width": 1440, "height": 900})
        page.get_by_role("link", name="Notifications").click()
    expect(page.get_by_role("heading", name="Notifications")).to_be_visible()
    hostels = page.get_by_role("group", name="Hostels")
    assert hostels.get_by_role("checkbox").count() == 1  # only their own hostel is offered
    assert hostels.get_by_label("Hostel B").count() == 1
    page.get_by_label("Hostel B").check()
    page.get_by_label("Abnormal consumption").check()
    page.get_by_label("Meter stopped reporting").check()
    page.get_by_label("At least this severe").select_option("medium")
    page.get_by_label("Quiet from").fill("22:00")
    page.get_by_label("Quiet until").fill("07:00")
    page.get_by_label("One daily summary instead of a message per alert").uncheck()
    page.get_by_label("My time zone").select_option("Europe/London")
    shoot(page, f"warden_b-notification-settings-{'phone' if phone else 'desktop'}")
    if phone:
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the settings page is {width}px wide on a 390px phone"
    page.get_by_role("button", name="Save notification settings").click()
    page.wait_for_load_state()
    expect(page.get_by_text("Your notification settings were saved.")).to_be_visible()
    assert page.get_by_label("Abnormal consumption").is_checked()
    assert page.get_by_label("Quiet from").input_value() == "22:00"
    assert page.get_by_label("At least this severe").input_value() == "medium"
    # The browser cannot reach a real push service here: the page says what it can, and nothing is blocked.
    wait_until(page, "!document.querySelector('[data-push-status]').textContent.startsWith('Checking')")
    shoot(page, f"warden_b-notification-settings-saved-{'phone' if phone else 'desktop'}")
    page.context.close()
