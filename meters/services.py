"""Writes to the estate and its readings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Avg, Count, Max, Min, Q, Sum
from django.db.models.functions import TruncDate, TruncHour

from meters.models import DailyRollup, HourlyRollup, Meter, Quality, Reading


@transaction.atomic
def rollups_rebuild(*, meter_ids: Iterable[int], start: dt.datetime, end: dt.datetime) -> int:
    """Recompute hourly and daily rollups of these meters for [start, end), whole days in local time."""
    count = 0
    meters = Meter.objects.filter(id__in=list(meter_ids)).select_related("hostel__site")
    for meter in meters:
        tz = ZoneInfo(meter.hostel.site.timezone) if meter.hostel else dt.UTC
        hours_kw = 60.0 / meter.interval_minutes
        readings = Reading.objects.filter(meter=meter, timestamp__gte=start, timestamp__lt=end)
        hourly = (
            readings.annotate(bucket=TruncHour("timestamp", tzinfo=dt.UTC))
            .values("bucket")
            .annotate(
                total=Sum("kwh"),
                n=Count("id"),
                est=Count("id", filter=Q(quality=Quality.ESTIMATED)),
                peak=Max("kwh"),
                v_avg=Avg("voltage"),
                v_min=Min("voltage"),
                v_max=Max("voltage"),
                pf=Avg("power_factor"),
            )
        )
        HourlyRollup.objects.filter(meter=meter, hour__gte=start, hour__lt=end).delete()
        HourlyRollup.objects.bulk_create(
            HourlyRollup(
                meter=meter,
                hour=row["bucket"],
                kwh=row["total"],
                readings=row["n"],
                estimated=row["est"],
                peak_kw=row["peak"] * hours_kw if row["peak"] is not None else None,
                voltage_avg=row["v_avg"],
                voltage_min=row["v_min"],
                voltage_max=row["v_max"],
                power_factor_avg=row["pf"],
            )
            for row in hourly
        )
        daily = (
            readings.annotate(day=TruncDate("timestamp", tzinfo=tz))
            .values("day")
            .annotate(
                total=Sum("kwh"), n=Count("id"), est=Count("id", filter=Q(quality=Quality.ESTIMATED)), peak=Max("kwh")
            )
        )
        days = list(daily)
        DailyRollup.objects.filter(meter=meter, day__in=[row["day"] for row in days]).delete()
        DailyRollup.objects.bulk_create(
            DailyRollup(
                meter=meter,
                day=row["day"],
                kwh=row["total"],
                readings=row["n"],
                estimated=row["est"],
                peak_kw=row["peak"] * hours_kw if row["peak"] is not None else None,
            )
            for row in days
        )
        last = Reading.objects.filter(meter=meter).aggregate(last=Max("timestamp"))["last"]
        Meter.objects.filter(pk=meter.pk).update(last_reading_at=last)
        count += 1
    return count


DEMO_PASSWORD = "wattwatch-demo"  # noqa: S105 - public demo logins, refused unless DEBUG


def demo_users_ensure() -> list[str]:
    """Demo logins admin, manager, warden_a (first hostel) and warden_b (second hostel); DEBUG only."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from customers.roles import MANAGER_GROUP, WARDEN_GROUP
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
