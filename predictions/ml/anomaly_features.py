"""Features, per-meter statistics and fit metrics used by the anomaly baseline (`predictions.ml.anomaly`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

FEATURES = [
    "hour",
    "dow",
    "temp",
    "hdd",
    "cdd",
    "occupants",
    "occ_ratio",
    "bed_type",
    "is_main",
    "calendar",
    "weekend",
    "own_profile",
]
CV_RMSE_GATE = 0.30
NMBE_GATE = 0.10
MIN_DAYS_OWN = 7
MAX_TRAIN_ROWS = 200_000
HOLDOUT_DAYS = 7
RECENT_DAYS = 28
DENOM_FLOOR = 0.2  # share of the meter's mean added to the denominator of the relative residual
WINDOW_HOURS = (0.0, 4.0, 24.0)  # a reading, the last four hours, the last day
SPREAD_BLOCK_HOURS = 4  # a single reading's spread is measured per block of the day (see `block_spreads`)
MIN_BLOCK_ROWS = 24  # calibration readings a block needs for a spread of its own
# A block's spread is never below this share of the whole day's: one held-back week holds only a few evenings
# of a heavy appliance, whose start varies (18:00 one week, 21:00 the next), so a block can look quiet by chance.
BLOCK_FLOOR_SHARE = 0.4
# Balance temperatures tried for each meter's heating and cooling (the change-point model of ASHRAE
# Guideline 14 and PRISM: below/above it, demand grows linearly with the degrees).
HEAT_BASES = (13.0, 15.5, 18.0)
COOL_BASES = (20.0, 23.0, 26.0)
MIN_SLOPE_T = 4.0  # a slope is kept only this many standard errors above zero
MIN_DEGREE_HOURS = 24  # readings with at least one degree of heating (or cooling) needed to learn a slope
DEGREE_CAP = 25.0  # degrees beyond the balance point counted at most (a heater has a rating)


def features(frame: pd.DataFrame, own_profile: np.ndarray) -> np.ndarray:
    """Model inputs; `own_profile` is the meter's usual share of its mean at this hour (its habits)."""
    temp = frame["temp"].to_numpy(dtype=float)
    capacity = frame["capacity"].to_numpy(dtype=float)
    occupants = frame["occupants"].to_numpy(dtype=float)
    calendar = frame["calendar"].to_numpy(dtype=float)
    dow = frame["dow"].to_numpy(dtype=float)
    return np.column_stack(
        [
            frame["hour"].to_numpy(dtype=float),
            dow,
            temp,
            np.maximum(0.0, 15.5 - temp),
            np.maximum(0.0, temp - 22.0),
            occupants,
            np.where(capacity > 0, occupants / np.maximum(capacity, 1), np.nan),
            frame["bed_type"].to_numpy(dtype=float),
            frame["is_main"].to_numpy(dtype=float),
            calendar,
            ((dow >= 5) | (calendar == 4)).astype(float),
            own_profile,
        ]
    ).astype(np.float32)


@dataclass
class MeterStats:
    """Per-meter numbers the baseline learnt."""

    scale: float  # mean kWh per hour
    sigma: float  # robust spread of the relative residual
    bias: float  # median relative residual
    q1: float
    q3: float
    tier: str
    days: float
    cv_rmse: float | None = None
    nmbe: float | None = None
    fit: bool = True
    win_med: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    win_scale: list[float] = field(default_factory=lambda: [0.5, 0.3, 0.2])
    rooms_fit: bool | None = None  # rooms: the verdict of the gate on their hostel's sum of rooms
    gate_cv_rmse: float | None = None
    gate_nmbe: float | None = None
    profile: list[float] = field(default_factory=list)  # 24 hourly medians of kWh per hour
    profile_sigma: float = 0.3
    block_scale: list[float] = field(default_factory=list)  # spread of a reading per block of the day
    short_block_scale: list[float] = field(default_factory=list)  # spread of a four-hour mean per block of the day

    def point_scale(self, hours: np.ndarray) -> np.ndarray | float:
        """The spread a single reading at these local hours is judged against."""
        if not self.block_scale:
            return self.win_scale[0]
        block = (np.floor(np.nan_to_num(hours)).astype(int) % 24) // SPREAD_BLOCK_HOURS
        return np.maximum(np.asarray(self.block_scale)[block], BLOCK_FLOOR_SHARE * self.win_scale[0])

    def short_scale(self, hours: np.ndarray) -> np.ndarray | float:
        """The spread a four-hour mean ending at these local hours is judged against (as `point_scale`)."""
        blocks = getattr(self, "short_block_scale", None)  # saved before it was measured: the whole day's
        if not blocks:
            return self.win_scale[1]
        block = (np.floor(np.nan_to_num(hours)).astype(int) % 24) // SPREAD_BLOCK_HOURS
        return np.maximum(np.asarray(blocks)[block], BLOCK_FLOOR_SHARE * self.win_scale[1])


