"""Which site a meter is on: its hostel's, or for a meter in no hostel (a feeder) the one its transformer feeds."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

from meters.models import Meter, Site


def sites_of_unhoused(meters: Iterable[Meter]) -> dict[int, tuple[int, str]]:
    """A meter in no hostel (a feeder: a cafeteria, a lab, a shop) is on the site of the hostels its transformer
    feeds, or on the only site there is: its days are local days and its site's calendar holds its holidays.

    Returns meter id -> (site id, site time zone); a meter whose site cannot be told (several sites and no
    transformer feeding a hostel) is left out."""
    meters = list(meters)
    if not meters:
        return {}
    transformer_ids = {m.transformer_id for m in meters if m.transformer_id}
    votes: dict[int, Counter[tuple[int, str]]] = defaultdict(Counter)
    if transformer_ids:
        for transformer_id, site_id, tz in Meter.objects.filter(
            transformer_id__in=transformer_ids, hostel__isnull=False
        ).values_list("transformer_id", "hostel__site_id", "hostel__site__timezone"):
            votes[transformer_id][(site_id, tz)] += 1
    only = list(Site.objects.values_list("id", "timezone")[:2])
    out = {}
    for meter in meters:
        counted = votes.get(meter.transformer_id or 0)
        if counted:
            out[meter.id] = counted.most_common(1)[0][0]
        elif len(only) == 1:
            out[meter.id] = only[0]
    return out


def meter_site(*, meter: Meter) -> Site | None:
    """The meter's site: its hostel's, else (a feeder) its transformer's or the only site; None if it cannot be told."""
    if meter.hostel_id is not None:
        return Site.objects.filter(hostels__id=meter.hostel_id).first()
    found = sites_of_unhoused([meter]).get(meter.id)
    return Site.objects.filter(pk=found[0]).first() if found else None
