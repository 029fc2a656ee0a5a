"""kg CO2 and price of energy at a site: the hooks insights, opportunities and the digest use.

`carbon_kg_for` estimates a year's kg CO2 from a year's kWh: at the site's own constant grid intensity
(`Site.carbon_kg_per_kwh`), else the mean of its imported hourly intensities of the last year
(`import_carbon`), else the setting DEFAULT_GRID_CARBON_KG_PER_KWH. Totals of a period on the dashboard
and the API multiply each hour by its own intensity instead (meters.selectors.carbon).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.conf import settings
from django.db.models import Avg, FloatField
from django.db.models.functions import Cast
from django.utils import timezone

from meters.models import CarbonIntensity, Hostel, Meter, Site


def carbon_intensity_for(*, site: Site) -> float:
    """kg CO2 per kWh at a site: its constant, else its last year's mean hourly intensity, else the default."""
    own = getattr(site, "carbon_kg_per_kwh", None)
    if own is not None:
        return float(own)
    if getattr(site, "pk", None) is not None:
        since = timezone.now() - dt.timedelta(days=365)
        mean = CarbonIntensity.objects.filter(site_id=site.pk, timestamp__gte=since).aggregate(m=Avg("kg_per_kwh"))["m"]
        if mean is not None:
            return float(mean)
    return float(settings.DEFAULT_GRID_CARBON_KG_PER_KWH)


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