@dataclass(frozen=True)
class WeatherResponse:
    """A meter's linear heating and cooling demand: kW per degree beyond each balance temperature."""

    heat_base: float = HEAT_BASES[1]
    heat_kw: float = 0.0
    cool_base: float = COOL_BASES[1]
    cool_kw: float = 0.0

    def kw(self, temp: np.ndarray, present: np.ndarray) -> np.ndarray:
        """Weather-driven demand (kW) at each reading; nothing while nobody is in or the temperature is unknown."""
        heat, cool = degrees(temp, present, self.heat_base, self.cool_base)
        return self.heat_kw * heat + self.cool_kw * cool


def presence(frame: pd.DataFrame) -> np.ndarray:
    """1 where someone is in (rooms and hostels with a known capacity), else 1 (buildings without occupancy)."""
    capacity = frame["capacity"].to_numpy(dtype=float)
    occupants = np.nan_to_num(frame["occupants"].to_numpy(dtype=float), nan=0.0)
    return np.where(capacity > 0, (occupants > 0).astype(float), 1.0)


def degrees(temp: np.ndarray, present: np.ndarray, heat_base: float, cool_base: float) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(temp, dtype=float)
    heat = np.nan_to_num(np.clip(heat_base - t, 0.0, DEGREE_CAP), nan=0.0) * present
    cool = np.nan_to_num(np.clip(t - cool_base, 0.0, DEGREE_CAP), nan=0.0) * present
    return heat, cool


def weather_response_fit(
    *, kwh_h: np.ndarray, temp: np.ndarray, hour: np.ndarray, weekend: np.ndarray, present: np.ndarray
) -> WeatherResponse:
    """One meter's heating and cooling slopes: its expected demand goes on growing beyond the weather it has seen.

    A tree model is flat outside the temperatures of its training window: trained on a late summer, it
    expects October's heating in December's cold. A slope per degree extrapolates. The slopes come from a
    robust least-squares fit (trimmed twice at 3.5 MAD, so incidents do not teach them) next to the
    meter's hour-of-day and weekend habits and whether anyone is in; the balance temperatures are the
    pair that fits best. A slope is kept only when positive and learnt from at least `MIN_DEGREE_HOURS`
    readings a degree or more beyond its balance point.
    """
    ok = np.isfinite(temp) & np.isfinite(kwh_h)
    if ok.sum() < 48:
        return WeatherResponse()
    y = kwh_h[ok]
    habits = np.column_stack([np.eye(24)[hour[ok] % 24], weekend[ok].astype(float), present[ok].astype(float)])
    best: tuple[float, WeatherResponse] | None = None
    for heat_base in HEAT_BASES:
        for cool_base in COOL_BASES:
            heat, cool = degrees(temp[ok], present[ok], heat_base, cool_base)
            use = [d for d in (heat, cool) if (d >= 1.0).sum() >= MIN_DEGREE_HOURS]
            names = [n for n, d in (("heat", heat), ("cool", cool)) if (d >= 1.0).sum() >= MIN_DEGREE_HOURS]
            loss, slopes, t = _trimmed_fit(y, habits, use)
            # A slope must add demand and stand out of the noise (readings an hour apart are not
            # independent, hence a t of 4): drop the weakest term that does not, and refit.
            while any(v <= 0 or tv < MIN_SLOPE_T for v, tv in zip(slopes, t, strict=True)):
                weakest = int(np.argmin(t))
                use, names = use[:weakest] + use[weakest + 1 :], names[:weakest] + names[weakest + 1 :]
                loss, slopes, t = _trimmed_fit(y, habits, use)
            found = dict(zip(names, slopes, strict=True))
            response = WeatherResponse(
                heat_base=heat_base, heat_kw=found.get("heat", 0.0), cool_base=cool_base, cool_kw=found.get("cool", 0.0)
            )
            if best is None or loss < best[0]:
                best = (loss, response)
    return best[1] if best is not None else WeatherResponse()


