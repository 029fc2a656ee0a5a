"""The campus as plain data: site, hostels, rooms, customers, meters and transformers (no database)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from meters.simulation.rng import rng_for
from meters.simulation.scales import Scale

# The five resident habit groups segmentation should rediscover, with their share of rooms.
HABITS = ("night_owl", "early_riser", "all_day", "low_user", "heavy_appliance")
HABIT_SHARE = (0.22, 0.22, 0.18, 0.26, 0.12)
TRANSFORMER_SIZES_KVA = (50, 63, 75, 100, 125, 160, 200, 250, 315, 400, 500, 630, 800, 1000)


@dataclass
class SitePlan:
    code: str
    name: str


@dataclass
class HostelPlan:
    code: str
    name: str
    floors: int
    customer: int
    site: int = 0  # index in EstatePlan.sites


@dataclass
class RoomPlan:
    hostel: int
    number: str
    floor: int
    beds: int
    area_m2: float
    customer: int
    habit: str


@dataclass
class CustomerPlan:
    account_code: str
    name: str
    kind: str
    habit: str
    has_ev_charging: bool = False


@dataclass
class TransformerPlan:
    code: str
    name: str
    capacity_kva: int
    installed_year: int
    location: str


@dataclass
class MeterPlan:
    serial: str
    kind: str  # Meter.Kind value
    hostel: int | None
    room: int | None
    customer: int | None
    transformer: int
    rated_kw: float
    installed_at: dt.datetime
    removed_at: dt.datetime | None = None
    replaces: int | None = None  # index of the meter this one replaced


@dataclass
class EstatePlan:
    """Everything the database needs to know about the campus, in a stable order."""

    seed: int
    site_code: str
    site_name: str
    timezone: str
    latitude: float
    longitude: float
    sites: list[SitePlan] = field(default_factory=list)  # the first is site_code; all share its town and weather
    hostels: list[HostelPlan] = field(default_factory=list)
    rooms: list[RoomPlan] = field(default_factory=list)
    customers: list[CustomerPlan] = field(default_factory=list)
    transformers: list[TransformerPlan] = field(default_factory=list)
    meters: list[MeterPlan] = field(default_factory=list)

    def room_meter(self, room: int) -> int:
        """Index of the first meter installed in a room."""
        return next(i for i, m in enumerate(self.meters) if m.room == room and m.replaces is None)

    def main_meter(self, hostel: int) -> int:
        return next(i for i, m in enumerate(self.meters) if m.kind == "hostel_main" and m.hostel == hostel)


def _hostel_code(index: int) -> str:
    return chr(ord("A") + index) if index < 26 else f"H{index + 1}"


def _size_kva(kw: float) -> int:
    return next((size for size in TRANSFORMER_SIZES_KVA if size >= kw), TRANSFORMER_SIZES_KVA[-1])


def estate_plan(*, seed: int, scale: Scale, start: dt.datetime) -> EstatePlan:
    """A campus of the given scale; the same seed always gives the same campus."""
    rng = rng_for(seed, "estate")
    plan = EstatePlan(
        seed=seed,
        site_code="sim",
        site_name="Simulated Campus (Madrid)",
        timezone="Europe/Madrid",
        latitude=40.45,
        longitude=-3.73,
    )
    plan.sites.append(SitePlan(plan.site_code, plan.site_name))
    plan.sites += [SitePlan(f"sim{n}", f"Simulated Campus {n} (Madrid)") for n in range(2, scale.sites + 1)]
    installed = start - dt.timedelta(days=int(rng.integers(400, 2000)))
    for h in range(scale.hostels):
        code = _hostel_code(h)
        name = f"Hostel {code}"
        plan.customers.append(CustomerPlan(f"H-{code}", f"{name} common areas", "hostel", "common_areas"))
        site = h * len(plan.sites) // scale.hostels
        plan.hostels.append(HostelPlan(code, name, scale.floors, len(plan.customers) - 1, site))
        rooms = scale.floors * scale.rooms_per_floor
        # Transformers are sized for a typical evening, so hot spells and heavy users overload some.
        expected_peak_kw = 0.42 * rooms * 2.0 + 4.0
        kva = _size_kva(expected_peak_kw * rng.uniform(0.55, 1.15))
        plan.transformers.append(
            TransformerPlan(f"TX-{code}", f"{name} substation", kva, int(rng.integers(1978, 2021)), f"Beside {name}")
        )
        tx = len(plan.transformers) - 1
        plan.meters.append(MeterPlan(f"MAIN-{code}", "hostel_main", h, None, None, tx, 400.0, installed))
        for floor in range(scale.floors):
            beds = rng.choice(np.array([2, 4, 6]), size=scale.rooms_per_floor, p=[0.45, 0.4, 0.15])
            for index in range(scale.rooms_per_floor):
                number = f"{floor + 1}{index + 1:02d}"
                room_rng = rng_for(seed, "room", code, number)
                habit = str(room_rng.choice(HABITS, p=HABIT_SHARE))
                plan.customers.append(
                    CustomerPlan(
                        f"R-{code}{number}",
                        f"{name} room {number}",
                        "hostel_room",
                        habit,
                        has_ev_charging=habit == "heavy_appliance" and room_rng.random() < 0.3,
                    )
                )
                bed_count = int(beds[index])
                area = round(float(9 + 4.5 * bed_count + room_rng.uniform(-2, 3)), 1)
                plan.rooms.append(RoomPlan(h, number, floor, bed_count, area, len(plan.customers) - 1, habit))
                plan.meters.append(
                    MeterPlan(
                        f"RM-{code}{number}",
                        "room",
                        h,
                        len(plan.rooms) - 1,
                        len(plan.customers) - 1,
                        tx,
                        10.0,
                        installed,
                    )
                )
    # Other customers on the campus network, on one estate transformer.
    others: list[tuple[str, str, str, str, float]] = [
        ("CAF-1", "Cafeteria", "commercial", "cafeteria", 80.0),
        ("LAB-1", "Engineering lab building", "institutional", "lab", 150.0),
    ]
    others += [
        (f"STAFF-{i + 1}", f"Staff residence {i + 1}", "staff_residence", "staff_residence", 20.0)
        for i in range(scale.staff_residences)
    ]
    others += [(f"SHOP-{i + 1}", f"Campus shop {i + 1}", "commercial", "shop", 20.0) for i in range(scale.shops)]
    plan.transformers.append(
        TransformerPlan("TX-EST", "Estate substation", _size_kva(95 * rng.uniform(0.8, 1.1)), 1995, "Estate yard")
    )
    tx = len(plan.transformers) - 1
    for code, name, kind, habit, rated in others:
        plan.customers.append(CustomerPlan(f"C-{code}", name, kind, habit))
        plan.meters.append(MeterPlan(f"FD-{code}", "feeder", None, None, len(plan.customers) - 1, tx, rated, installed))
    return plan
