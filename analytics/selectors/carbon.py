"""kg CO2 and price of energy at a site: the hooks insights, opportunities and the digest use.

`carbon_kg_for` reads a site's own grid carbon intensity where the site has one (the attribute
`grid_carbon_kg_per_kwh`), else the setting DEFAULT_GRID_CARBON_KG_PER_KWH.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.db.models import Avg, FloatField
from django.db.models.functions import Cast

from meters.models import Hostel, Meter, Site


def carbon_intensity_for(*, site: Site) -> float:
    """kg CO2 per kWh at a site: its own grid intensity where the site has one, else the default setting."""
    own = getattr(site, "grid_carbon_kg_per_kwh", None)
    return float(own) if own is not None else float(settings.DEFAULT_GRID_CARBON_KG_PER_KWH)


def carbon_kg_for(*, kwh: float, site: Site) -> float:
    """kg CO2 of this much energy at this site (the hook carbon accounting replaces with hourly intensities)."""
    return kwh * carbon_intensity_for(site=site)


def price_per_kwh_for(*, meter_ids: Sequence[int], hostel: Hostel | None = None) -> float | None:
    """The mean energy price of these meters' tariffs; the hostel's tariff when they have none; None if no tariff."""
    price = (
        Meter.objects.filter(pk__in=list(meter_ids), customer__tariff__isnull=False)
        .aggregate(p=Avg(Cast("customer__tariff__price_per_kwh", FloatField())))
        .get("p")
    )
    if price is None and hostel is not None and hostel.customer_id:
        tariff = hostel.customer.tariff if hostel.customer else None
        price = float(tariff.price_per_kwh) if tariff else None
    return float(price) if price is not None else None
