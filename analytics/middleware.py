"""One rule for time on pages: everything a person reads is in the site's local time, and says which zone.

The API stays in UTC, as documented (`/api/`), and so does the health probe; everything else a signed-in
person opens (pages, CSV exports, the admin) renders in the zone of the sites they may see.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from core.roles import Role, role_of
from meters.selectors import zone_for_user

UTC_PATHS = ("/api/", "/health")


class SiteTimeZoneMiddleware:
    """Activates the site's time zone for a signed-in person's pages (after AuthenticationMiddleware)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if request.path.startswith(UTC_PATHS) or user is None or role_of(user) is Role.NONE:
            return self.get_response(request)
        timezone.activate(zone_for_user(user=user))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
