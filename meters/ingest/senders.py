"""Who sent input (a gateway key, a user, or a trusted command or task), and what they may write.

Rejected rows keep their sender, so that re-processing them later runs with the sender's rights,
never as a trusted caller: an administrator's "Re-process" must not store what the sender could not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from customers.models import Transformer
from meters.ingest.validate import MeterDirectory
from meters.models import GatewayToken, QuarantinedReading
from meters.scoping import scope_for

Kind = QuarantinedReading.Sender


@dataclass(frozen=True)
class Sender:
    """A gateway key, a user, a trusted caller, or nobody (a revoked key, a deleted user)."""

    kind: Kind
    gateway: GatewayToken | None = None
    user: Any = None

    @classmethod
    def of(cls, *, user: Any = None, gateway: GatewayToken | None = None) -> Sender:
        if gateway is not None:
            return cls(Kind.GATEWAY, gateway=gateway)
        if user is not None:
            return cls(Kind.USER, user=user)
        return cls(Kind.TRUSTED)

    @property
    def trusted(self) -> bool:
        return self.kind == Kind.TRUSTED

    def fields(self) -> dict[str, object]:
        """The quarantine columns that record this sender."""
        return {
            "sender_kind": self.kind.value,
            "sender_gateway_id": self.gateway.pk if self.gateway is not None else None,
            "sender_user_id": self.user.pk if self.user is not None and self.user.is_authenticated else None,
        }

    def meters(self) -> MeterDirectory:
        """The meters this sender may write."""
        if self.kind == Kind.TRUSTED:
            return MeterDirectory()
        if self.gateway is not None:
            return MeterDirectory(
                meter_ids=frozenset(self.gateway.meters.values_list("id", flat=True)),
                hostel_ids=frozenset([self.gateway.hostel_id]) if self.gateway.hostel_id else frozenset(),
            )
        if self.user is not None:
            scope = scope_for(self.user)
            return MeterDirectory() if scope.everything else MeterDirectory(hostel_ids=scope.hostel_ids)
        return MeterDirectory(meter_ids=frozenset(), hostel_ids=frozenset())

    def transformers(self) -> frozenset[int] | None:
        """The transformers this sender may write (None: every one): those feeding its meters or hostels."""
        if self.kind == Kind.TRUSTED:
            return None
        directory = self.meters()
        if directory.meter_ids is None and directory.hostel_ids is None:
            return None
        feeds = Q(meters__id__in=directory.meter_ids or ()) | Q(meters__hostel_id__in=directory.hostel_ids or ())
        return frozenset(Transformer.objects.filter(feeds).values_list("id", flat=True).distinct())


def sender_of_row(row: QuarantinedReading) -> Sender:
    """The sender of a quarantined row with the rights it has now: a revoked or expired key, a
    deleted or deactivated user, or an unrecorded sender may write nothing."""
    nobody = Sender(Kind.UNKNOWN)
    if row.sender_kind == Kind.TRUSTED:
        return Sender(Kind.TRUSTED)
    if row.sender_kind == Kind.GATEWAY and row.sender_gateway_id is not None:
        gateway = (
            GatewayToken.objects.filter(pk=row.sender_gateway_id, is_active=True)
            .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
            .first()
        )
        return Sender(Kind.GATEWAY, gateway=gateway) if gateway is not None else nobody
    if row.sender_kind == Kind.USER and row.sender_user_id is not None:
        user = get_user_model().objects.filter(pk=row.sender_user_id, is_active=True).first()
        return Sender(Kind.USER, user=user) if user is not None else nobody
    return nobody


NOT_PERMITTED = "not permitted: the sender may not write {what}"
