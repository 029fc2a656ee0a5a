"""The sizes of campus the simulator builds."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    """How big a campus is and how much history it gets."""

    name: str
    hostels: int
    floors: int
    rooms_per_floor: int
    days: int
    staff_residences: int
    shops: int
    sites: int = 1  # hostels are shared out over this many sites, in blocks, in order

    @property
    def rooms(self) -> int:
        return self.hostels * self.floors * self.rooms_per_floor


SCALES: dict[str, Scale] = {
    "tiny": Scale("tiny", hostels=2, floors=2, rooms_per_floor=6, days=21, staff_residences=1, shops=1),
    "demo": Scale("demo", hostels=3, floors=4, rooms_per_floor=10, days=120, staff_residences=2, shops=2),
    "large": Scale("large", hostels=10, floors=10, rooms_per_floor=10, days=365, staff_residences=3, shops=3),
    # Twice the large campus's hostels (21 transformers): enough failures in a year to measure the
    # failure-risk model on one seed without one failure deciding the score.
    "estate": Scale("estate", hostels=20, floors=10, rooms_per_floor=10, days=365, staff_residences=3, shops=3),
    # Issue 29's university: 5,000 rooms (about 17,000 beds) in 25 halls of 200 rooms on three sites,
    # a transformer per hall: about 175 million readings in a year at 15 minutes.
    "university": Scale(
        "university", hostels=25, floors=8, rooms_per_floor=25, days=365, staff_residences=6, shops=6, sites=3
    ),
}
