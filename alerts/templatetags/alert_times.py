"""Alert times as people read them: the site's local time, with the weekday, the year and the zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django import template
from django.conf import settings

from alerts.models import Alert

register = template.Library()
DASH = "\u2013"  # an en dash between the two ends of a span


def alert_zone(alert: Alert) -> ZoneInfo:
    """The time zone of the alert's site; the project's own for alerts with no hostel (transformers, campus)."""
    hostel = alert.hostel if alert.hostel_id else None
    return hostel.site.tz if hostel is not None else ZoneInfo(settings.TIME_ZONE)


def local_text(value: dt.datetime, zone: ZoneInfo) -> str:
    """ "Tue 2 Dec 2026 14:15 GMT"."""
    local = value.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %Y %H:%M %Z}"


def span_text(start: dt.datetime, end: dt.datetime | None, zone: ZoneInfo) -> str:
    """ "Tue 2 Dec 2026 14:15 - 18:30 GMT" (an en dash) on one day; both dates (and zones, across DST) otherwise."""
    a = start.astimezone(zone)
    if end is None:
        return f"{local_text(start, zone)} {DASH} still going"
    b = end.astimezone(zone)
    if a.date() == b.date() and a.tzname() == b.tzname():
        return f"{a:%a} {a.day} {a:%b %Y %H:%M} {DASH} {b:%H:%M %Z}"
    if a.tzname() == b.tzname():
        return f"{a:%a} {a.day} {a:%b %Y %H:%M} {DASH} {b:%a} {b.day} {b:%b %Y %H:%M %Z}"
    return f"{local_text(start, zone)} {DASH} {local_text(end, zone)}"


def duration_text(delta: dt.timedelta) -> str:
    """ "2 h 15 min", "3 d 4 h", "45 min"."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"


@register.filter
def local_to(value: dt.datetime | None, alert: Alert) -> str:
    """{{ alert.last_seen_at|local_to:alert }}"""
    return local_text(value, alert_zone(alert)) if value is not None else ""