def _trimmed_fit(y: np.ndarray, habits: np.ndarray, terms: list[np.ndarray]) -> tuple[float, list[float], list[float]]:
    """Least squares of y on habits and the degree terms, refitted twice without the rows beyond 3.5 MAD.

    Returns a Huber-like loss over all rows (comparable between balance temperatures), the terms'
    slopes and their t statistics (a negative slope has a negative t).
    """
    x = np.column_stack([habits, *terms]) if terms else habits
    keep = np.ones(len(y), dtype=bool)
    coef = np.zeros(x.shape[1])
    inverse = np.eye(x.shape[1])
    resid = y
    limit = 1.0
    for _ in range(3):
        xk = x[keep]
        # Normal equations with a whisper of ridge: the habit columns can be collinear (no vacancy, say).
        inverse = np.linalg.inv(xk.T @ xk + 1e-6 * np.eye(x.shape[1]))
        coef = inverse @ (xk.T @ y[keep])
        resid = y - x @ coef
        centre = float(np.median(resid))
        limit = max(3.5 * 1.4826 * float(np.median(np.abs(resid - centre))), 1e-6)
        keep = np.abs(resid - centre) <= limit
    loss = float(np.minimum(resid**2, limit**2).sum())
    kept = resid[keep]
    variance = float(kept.var()) if len(kept) > 1 else 0.0
    first = habits.shape[1]
    errors = np.sqrt(np.maximum(np.diag(inverse)[first:] * variance, 1e-18))
    return loss, [float(v) for v in coef[first:]], [float(v) for v in coef[first:] / errors]


@dataclass
class Prediction:
    expected: np.ndarray  # kWh per interval
    denom: np.ndarray  # kWh per interval: divides the residual into a relative residual
    z: np.ndarray  # robust z of the relative residual of each reading
    z_short: np.ndarray  # the same for the mean relative residual of the last four hours
    z_long: np.ndarray  # and of the last day
    iqr_out: np.ndarray  # relative residual outside the meter's 3 x IQR fences
    seasonal_z: np.ndarray  # robust z against the meter's own hour-of-day profile
    iforest: np.ndarray  # Isolation Forest anomaly score (higher = more anomalous), 0 when not trained
    tier: np.ndarray
    fit: np.ndarray


def window_sizes(interval_h: float) -> list[int]:
    return [max(1, round(h / interval_h)) for h in WINDOW_HOURS]


def trailing_mean(values: np.ndarray, window: int) -> np.ndarray:
    """Mean of the last `window` values (fewer at the start), vectorised."""
    if window <= 1:
        return values
    cumulative = np.cumsum(np.r_[0.0, values])
    index = np.arange(len(values))
    lo = np.maximum(0, index - window + 1)
    return (cumulative[index + 1] - cumulative[lo]) / (index + 1 - lo)


def _reaches(excluded: np.ndarray, size: int) -> np.ndarray:
    """Rows whose trailing window of `size` readings holds an excluded reading."""
    if size <= 1 or not excluded.any():
        return excluded
    return trailing_mean(excluded.astype(float), size) > 0


def window_rows(calibration: np.ndarray, excluded: np.ndarray | None, size: int, interval_h: float) -> np.ndarray:
    """The calibration rows whose trailing window of `size` readings reaches no `excluded` reading (an anomaly
    already found), or all of them when too few would be left (under two days, or under one window)."""
    if excluded is None:
        return calibration
    clean = calibration & ~_reaches(excluded, size)
    return clean if clean.sum() >= max(size, min(calibration.sum(), 48 / interval_h)) else calibration


