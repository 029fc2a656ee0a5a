"""Load a small demo campus and the demo logins, for development only."""

from __future__ import annotations

import datetime as dt
import math
import random
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone
from tqdm import tqdm

from customers.models import Customer, Tariff, Transformer, TransformerEvent
from customers.roles import MANAGER_GROUP, WARDEN_GROUP
from meters.models import AcademicPeriod, Hostel, Meter, Occupancy, Reading, Room, Site, Weather
from meters.services import rollups_rebuild

DEMO_PASSWORD = "wattwatch-demo"  # noqa: S105 - public demo logins, refused unless DEBUG


class Command(BaseCommand):
    help = "Create demo users (admin, manager, warden_a, warden_b) and, if the database is empty, a small demo campus."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--if-empty", action="store_true", help="Skip the campus when hostels already exist.")
        parser.add_argument("--days", type=int, default=14, help="Days of readings up to now (default 14).")
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("seed_demo creates demo logins with a public password; it runs only with DEBUG=1.")
        if options["days"] < 1 or options["days"] > 400:
            raise CommandError("--days must be between 1 and 400.")
        if not (options["if_empty"] and Hostel.objects.exists()):
            self._campus(days=options["days"], rng=random.Random(options["seed"]))
        self._users()
        self.stdout.write(
            self.style.SUCCESS(
                "Demo logins (password wattwatch-demo): admin, manager, warden_a (Hostel A), warden_b (Hostel B)"
            )
        )

    def _users(self) -> None:
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
        hostels = list(Hostel.objects.order_by("site_id", "code")[:2])
        for username, hostel in zip(("warden_a", "warden_b"), hostels, strict=False):
            warden, _ = users.objects.get_or_create(username=username)
            warden.set_password(DEMO_PASSWORD)
            warden.save()
            warden.groups.add(wardens)
            hostel.wardens.add(warden)

    @transaction.atomic
    def _campus(self, *, days: int, rng: random.Random) -> None:
        now = timezone.now().replace(minute=0, second=0, microsecond=0)
        start = now - dt.timedelta(days=days)
        flat = Tariff.objects.create(name="Campus flat", price_per_kwh=Decimal("0.1500"), currency="EUR")
        site = Site.objects.create(
            code="main", name="Main Campus", timezone="Europe/Madrid", latitude=40.45, longitude=-3.73
        )
        AcademicPeriod.objects.create(
            site=site,
            kind="term",
            name="Autumn term",
            start=start.date() - dt.timedelta(days=60),
            end=now.date() + dt.timedelta(days=30),
        )
        transformer = Transformer.objects.create(
            code="TX-1", name="North substation", capacity_kva=500, installed_year=2009, location="North substation"
        )
        TransformerEvent.objects.create(
            transformer=transformer,
            kind="inspection",
            occurred_at=start,
            description="Annual inspection: oil and bushings fine.",
        )
        meters: list[tuple[Meter, Room | None]] = []
        for code, name in (("A", "Hostel A"), ("B", "Hostel B")):
            hostel = Hostel.objects.create(site=site, code=code, name=name, floors=3)
            main = Meter.objects.create(
                serial=f"MAIN-{code}",
                kind=Meter.Kind.HOSTEL_MAIN,
                hostel=hostel,
                transformer=transformer,
                installed_at=start - dt.timedelta(days=365),
                rated_kw=200,
            )
            meters.append((main, None))
            for floor in range(3):
                for index, beds in enumerate((2, 2, 4, 4, 6, 2)):
                    number = f"{floor + 1}{index + 1:02d}"
                    customer = Customer.objects.create(
                        account_code=f"R-{code}{number}",
                        name=f"{name} room {number}",
                        kind=Customer.Kind.HOSTEL_ROOM,
                        tariff=flat,
                    )
                    room = Room.objects.create(
                        hostel=hostel, number=number, floor=floor, bed_type=beds, capacity=beds, customer=customer
                    )
                    meter = Meter.objects.create(
                        serial=f"RM-{code}{number}",
                        room=room,
                        customer=customer,
                        transformer=transformer,
                        installed_at=start - dt.timedelta(days=365),
                    )
                    occupants = 0 if rng.random() < 0.1 else max(1, beds - rng.choice((0, 0, 1)))
                    Occupancy.objects.create(room=room, start=start - dt.timedelta(days=30), occupants=occupants)
                    meters.append((meter, room))
        weather = []
        steps = days * 24
        for step in range(steps + 1):
            at = start + dt.timedelta(hours=step)
            temperature = 14 + 7 * math.sin((at.hour - 9) / 24 * 2 * math.pi) + rng.gauss(0, 0.6)
            weather.append(
                Weather(
                    site=site,
                    timestamp=at,
                    temperature_c=round(temperature, 1),
                    humidity_pct=round(60 - temperature, 1),
                    source=Weather.Source.SIMULATED,
                )
            )
        Weather.objects.bulk_create(weather)
        occupants_of = {room.id: Occupancy.objects.get(room=room).occupants for _, room in meters if room}
        readings: list[Reading] = []
        tz = site.tz
        for meter, room in tqdm(meters, desc="demo readings", unit="meter"):
            people = occupants_of.get(room.id, 0) if room else 0
            for step in range(days * 96):
                at = start + dt.timedelta(minutes=15 * step)
                hour = at.astimezone(tz).hour
                evening = 1.0 if 18 <= hour <= 23 else 0.6 if 7 <= hour <= 9 else 0.25
                kwh = 0.02 + people * 0.035 * evening * (1 + rng.gauss(0, 0.15)) if room else 0.0
                readings.append(
                    Reading(
                        meter=meter,
                        timestamp=at,
                        kwh=round(max(kwh, 0.005), 4),
                        voltage=round(230 + rng.gauss(0, 2), 1),
                        power_factor=round(0.95 + rng.gauss(0, 0.01), 3),
                    )
                )
        # The main meter measures its rooms plus common areas.
        totals: dict[tuple[int | None, dt.datetime], float] = {}
        for reading in readings:
            if reading.meter.hostel_id and reading.meter.kind == Meter.Kind.ROOM:
                key = (reading.meter.hostel_id, reading.timestamp)
                totals[key] = totals.get(key, 0.0) + reading.kwh
        for reading in readings:
            if reading.meter.kind == Meter.Kind.HOSTEL_MAIN:
                reading.kwh = round(totals.get((reading.meter.hostel_id, reading.timestamp), 0.0) * 1.08 + 0.4, 4)
        Reading.objects.bulk_create(readings, batch_size=5000)
        rollups_rebuild(meter_ids=[meter.id for meter, _ in meters], start=start, end=now + dt.timedelta(hours=1))
        self.stdout.write(
            f"Demo campus: 2 hostels, {len(meters) - 2} rooms, {len(meters)} meters, {len(readings)} readings."
        )
