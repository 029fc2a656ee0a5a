"""Demo data for development: the simulated demo campus (when empty) and the demo logins."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from meters.models import Hostel
from meters.services import demo_users_ensure


class Command(BaseCommand):
    help = "Simulate the demo campus when there are no hostels yet, and create the demo logins (DEBUG only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--if-empty", action="store_true", help="Skip the campus when hostels already exist.")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--days", type=int, help="Days of history up to now (default: the demo scale's 120).")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("seed_demo creates demo logins with a public password; it runs only with DEBUG=1.")
        if not (options["if_empty"] and Hostel.objects.exists()):
            extra = {"days": options["days"]} if options["days"] else {}
            call_command("simulate_campus", scale="demo", seed=options["seed"], stdout=self.stdout, **extra)
            return  # simulate_campus made the demo logins and named them: once is enough
        logins = demo_users_ensure()
        self.stdout.write(self.style.SUCCESS(f"Demo logins (password wattwatch-demo): {', '.join(logins)}"))
