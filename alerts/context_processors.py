from typing import Any

from django.http import HttpRequest

from alerts.selectors import alerts_open_count, last_event_id_for_user
from core.roles import Role, role_of


def open_alerts(request: HttpRequest) -> dict[str, Any]:
    """The header badge: open alerts in the user's scope, then kept up to date by live.js."""
    user = getattr(request, "user", None)
    if user is None or role_of(user) is Role.NONE:
        return {}
    # Callables: evaluated only by templates that show the badge. The cursor is the newest event the
    # count already includes, so live.js resumes from exactly there and never counts an event twice.
    return {
        "open_alerts_count": lambda: alerts_open_count(user=user),
        "alerts_cursor": lambda: last_event_id_for_user(user=user) or 0,
    }
