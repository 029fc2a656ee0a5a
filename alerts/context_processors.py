from typing import Any

from django.http import HttpRequest

from alerts.selectors import alerts_open_count
from customers.roles import Role, role_of


def open_alerts(request: HttpRequest) -> dict[str, Any]:
    """The header badge: open alerts in the user's scope, then kept up to date by live.js."""
    user = getattr(request, "user", None)
    if user is None or role_of(user) is Role.NONE:
        return {}
    return {"open_alerts_count": lambda: alerts_open_count(user=user)}