def _window_stats(
    rel: np.ndarray, calibration: np.ndarray, interval_h: float, excluded: np.ndarray | None = None
) -> tuple[list[float], list[float]]:
    """Centre and tail-aware spread of each window's mean residual, on the calibration rows.

    The spread is the larger of the MAD and the 99th percentile mapped to 2.33 (a normal's): room
    consumption is heavy-tailed and autocorrelated, and both show in the spread of the statistic itself.
    `excluded` rows (inside anomalies already found) are left out, and so is every window that reaches one.
    """
    medians, scales = [], []
    for size, floor in zip(window_sizes(interval_h), (0.05, 0.03, 0.02), strict=True):
        means = trailing_mean(rel, size)[window_rows(calibration, excluded, size, interval_h)]
        if not len(means):
            medians.append(0.0)
            scales.append(0.5)
            continue
        centre = float(np.median(means))
        mad = 1.4826 * float(np.median(np.abs(means - centre)))
        tail = (float(np.quantile(means, 0.99)) - centre) / 2.33
        medians.append(centre)
        scales.append(max(mad, tail, floor))
    return medians, scales


def block_spreads(rel: np.ndarray, calibration: np.ndarray, hours: np.ndarray, centre: float) -> list[float]:
    """The tail-aware spread of a single reading's residual in each block of the day (`SPREAD_BLOCK_HOURS`).

    One spread for the whole day takes its tail from the room's busiest hours: a heavy appliance run
    most evenings (a 2-3 kW heater, a cooker) puts the room's 99th percentile at that appliance, and a
    2.5-6 kW spike at 14:00, far beyond anything the room draws in the afternoon, read as a few of
    those spreads. Each block has the statistic of `_window_stats` (larger of MAD and 99th percentile
    mapped to 2.33) around the day's centre, on that block's calibration rows; a block with fewer than
    `MIN_BLOCK_ROWS` of them takes the whole day's. Never below the whole day's MAD nor the floor of 0.05.
    """
    means = rel[calibration]
    block = (np.floor(np.nan_to_num(hours[calibration])).astype(int) % 24) // SPREAD_BLOCK_HOURS
    if not len(means):
        return []
    day_mad = 1.4826 * float(np.median(np.abs(means - centre)))
    day_tail = (float(np.quantile(means, 0.99)) - centre) / 2.33
    whole = max(day_mad, day_tail, 0.05)
    spreads = []
    for b in range(24 // SPREAD_BLOCK_HOURS):
        values = means[block == b]
        if len(values) < MIN_BLOCK_ROWS:
            spreads.append(whole)
            continue
        mad = 1.4826 * float(np.median(np.abs(values - centre)))
        tail = (float(np.quantile(values, 0.99)) - centre) / 2.33
        spreads.append(max(mad, tail, day_mad, 0.05))
    return spreads


PEER_MINIMUM = 5


def _common_mode(frame: pd.DataFrame, rel: np.ndarray) -> np.ndarray:
    """The median residual of a hostel's room meters at each moment (zero where fewer than five report).

    When most rooms of a hostel are above their baseline at once, the cause is something the model
    does not know (a cold snap, an event, a calendar change), not a problem in each room.
    """
    if "hostel_id" not in frame.columns or not len(frame):
        return np.zeros(len(rel))
    rooms = frame["is_main"].to_numpy(dtype=float) == 0
    # Moments as integers: a zone-aware column's to_numpy() builds a Timestamp object per row (18 % of
    # a detection worker's time under the load bench, py-spy); equal moments stay equal keys.
    moments = pd.DatetimeIndex(frame["ts"]).asi8
    data = pd.DataFrame({"hostel": frame["hostel_id"].to_numpy(), "ts": moments, "rel": rel})
    grouped = data[rooms].groupby(["hostel", "ts"])["rel"]
    common = grouped.median().where(grouped.count() >= PEER_MINIMUM, 0.0).clip(lower=0.0)
    keys = pd.MultiIndex.from_arrays([data["hostel"], data["ts"]])
    shift = common.reindex(keys).to_numpy()
    return np.where(rooms, np.nan_to_num(shift, nan=0.0), 0.0)


def level_rows(valid: pd.DataFrame, recent: pd.Series) -> tuple[pd.DataFrame, set[int]]:
    """The rows each meter's level (scale) and habits (hourly profile) are learnt from, and the rooms with none.

    The most recent weeks (`recent`), or all rows of a meter that has none. A room is learnt from the
    weeks someone was in: its level is the level of an occupied room, and vacancy is what the model
    learns from the occupancy features. A room learnt over a vacation would otherwise be expected at its
    standby level when its residents come back at the start of term (a flood of false excess). A room
    without two days of occupancy recently is learnt from its occupied days anywhere in the window; one
    with none at all is returned apart, its level to come from its peers.
    """
    meters = valid["meter_id"]
    basis = recent | ~meters.isin(meters[recent].unique())
    rooms = (valid["capacity"].to_numpy(dtype=float) > 0) & (valid["is_main"].to_numpy(dtype=float) == 0)
    lived = pd.Series(rooms & (presence(valid) > 0), index=valid.index)
    need = (48.0 / valid["interval_h"].astype(float)).groupby(meters).first()
    # A room's level is that of its fullest occupancy in the window: every room's scale then means the
    # same thing (the room full), and the tree learns what fewer residents use from the occupancy features.
    # A room learnt from a vacation's one or two stayers would otherwise be expected at their level when
    # its other residents move back in at the start of term (a flood of false excess).
    occupants = valid["occupants"].fillna(0.0)
    full = lived & (occupants >= occupants.groupby(meters).transform("max"))
    has_full = full.groupby(meters).sum() >= need
    occupied = full | (lived & ~meters.map(has_full).astype(bool))
    recent_occupied = (occupied & basis).groupby(meters).sum()
    any_occupied = occupied.groupby(meters).sum()
    is_room = pd.Series(rooms, index=valid.index).groupby(meters).any()
    from_recent = is_room & (recent_occupied >= need)
    from_any = is_room & ~from_recent & (any_occupied >= need)
    unoccupied = {int(str(m)) for m in is_room.index[is_room & ~from_recent & ~from_any]}
    use = (basis & ~meters.map(from_recent | from_any).astype(bool)) | (
        occupied & ((basis & meters.map(from_recent).astype(bool)) | meters.map(from_any).astype(bool))
    )
    return valid[use], unoccupied


def calibration_rows(rows: pd.DataFrame, held: np.ndarray, recent: np.ndarray | None = None) -> tuple[np.ndarray, str]:
    """The rows of one meter its residual spreads are measured on, and where they come from.

    `held` are its held-back recent rows. A room is judged by the spread of the weeks someone lives in
    it: a calibration window of vacation holds only the steady standby of an empty room, and its tiny
    spread would make every evening of the residents' return read as an excess (the start of term).
    `lived_in`: the room's occupied held-back rows. `borrow`: it has too few, so its occupied rows of the
    recent weeks (`lived_in_rows`; in sample, hence too kind), to be widened to its peers' by
    `spreads_from_lived_in`. `as_is`: not a room, or a room nobody lived in (its standby is what to expect).
    """
    capacity = float(rows["capacity"].iloc[0])
    if capacity <= 0 or float(rows["is_main"].iloc[0]) != 0:
        return held, "as_is"
    need = 48.0 / float(rows["interval_h"].iloc[0])
    occupied = presence(rows) > 0
    if (held & occupied).sum() >= need:
        return held & occupied, "lived_in"
    if occupied.sum() >= need:
        return lived_in_rows(rows, recent), "borrow"
    return held, "as_is"


def lived_in_rows(rows: pd.DataFrame, recent: np.ndarray | None) -> np.ndarray:
    """A room's occupied rows of the `recent` weeks (its level's and the held-back), or of any week when too few.

    Like its level, a room's own spread is that of its latest residents: months back the window holds other
    residents and, never scanned, their incidents (five nights of a 2 kW heater make 8 % of a block's rows,
    and the block's tail-aware spread then hides the next heater for weeks).
    """
    occupied = presence(rows) > 0
    if recent is not None and (occupied & recent).sum() >= 48.0 / float(rows["interval_h"].iloc[0]):
        return occupied & recent
    return occupied


def spreads_from_lived_in(
    meters: dict[int, MeterStats], borrowing: set[int], lived_in: set[int], bed_type: pd.Series
) -> None:
    """Rooms whose held-back weeks were empty take the residual spreads their peers showed while lived in.

    The peers are the rooms with occupied held-back rows (same bed type where there are some): their
    spreads are out of sample and of an occupied room. The borrowing room keeps its own where wider.
    Changes `meters` in place.
    """
    for meter_id in borrowing:
        same = [m for m in lived_in if bed_type.get(m) == bed_type.get(meter_id)] or list(lived_in)
        if not same:
            continue
        stats, peers = meters[meter_id], [meters[m] for m in same]
        stats.bias = float(np.median([p.bias for p in peers]))
        stats.sigma = max(stats.sigma, float(np.median([p.sigma for p in peers])))
        stats.q1 = min(stats.q1, float(np.median([p.q1 for p in peers])))
        stats.q3 = max(stats.q3, float(np.median([p.q3 for p in peers])))
        for i in range(len(stats.win_med)):
            stats.win_med[i] = float(np.median([p.win_med[i] for p in peers]))
            stats.win_scale[i] = max(stats.win_scale[i], float(np.median([p.win_scale[i] for p in peers])))
        for name in ("block_scale", "short_block_scale"):
            blocks = [getattr(p, name) for p in peers if getattr(p, name)]
            own = getattr(stats, name)
            if own and blocks:
                usual = np.median(np.asarray(blocks), axis=0)
                setattr(stats, name, [max(mine, float(peer)) for mine, peer in zip(own, usual, strict=True)])


def occupied_like_peers(
    scales: dict, profiles: dict[int, list[float]], unoccupied: set[int], bed_type: pd.Series
) -> None:
    """Rooms nobody lived in all window take the occupied level and daily shape of their peers (same beds).

    Changes `scales` and `profiles` in place; a room keeps its own where no occupied room has its bed type.
    """
    peers = [m for m in profiles if int(str(m)) not in unoccupied and int(str(m)) in bed_type.index]
    for meter_id in unoccupied:
        same = [m for m in peers if bed_type.get(m) == bed_type.get(meter_id) and m in scales]
        if not same or meter_id not in profiles:
            continue
        level = float(np.median([scales[m] for m in same]))
        shape = np.median([np.asarray(profiles[m]) / scales[m] for m in same], axis=0)
        if level > scales.get(meter_id, 0.0):
            scales[meter_id] = level
            profiles[meter_id] = [float(x) * level for x in shape]


def _cohort_key(is_main: float, bed_type: float) -> str:
    return f"{int(is_main)}:{int(bed_type)}"


def _ashrae(actual: np.ndarray, expected: np.ndarray, *, minimum: int = 24) -> tuple[float | None, float | None]:
    """CV(RMSE) and NMBE as ASHRAE Guideline 14 defines them (one parameter: n - 1)."""
    n = len(actual)
    mean = float(actual.mean()) if n else 0.0
    if n < minimum or mean <= 0:
        return None, None
    cv = float(np.sqrt(((actual - expected) ** 2).sum() / (n - 1)) / mean)
    nmbe = float((actual - expected).sum() / ((n - 1) * mean))
    return cv, nmbe


def _hourly_fit(rows: pd.DataFrame, *, daily: bool = False) -> tuple[float | None, float | None]:
    frame = rows.set_index("ts")[["kwh", "expected_h", "interval_h"]]
    frame = (
        frame.assign(exp=frame["expected_h"] * frame["interval_h"])
        .resample("1D" if daily else "1h")[["kwh", "exp"]]
        .sum()
    )
    frame = frame[frame["kwh"] > 0]
    return _ashrae(frame["kwh"].to_numpy(), frame["exp"].to_numpy(), minimum=3 if daily else 24)


def iforest_matrix(frame: pd.DataFrame, pred: Prediction) -> np.ndarray:
    """The Isolation Forest's inputs: the residual z and the electrical readings."""
    voltage = frame["voltage"].to_numpy(dtype=float)
    nominal = np.nanmedian(voltage) if np.isfinite(voltage).any() else 230.0
    return np.nan_to_num(
        np.column_stack(
            [
                np.clip(pred.z, -50, 50),
                voltage / nominal - 1.0,
                frame["current"].to_numpy(dtype=float) / 50.0,
                frame["pf"].to_numpy(dtype=float),
            ]
        ),
        nan=0.0,
    )


def room_meters_fit(valid: pd.DataFrame) -> dict[int, int]:
    """Each room's meter with the longest history (rooms only; empty when the frame does not say rooms)."""
    if "room_id" not in valid.columns:
        return {}
    rooms = valid[(valid["is_main"] == 0) & (valid["room_id"].fillna(0) > 0)]
    counts = rooms.groupby(["room_id", "meter_id"]).size().reset_index(name="n").sort_values("n")
    return {int(r): int(m) for r, m in zip(counts["room_id"], counts["meter_id"], strict=True)}
