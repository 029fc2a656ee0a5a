"""Keep the simulated campus alive: generate readings for "now" and deliver them, with incidents now and then."""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from meters.simulation.replay import CampusReplay, replay_loop


class Command(BaseCommand):
    help = "Replay the simulated campus in real time (or faster with --speed) through the ingestion path."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--speed", type=float, default=1.0, help="Simulated seconds per real second (default 1).")
        parser.add_argument("--interval", type=float, default=15.0, help="Real seconds between ticks (default 15).")
        parser.add_argument("--incident-rate", type=float, default=0.05, help="New incidents per meter per day.")
        parser.add_argument("--once", action="store_true", help="Deliver what is due now, then exit.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["speed"] <= 0 or options["interval"] <= 0:
            raise CommandError("--speed and --interval must be positive.")
        replay = CampusReplay(speed=options["speed"], incidents_per_meter_day=options["incident_rate"])
        if not replay.load():
            raise CommandError("No simulated campus here: run `manage.py simulate_campus` first.")
        if options["once"]:
            delivered = replay.tick()
            self.stdout.write(f"Delivered {delivered} readings up to {replay.cursor:%Y-%m-%d %H:%M} UTC.")
            return
        stop = threading.Event()

        def on_signal(signum: int, frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        self.stdout.write(f"Replaying {len(replay.meters)} meters at {options['speed']}x; Ctrl-C stops.")
        replay_loop(replay, stop=stop, interval=options["interval"])
        self.stdout.write("Replay stopped.")
