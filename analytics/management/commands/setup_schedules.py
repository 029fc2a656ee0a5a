"""Create the periodic tasks that are missing; never change or delete an existing one."""

from typing import Any

from django.core.management.base import BaseCommand

from analytics.schedules import schedules_ensure


class Command(BaseCommand):
    help = "Upsert Wattwatch's periodic tasks into django-celery-beat (an admin's edits are kept)."

    def handle(self, *args: Any, **options: Any) -> None:
        created = schedules_ensure()
        self.stdout.write(f"created {len(created)} schedule(s): {', '.join(created) or 'none missing'}")
