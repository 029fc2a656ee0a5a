"""Writes to the estate and its readings.

Readings, weather, occupancy and transformer condition come in through ingestion (`meters.ingest`:
parse, validate, upsert, rollups, quarantine); its entry points are re-exported here, so every
write of this app is entered from `meters.services`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

from django.db import transaction
from django.db.models import Max

from meters.ingest import quarantine_reprocess, readings_ingest, readings_ingest_file
from meters.ingest.condition import conditions_ingest
from meters.ingest.occupancy import occupancy_import_file
from meters.ingest.sites import SiteImportError, site_for_import, site_get_or_create, site_import_check
from meters.ingest.weather import weather_fetch_open_meteo, weather_import_file
from meters.models import AcademicPeriod, GatewayToken, Meter, Occupancy, Reading, Room, Site

__all__ = [
    "SiteImportError",
    "calendar_closure_add",
    "conditions_ingest",
    "demo_users_ensure",
    "gateway_token_create",
    "gateway_token_rotate",
    "occupancy_import_file",
    "occupancy_record",
    "quarantine_reprocess",
    "readings_ingest",
    "readings_ingest_file",
    "rollups_rebuild",
    "site_for_import",
    "site_get_or_create",
    "site_import_check",
    "uploads_clean_stale",
    "weather_fetch_open_meteo",
    "weather_import_file",
]


@transaction.atomic
def rollups_rebuild(*, meter_ids: Iterable[int], start: dt.datetime, end: dt.datetime) -> int:
    """Recompute hourly and daily rollups of these meters for [start, end) and their last reading time.

    Incremental: only the hours in the span and the whole local days around it are rewritten.
    """
    from meters.ingest import MeterRange, rollups_update

    ids = list(meter_ids)
    last_instant = end - dt.timedelta(seconds=1)
    rollups_update(ranges={meter_id: MeterRange(start, last_instant) for meter_id in ids})
    for meter_id in ids:
        last = Reading.objects.filter(meter_id=meter_id).aggregate(last=Max("timestamp"))["last"]
        Meter.objects.filter(pk=meter_id).update(last_reading_at=last)
    return len(ids)


@transaction.atomic
def calendar_closure_add(*, site: Site, first: dt.date, last: dt.date, name: str = "Closure") -> AcademicPeriod:
    """Mark [first, last] closed in the site's calendar (a holiday); the days found already closed are kept.

    Idempotent: when holidays of the site already cover every day, the covering one is returned.
    """
    if last < first:
        raise ValueError("The last day cannot be before the first day.")
    covering = (
        AcademicPeriod.objects.select_for_update()
        .filter(site=site, kind=AcademicPeriod.Kind.HOLIDAY, start__lte=first, end__gte=last)
        .first()
    )
    if covering is not None:
        return covering
    return AcademicPeriod.objects.create(
        site=site, kind=AcademicPeriod.Kind.HOLIDAY, name=name[:80], start=first, end=last
    )


DEMO_PASSWORD = "wattwatch-demo"  # noqa: S105 - public demo logins, refused unless DEBUG


def demo_users_ensure() -> list[str]:
    """Demo logins admin, manager, warden_a (first hostel) and warden_b (second hostel); DEBUG only."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from core.roles import MANAGER_GROUP, WARDEN_GROUP
    from meters.models import Hostel

    if not settings.DEBUG:
        raise PermissionError("Demo logins have a public password; they are created only with DEBUG=1.")
    users = get_user_model()
    managers, _ = Group.objects.get_or_create(name=MANAGER_GROUP)
    wardens, _ = Group.objects.get_or_create(name=WARDEN_GROUP)
    admin, _ = users.objects.get_or_create(username="admin", defaults={"email": "admin@example.org"})
    admin.is_staff = admin.is_superuser = True
    admin.set_password(DEMO_PASSWORD)
    admin.save()
    manager, _ = users.objects.get_or_create(
        username="manager", defaults={"first_name": "Facility", "last_name": "Manager"}
    )
    manager.set_password(DEMO_PASSWORD)
    manager.save()
    manager.groups.add(managers)
    created = ["admin", "manager"]
    hostels = list(Hostel.objects.order_by("site_id", "code")[:2])
    for username, hostel in zip(("warden_a", "warden_b"), hostels, strict=False):
        warden, _ = users.objects.get_or_create(username=username)
        warden.set_password(DEMO_PASSWORD)
        warden.save()
        warden.groups.add(wardens)
        hostel.wardens.add(warden)
        created.append(f"{username} ({hostel.name})")
    return created


def gateway_token_create(
    *,
    name: str,
    meter_ids: Iterable[int] = (),
    hostel_id: int | None = None,
    expires_at: dt.datetime | None = None,
) -> tuple[GatewayToken, str]:
    """A new gateway key; returns the token and the key, which is shown once and never stored."""
    from meters.authentication import key_generate, key_hash

    key = key_generate()
    token = GatewayToken.objects.create(
        name=name, key_prefix=key[:8], key_hash=key_hash(key), hostel_id=hostel_id, expires_at=expires_at
    )
    token.meters.set(list(meter_ids))
    return token, key


def gateway_token_rotate(*, token: GatewayToken) -> str:
    """Replace a gateway's key; the old one stops working at once."""
    from meters.authentication import key_generate, key_hash

    key = key_generate()
    token.key_prefix, token.key_hash = key[:8], key_hash(key)
    token.save(update_fields=["key_prefix", "key_hash"])
    return key


def occupancy_record(
    *, room: Room, start: dt.datetime, end: dt.datetime | None, occupants: int, source: str = "manual"
) -> Occupancy:
    """Record who lives in a room from `start`; an open period of the room is closed at `start`.

    Raises django ValidationError (per field) when the period or the head count is impossible.
    """
    period = Occupancy(room=room, start=start, end=end, occupants=occupants, source=source)
    period.full_clean()
    with transaction.atomic():
        Occupancy.objects.filter(room=room, start__lt=start, end__isnull=True).update(end=start)
        period.save()
    return period


def uploads_clean_stale(*, now: float | None = None) -> int:
    """Remove staged uploads (previewed and abandoned, or failed) older than UPLOAD_STAGED_HOURS.

    A confirmed upload's file goes when its import is done; one still queued or importing is kept.
    """
    import time

    from django.conf import settings

    from meters.uploads import uploads_in_use

    folder = Path(settings.DATA_DIR) / "uploads"
    if not folder.is_dir():
        return 0
    queued = uploads_in_use()
    cutoff = (now if now is not None else time.time()) - settings.UPLOAD_STAGED_HOURS * 3600
    removed = 0
    for path in folder.iterdir():
        try:
            if path.is_file() and path.stat().st_mtime < cutoff and path.name not in queued:
                path.unlink()
                removed += 1
        except FileNotFoundError:  # the page confirmed it meanwhile
            continue
    return removed
