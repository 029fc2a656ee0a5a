"""Reads of tariffs. Which accounts and transformers a user may see is decided beside `Hostel`
(`meters.selectors.accounts`): this app knows nothing of hostels."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from customers.models import Tariff, TariffBand


def tariffs_with_bands() -> QuerySet[Tariff]:
    """Every tariff, its time-of-use bands read in one more query, in the order they start."""
    return Tariff.objects.prefetch_related(Prefetch("bands", queryset=TariffBand.objects.order_by("start", "id")))
