"""Send (or print) the weekly digest."""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from analytics.digest import digest_render
from analytics.services import digest_send


class Command(BaseCommand):
    help = "Send the weekly digest to a user (--user) or to every active user with an email; --dry-run prints it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", help="Username: only this user.")
        parser.add_argument("--dry-run", action="store_true", help="Print the digest instead of sending it.")

    def handle(self, *args: Any, **options: Any) -> None:
        users = get_user_model().objects.filter(is_active=True).order_by("username")
        if options["user"]:
            users = users.filter(username=options["user"])
            if not users.exists():
                raise CommandError(f"--user: no active user named {options['user']!r}.")
        for user in users:
            if options["dry_run"]:
                subject, text, _ = digest_render(user=user)
                self.stdout.write(f"To: {user.email or '(no email address)'}\nSubject: {subject}\n\n{text}")
            else:
                sent = digest_send(user=user)
                why = "sent" if sent else "not sent (unsubscribed, already sent this week or no email address)"
                self.stdout.write(f"{user.get_username()}: {why}")
