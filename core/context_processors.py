from typing import Any

from django.http import HttpRequest

from core.roles import role_of


def role(request: HttpRequest) -> dict[str, Any]:
    """The current user's role, for navigation in every template."""
    return {"role": role_of(getattr(request, "user", None))}
