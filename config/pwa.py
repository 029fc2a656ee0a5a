"""The web app manifest and the service worker, served from the site's root so the worker's scope is the
whole product (a worker under /static/ could only control /static/)."""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.templatetags.static import static
from django.views.decorators.http import require_GET


def _read_service_worker() -> bytes:
    path = finders.find("wattwatch/sw.js")
    if not path:
        raise FileNotFoundError("static/wattwatch/sw.js is missing")
    with open(str(path), "rb") as handle:
        return handle.read()


_service_worker_source = cache(_read_service_worker)


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    # Read again on each request while developing (an edit shows at once), once per process otherwise.
    source = _read_service_worker() if settings.DEBUG else _service_worker_source()
    response = HttpResponse(source, content_type="text/javascript")
    # Browsers re-check a worker at most daily anyway; never let a cache keep an old one longer.
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = "/"
    return response


@require_GET
def manifest(request: HttpRequest) -> JsonResponse:
    """What a phone needs to install Wattwatch on its home screen."""
    data = {
        "name": "Wattwatch",
        "short_name": "Wattwatch",
        "description": "Electricity of student hostels: alerts, rooms and use, on your phone.",
        "id": "/",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#111418",
        "theme_color": "#111418",
        "icons": [
            {"src": static("wattwatch/icon-192.png"), "sizes": "192x192", "type": "image/png", "purpose": "any"},
            {"src": static("wattwatch/icon-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "any"},
        ],
        "shortcuts": [{"name": "Alerts", "url": "/alerts/"}, {"name": "Notifications", "url": "/alerts/settings/"}],
    }
    response = JsonResponse(data, content_type="application/manifest+json")
    response["Cache-Control"] = "no-cache"
    return response
