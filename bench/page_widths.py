"""Page widths on a phone, per role, and screenshots at phone and desktop width, against a running server.

    .venv/bin/python bench/page_widths.py --url http://127.0.0.1:8000 [--shots DIR] [--json]

Signs in as each demo persona (`make run` creates them), opens every page the role may see at 390 px and
1440 px wide in Debian's headless Chromium and prints `document.documentElement.scrollWidth`: a page wider
than its 390 px viewport scrolls sideways on a phone. With --shots, a full-page screenshot of each page at
both widths is written there as <role>-<page>-<width>.png.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ROLES = ("warden_a", "manager", "admin")
WIDTHS = (390, 1440)


def _pages(page: Any, base: str, role: str) -> dict[str, str]:
    """The pages this role may open: fixed ones, and the first hostel, room and alert its pages link to."""
    pages = {"home": "/", "dashboard": "/dashboard/", "inbox": "/alerts/?status=all"}
    page.goto(f"{base}/")
    html = page.content()
    hostel = re.search(r'href="(/hostels/\d+/)"', html)
    if hostel:
        pages["hostel"] = hostel.group(1)
        page.goto(f"{base}{hostel.group(1)}")
        room = re.search(r'href="(/rooms/\d+/)"', page.content())
        if room:
            pages["room"] = room.group(1)
    page.goto(f"{base}/alerts/?status=all")
    alert = re.search(r'href="(/alerts/\d+/)"', page.content())
    if alert:
        pages["alert"] = alert.group(1)
    if role in ("manager", "admin"):
        pages["upload"] = "/meters/upload/"
    if role == "admin":
        pages["system"] = "/system/"
    pages["api-docs"] = "/api/docs/"
    return pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--password", default="wattwatch-demo")
    parser.add_argument("--shots", type=Path, default=None, help="directory for screenshots")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    base = args.url.rstrip("/")
    results: dict[str, dict[str, dict[int, int]]] = {}
    if args.shots:
        args.shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        for role in ROLES:
            for width in WIDTHS:
                context = browser.new_context(viewport={"width": width, "height": 844 if width < 600 else 900})
                page = context.new_page()
                page.goto(f"{base}/accounts/login/")
                page.get_by_label("Username").fill(role)
                page.get_by_label("Password").fill(args.password)
                page.get_by_role("button", name="Sign in").click()
                page.wait_for_url(f"{base}/")
                for name, path in _pages(page, base, role).items():
                    page.goto(f"{base}{path}")
                    page.wait_for_load_state("networkidle")
                    page.wait_for_timeout(300)  # Plotly lays out after load
                    scroll = int(page.evaluate("document.documentElement.scrollWidth"))
                    results.setdefault(role, {}).setdefault(name, {})[width] = scroll
                    if args.shots:
                        page.screenshot(path=str(args.shots / f"{role}-{name}-{width}.png"), full_page=True)
                    print(f"{role:9} {name:10} {width:5} px viewport: {scroll} px wide", file=sys.stderr)
                context.close()
        browser.close()
    if args.json:
        print(json.dumps(results))
    else:
        for role, pages in results.items():
            for name, widths in pages.items():
                flag = "  SCROLLS SIDEWAYS" if widths.get(390, 0) > 390 else ""
                print(f"{role:9} {name:10} at 390: {widths.get(390)} px, at 1440: {widths.get(1440)} px{flag}")


if __name__ == "__main__":
    main()
