"""Fill the database with a simulated campus: estate, weather, occupancy, readings, rollups, incidents."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from meters.models import Site
from meters.services import demo_users_ensure
from meters.simulation import SCALES, Summary, campus_simulate
from meters.simulation.interventions import InterventionSpec


def summary_lines(summary: Summary) -> list[str]:
    """The end-of-run report: hostels, rooms by bed type, meters, readings, incidents of each kind."""
    rooms = ", ".join(f"{n} x {beds}-bed" for beds, n in summary.rooms_by_beds.items())
    meters = ", ".join(f"{n} {kind}" for kind, n in sorted(summary.meters_by_kind.items()))
    lines = [
        f"Simulated campus ({summary.scale}, seed {summary.seed}): "
        f"{summary.start:%Y-%m-%d %H:%M} to {summary.end:%Y-%m-%d %H:%M} UTC in {summary.seconds:.1f} s",
        f"  hostels: {summary.hostels}",
        f"  rooms: {sum(summary.rooms_by_beds.values())} ({rooms})",
        f"  meters: {sum(summary.meters_by_kind.values())} ({meters})",
        f"  readings: {summary.readings:,}",
        f"  weather rows: {summary.weather_rows:,}",
        f"  incidents: {sum(summary.incidents_by_kind.values())}",
    ]
    lines += [f"    {kind}: {n}" for kind, n in summary.incidents_by_kind.items()]
    lines.append(f"  transformer events: {sum(summary.transformer_events_by_kind.values())}")
    lines += [f"    {kind}: {n}" for kind, n in summary.transformer_events_by_kind.items()]
    lines.append(f"  transformer condition readings: {summary.condition_readings:,}")
    return lines


def _intervention(text: str) -> InterventionSpec:
    parts = text.split(":")
    if len(parts) != 3:
        raise ValueError(f"{text!r} is not HOSTEL:YYYY-MM-DD:SHARE")
    try:
        return InterventionSpec(hostel=int(parts[0]), start=dt.date.fromisoformat(parts[1]), share=float(parts[2]))
    except ValueError as error:
        raise ValueError(f"{text!r}: {error}") from None


class Command(BaseCommand):
    help = "Simulate a campus (tiny for tests, demo for `make run`, large for benchmarks) with labelled incidents."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scale", choices=sorted(SCALES), default="demo")
        parser.add_argument("--seed", type=int, default=1, help="Same seed, same campus (default 1).")
        parser.add_argument(
            "--start", type=dt.date.fromisoformat, help="First local day (YYYY-MM-DD); default: history ending now."
        )
        parser.add_argument("--days", type=int, help="Days of history (default: the scale's).")
        parser.add_argument("--no-incidents", action="store_true", help="A clean campus, without incidents.")
        parser.add_argument("--csv", type=Path, help="Write a few room meters to this CSV instead of the database.")
        parser.add_argument("--csv-meters", type=int, default=4, help="How many room meters go into --csv.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bars.")
        parser.add_argument(
            "--intervention",
            action="append",
            default=[],
            metavar="HOSTEL:YYYY-MM-DD:SHARE",
            help="Cut hostel number HOSTEL (0-based) by SHARE (e.g. 0.15) from that local day on; repeatable. "
            "Recorded as an 'intervention' incident on its main meter (ground truth for measure_savings).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["days"]
        if days is not None and not 1 <= days <= 800:
            raise CommandError("--days must be between 1 and 800.")
        if options["csv"] is None and Site.objects.filter(code="sim").exists():
            raise CommandError("This database already has a simulated campus; use a fresh database.")
        try:
            interventions = [_intervention(text) for text in options["intervention"]]
        except ValueError as error:
            raise CommandError(f"--intervention: {error}") from error
        summary = campus_simulate(
            scale=options["scale"],
            seed=options["seed"],
            start_date=options["start"],
            days=days,
            incidents=not options["no_incidents"],
            csv_path=options["csv"],
            csv_meters=options["csv_meters"],
            progress=not options["no_progress"],
            log=self.stdout.write,
            interventions=interventions,
        )
        if options["csv"] is not None:
            self.stdout.write(f"Wrote {summary.readings:,} readings to {options['csv']}")
            return
        for line in summary_lines(summary):
            self.stdout.write(line)
        if settings.DEBUG:
            logins = demo_users_ensure()
            self.stdout.write(self.style.SUCCESS(f"Demo logins (password wattwatch-demo): {', '.join(logins)}"))
