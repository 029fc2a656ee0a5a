"""The site an import names: checked, and created when new (`import_readings`, `import_weather`, the upload page)."""

from __future__ import annotations

import re

from meters.ingest.service import timezone_parse
from meters.models import Site

SITE_CODE = re.compile(r"[-a-zA-Z0-9_]{1,20}")  # Site.code: a slug of at most 20


class SiteImportError(ValueError):
    """An import names a site it cannot use: a code that is not a site code, or another time zone than the site's."""


def site_get_or_create(*, code: str, timezone_name: str = "UTC", latitude: float = 0.0, longitude: float = 0.0) -> Site:
    """The site with this code, created (named after its code) when an import names a new one."""
    site, _ = Site.objects.get_or_create(
        code=code, defaults={"name": code, "timezone": timezone_name, "latitude": latitude, "longitude": longitude}
    )
    return site


def site_import_check(*, code: str, site_timezone: str | None, timestamps_timezone: str | None) -> Site | None:
    """The existing site an import names (None: it would be created); what is wrong is a ValueError saying so
    (`SiteImportError`, or a `FileFormatError` for an unknown zone).

    Checks what `site_for_import` would refuse, without creating anything (the upload page asks before queueing).
    """
    for name in (site_timezone, timestamps_timezone):
        timezone_parse(name)  # an unknown zone is a FileFormatError (a ValueError) naming it
    if not SITE_CODE.fullmatch(code or ""):
        raise SiteImportError(
            f"site code {code[:40]!r} is not usable: "
            "give 1 to 20 letters, digits, hyphens or underscores (e.g. cambridge)"
        )
    site = Site.objects.filter(code=code).first()
    if site is not None and site_timezone is not None and site_timezone != site.timezone:
        raise SiteImportError(
            f"site {code!r} already keeps local time in {site.timezone}, not {site_timezone}; "
            "change the site's time zone in the admin, or leave out the site's time zone"
        )
    return site


def site_for_import(*, code: str, site_timezone: str | None, timestamps_timezone: str | None) -> tuple[Site, bool]:
    """The site an import names, created when new; returns it and whether it was created.

    A new site's local time (its days, opening hours, calendar) is `site_timezone`, else the zone the file's
    timestamps were written in, else UTC. Data kept in UTC for a building elsewhere (the Cambridge archive,
    most exports) needs `site_timezone`, or its days would run from UTC midnight. An existing site keeps its
    zone: naming another one is an error, not a silent change of every local day already stored.
    """
    site = site_import_check(code=code, site_timezone=site_timezone, timestamps_timezone=timestamps_timezone)
    if site is not None:
        return site, False
    zone = site_timezone or timestamps_timezone or "UTC"
    return site_get_or_create(code=code, timezone_name=zone), True
