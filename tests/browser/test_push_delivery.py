"""A push that travels from the server through a local push service to the service worker, which shows it
with no Wattwatch tab open.

It shares the embedded server with the other browser tests and runs in any order with them: its alert has
a dedupe key of its own (issue 26: with the default key, "manual" in Hostel A, it was a silent repeat of the
live-toast test's alert, or that test's alert a repeat of this one's, and neither pushed nor toasted).
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from alerts.tests.test_push import PushService
from tests.browser.test_pages import CHROMIUM, raise_manual_alert, shoot, signed_in_page, wait_until
from tests.browser.test_pages import browser as browser  # the fixture, by name
from tests.conftest import login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason=f"no Chromium at {CHROMIUM} (.ci/run installs it)"),
]


@pytest.fixture
def push_service() -> Iterator[PushService]:
    service = PushService()
    service.thread.start()
    yield service
    service.server.shutdown()
    service.server.server_close()


def test_a_pushed_alert_is_shown_by_the_service_worker_with_no_tab_open(
    browser: Any, embedded_server: str, push_service: PushService
) -> None:
    page = signed_in_page(browser, embedded_server, "warden_a", phone=True)
    context = page.context
    context.grant_permissions(["notifications"], origin=embedded_server)
    page.goto(f"{embedded_server}/alerts/settings/")
    page.evaluate("navigator.serviceWorker.ready.then(() => { window.__swReady = true; })")
    wait_until(page, "window.__swReady === true", timeout=15000)
    subscription = push_service.subscription(f"browser-{int(time.time())}")
    # The device's subscription, as the page's script posts it after pushManager.subscribe() (which needs a
    # real push service): this one names the test's local push service.
    status = page.evaluate(
        """async (subscription) => {
            const csrf = document.querySelector("input[name=csrfmiddlewaretoken]").value;
            const response = await fetch("/alerts/settings/push-subscriptions", {
                method: "POST", credentials: "same-origin",
                headers: {"Content-Type": "application/json", "X-CSRFToken": csrf},
                body: JSON.stringify(subscription)});
            return response.status;
        }""",
        subscription,
    )
    assert status == 201
    try:
        _push_reaches_the_service_worker(context, page, embedded_server, push_service)
    finally:  # the shared server pushes no more to this test's push service, which is about to close
        warden = login(embedded_server, "warden_a")
        warden.post(
            f"{embedded_server}/alerts/settings/push-subscriptions/remove",
            json={"endpoint": subscription["endpoint"]},
            headers={"X-CSRFToken": warden.cookies["csrftoken"], "Referer": f"{embedded_server}/alerts/settings/"},
            timeout=10,
        ).raise_for_status()
        context.close()


def _push_reaches_the_service_worker(context: Any, page: Any, embedded_server: str, push_service: PushService) -> None:
    page.reload()
    expect(page.get_by_text("receives push notifications")).to_be_visible()
    shoot(page, "warden_a-notification-settings-device-phone")

    # A tab elsewhere keeps the browser (and the DevTools session that plays the push service's part) alive.
    elsewhere = context.new_page()
    devtools = context.new_cdp_session(elsewhere)
    registrations: list[dict[str, Any]] = []
    devtools.on("ServiceWorker.workerRegistrationUpdated", lambda event: registrations.extend(event["registrations"]))
    devtools.send("ServiceWorker.enable")
    page.close()  # no Wattwatch tab is open any more

    title = f"Browser push: fuse tripped {int(time.time())}"
    admin = login(embedded_server, "admin")
    hostels = admin.get(f"{embedded_server}/api/v1/hostels", timeout=10).json()["results"]
    hostel = next(h for h in hostels if h["code"] == "A")
    raised = raise_manual_alert(embedded_server, title, hostel_id=hostel["id"])
    deadline = time.monotonic() + 60
    while not any(title in m["payload"]["title"] for m in push_service.received) and time.monotonic() < deadline:
        time.sleep(0.2)
    mine = [m for m in push_service.received if title in m["payload"]["title"]]
    assert mine, f"alert #{raised['id']} was raised but its push did not arrive within 60 s: {push_service.received}"
    message = mine[0]
    assert message["headers"]["content-encoding"] == "aes128gcm"
    assert message["payload"]["url"].startswith("/alerts/")

    # DevTools events reach the listener only while Playwright runs (time.sleep above does not): wait in
    # Playwright for the registration event, which may still be queued on a busy machine.
    def ours() -> list[dict[str, Any]]:
        return [r for r in registrations if r["scopeURL"] == f"{embedded_server}/" and not r["isDeleted"]]

    deadline = time.monotonic() + 20
    while not ours() and time.monotonic() < deadline:
        elsewhere.wait_for_timeout(200)
    assert ours(), f"DevTools reported no service worker registration for {embedded_server}/: {registrations}"
    (registration,) = ours()[:1]
    devtools.send(
        "ServiceWorker.deliverPushMessage",
        {
            "origin": embedded_server,
            "registrationId": registration["registrationId"],
            "data": json.dumps(message["payload"]),
        },
    )
    check = context.new_page()
    check.goto(f"{embedded_server}/alerts/")
    expression = (
        "navigator.serviceWorker.ready.then(r => r.getNotifications())"
        ".then(list => { window.__shown = list.map(n => [n.title, n.body, n.data.url]); })"
    )
    deadline = time.monotonic() + 15
    shown: list[list[str]] = []
    while time.monotonic() < deadline and not shown:
        check.evaluate(expression)
        shown = [n for n in check.evaluate("window.__shown || []") if title in n[0]]
        time.sleep(0.2)
    assert shown, "the service worker showed no notification"
    assert shown[0][0] == f"Medium: {title}"
    assert shown[0][1].startswith("Hostel A")
    assert shown[0][2] == message["payload"]["url"]
    check.goto(f"{embedded_server}{message['payload']['url']}")
    expect(check.get_by_role("heading", name=title)).to_be_visible()
    shoot(check, "warden_a-pushed-alert-opened-phone")
