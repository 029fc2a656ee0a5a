"""Rendering the weekly digest email, and its signed unsubscribe link."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core import signing
from django.template.loader import render_to_string
from django.urls import reverse

from analytics.selectors.digest import digest_for, digest_timezone

SALT = "analytics.digest.unsubscribe"

__all__ = ["digest_render", "digest_timezone", "unsubscribe_token", "unsubscribe_user_id"]


def unsubscribe_token(*, user: Any) -> str:
    return signing.dumps(user.pk, salt=SALT)


def unsubscribe_user_id(*, token: str) -> int | None:
    """The user a link was made for, or None when it was tampered with."""
    try:
        return int(signing.loads(token, salt=SALT))
    except (signing.BadSignature, TypeError, ValueError):
        return None


def digest_render(*, user: Any, now: dt.datetime | None = None) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of the user's digest."""
    digest = digest_for(user=user, now=now)
    context = {
        "digest": digest,
        "unsubscribe_url": settings.WATTWATCH_BASE_URL.rstrip("/")
        + reverse("digest-unsubscribe", kwargs={"token": unsubscribe_token(user=user)}),
        "base_url": settings.WATTWATCH_BASE_URL.rstrip("/"),
    }
    subject = f"Wattwatch weekly: {digest.scope}, week of {digest.week_start:%d %b %Y}"
    return (
        subject,
        render_to_string("analytics/email/digest.txt", context),
        render_to_string("analytics/email/digest.html", context),
    )
