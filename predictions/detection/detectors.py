"""Point detectors, their combination into one score, and the merge of anomalous intervals into incidents."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from meters.ingest.zeros import real_zeros
from predictions.detection.frames import MeterInfo
from predictions.ml.anomaly import Prediction

BUILDING_KINDS = frozenset({"hostel_main", "feeder"})  # meters of a whole building or feeder: mains, not rooms
CONSUMPTION_KINDS = frozenset(
    {"high_consumption", "low_consumption", "vacant_usage", "night_usage", "sustained_excess", "spike", "drift"}
)


@dataclass(frozen=True)
class DetectorConfig:
    """Which detectors run and their thresholds; evaluation switches them to measure what each earns."""

    z: float = 8.0  # one reading
    z_short: float = 6.0  # mean of the last four hours
    z_long: float = 6.0  # mean of the last day
    z_low: float = 6.0
    use_low: bool = False  # measured: mostly false alarms (residents away), see evaluate_detector --ablation
    use_iqr: bool = False
    use_seasonal: bool = False
    use_iforest: bool = False
    use_rules: bool = True
    use_windows: bool = True
    use_peers: bool = True  # remove what all rooms of a hostel share at the same moment
    min_excess_share: float = 0.5  # the excess must be at least this share of the expected value
    min_excess_kw_room: float = 0.4  # below this average excess a room incident is not worth a warden's time
    min_excess_kw_main: float = 1.0
    # An empty room has no residents' evenings to vary: what it draws above standby for hours is an appliance
    # left on (0.15 kW: 3.6 kWh a day), worth a warden's time at far less than an occupied room's excess.
    min_excess_kw_vacant: float = 0.15
    min_vacant_hours: float = 3.0
    night_hours: tuple[float, float] = (0.0, 6.0)
    flat_intervals: int = 8
    flat_hours_energy_only: float = 24.0  # a meter without voltage must repeat its reading this long to be stuck
    dead_intervals: int = 4
    voltage_band: float = 0.10
    low_pf: float = 0.78


@dataclass(frozen=True)
class MeterPolicy:
    """What feedback and the fitness gate taught us about one meter."""

    fit: bool = True
    threshold_boost: float = 0.0
    suppressed_kinds: frozenset[str] = frozenset()


@dataclass
class Candidate:
    """An incident found in a frame, before it is stored."""

    meter_id: int
    kind: str
    start_idx: int
    end_idx: int  # inclusive
    score: float
    expected_kwh: float
    actual_kwh: float
    detectors: list[str] = field(default_factory=list)
    muted: bool = False
    missing_intervals: int = 0  # a hole in the data: starts one interval after start_idx


def _runs(mask: np.ndarray, *, gap: int = 0) -> list[tuple[int, int]]:
    """Inclusive (start, end) index runs of True, bridging holes of at most `gap` False values."""
    idx = np.flatnonzero(mask)
    if not len(idx):
        return []
    breaks = np.flatnonzero(np.diff(idx) > gap + 1)
    starts = np.r_[idx[0], idx[breaks + 1]]
    ends = np.r_[idx[breaks], idx[-1]]
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def _same_value_runs(values: np.ndarray, minimum: int) -> np.ndarray:
    """True where a value repeats exactly for at least `minimum` consecutive readings."""
    n = len(values)
    if n < minimum:
        return np.zeros(n, dtype=bool)
    starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
    lengths = np.diff(np.r_[starts, n])
    return np.repeat(lengths, lengths) >= minimum


def _long_runs(mask: np.ndarray, minimum: int) -> np.ndarray:
    """True where `mask` holds for at least `minimum` consecutive readings."""
    return mask & _same_value_runs(mask.astype(np.int8), minimum)


def _gaps(ts_ns: np.ndarray, interval_minutes: int, minimum: int) -> list[tuple[int, int]]:
    """(index of the reading before, number of missing intervals) for holes of at least `minimum` intervals."""
    if len(ts_ns) < 2:
        return []
    step = interval_minutes * 60 * 1_000_000_000
    missing = np.diff(ts_ns) // step - 1
    where = np.flatnonzero(missing >= minimum)
    return [(int(i), int(missing[i])) for i in where]


def _score(z: float, threshold: float) -> float:
    """Map a z-like strength to 0..1: 0.5 at the threshold, near 1 at three times it."""
    return float(1.0 - 0.5 * np.exp(-max(z - threshold, 0.0) / max(threshold, 1e-6)))


def consumption_strength(*, pred: Prediction, config: DetectorConfig) -> np.ndarray:
    """Each reading's strongest evidence of excess (its own z, or its four-hour or day window's) on the scale of `z`."""
    return np.maximum(pred.z, np.maximum(pred.z_short, pred.z_long) * config.z / max(config.z_short, 1e-6))


def consumption_flags(
    *, frame: pd.DataFrame, pred: Prediction, config: DetectorConfig, boost: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """High and low consumption flags per reading, and the combined strength used for the score."""
    kwh = frame["kwh"].to_numpy(dtype=float)
    excess = kwh - pred.expected
    threshold = config.z + boost
    strength = consumption_strength(pred=pred, config=config)
    high = (pred.z >= threshold) & (excess >= config.min_excess_share * pred.expected)
    if config.use_iqr:
        high |= pred.iqr_out & (pred.z > 0) & (excess >= config.min_excess_share * pred.expected)
    if config.use_seasonal:
        seasonal = (pred.seasonal_z >= threshold) & (pred.z >= threshold / 2)
        high |= seasonal
        strength = np.maximum(strength, pred.seasonal_z)
    if config.use_iforest:
        corroborated = (pred.iforest > 0) & (pred.z >= threshold / 2)
        high |= corroborated
    low = (pred.z <= -(config.z_low + boost) / 2) & (kwh > 0)
    return high, low, strength


def frame_candidates(
    *,
    frame: pd.DataFrame,
    pred: Prediction,
    infos: dict[int, MeterInfo],
    policies: dict[int, MeterPolicy],
    config: DetectorConfig,
) -> list[Candidate]:
    """Run every detector on a frame sorted by meter and time; return merged incidents."""
    candidates: list[Candidate] = []
    if frame.empty:
        return candidates
    meter_ids = frame["meter_id"].to_numpy()
    boost = np.array([policies.get(int(m), MeterPolicy()).threshold_boost for m in meter_ids])
    high, low, strength = consumption_flags(frame=frame, pred=pred, config=config, boost=boost)
    kwh = frame["kwh"].to_numpy(dtype=float)
    voltage = frame["voltage"].to_numpy(dtype=float)
    pf = frame["pf"].to_numpy(dtype=float)
    ts_ns = frame["ts"].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy().astype("datetime64[ns]").astype(np.int64)
    gaps: list[tuple[int, int, int]] = []
    hour = frame["hour"].to_numpy(dtype=float)
    occupants = frame["occupants"].to_numpy(dtype=float)
    bounds = np.flatnonzero(np.r_[True, meter_ids[1:] != meter_ids[:-1], True])
    for a_, b_ in itertools.pairwise(bounds):
        a, b = int(a_), int(b_)
        meter_id = int(meter_ids[a])
        info = infos[meter_id]
        policy = policies.get(meter_id, MeterPolicy())
        sl = slice(a, b)

        def add(
            kind: str,
            runs: list[tuple[int, int]],
            strength_of: np.ndarray,
            threshold: float,
            name: str,
            a: int = a,
            meter_id: int = meter_id,
            policy: MeterPolicy = policy,
        ) -> None:
            for s, e in runs:
                lo, hi = a + s, a + e
                peak = float(np.nanmax(strength_of[s : e + 1])) if e >= s else threshold
                candidates.append(
                    Candidate(
                        meter_id=meter_id,
                        kind=kind,
                        start_idx=lo,
                        end_idx=hi,
                        score=_score(peak, threshold),
                        expected_kwh=float(np.nansum(pred.expected[lo : hi + 1])),
                        actual_kwh=float(np.nansum(kwh[lo : hi + 1])),
                        detectors=[name],
                        muted=(kind in policy.suppressed_kinds)
                        or (not policy.fit and kind in CONSUMPTION_KINDS)
                        or (not bool(pred.fit[lo]) and kind in CONSUMPTION_KINDS),
                    )
                )

        m_kwh = kwh[sl]
        threshold = config.z + float(boost[a])
        # Rules first: a dead or stuck meter must not also read as low or high consumption.
        dead = np.zeros(b - a, dtype=bool)
        stuck = np.zeros(b - a, dtype=bool)
        if config.use_rules:
            zero = (m_kwh == 0) | np.isnan(m_kwh)
            if info.kind in BUILDING_KINDS:
                # A net meter reads 0 while its building's solar panels cover it: zeros the readings fall to
                # and rise from within hours are readings, not a stopped meter (rooms have no panels).
                zero &= ~real_zeros(kwh=m_kwh, interval_minutes=info.interval_minutes)
            dead = _long_runs(zero, config.dead_intervals)
            add("dead_meter", _runs(dead), np.full(b - a, 2.0), 1.0, "rule_dead")
            for gap_start, gap_end in _gaps(ts_ns[sl], info.interval_minutes, config.dead_intervals):
                gaps.append((meter_id, a + gap_start, gap_end))
            # A stuck meter repeats its whole reading (energy and voltage), not just a low energy value.
            m_volts = voltage[sl]
            with_voltage = not np.isnan(m_volts).all()
            # Energy alone, often in steps of 0.1 kWh (most exports): an idle building's readings repeat for a
            # night or a closed weekend morning (up to 22 h in the Cambridge archive). Only a whole day at one
            # value, through the daily rhythm every building has, is a stuck meter.
            per_day = round(config.flat_hours_energy_only * 60 / info.interval_minutes)
            stuck = (m_kwh > 0) & _same_value_runs(
                m_kwh, config.flat_intervals if with_voltage else max(config.flat_intervals, per_day)
            )
            if with_voltage:
                stuck &= _same_value_runs(m_volts, config.flat_intervals)
            add("flat_line", _runs(stuck), np.full(b - a, 2.0), 1.0, "rule_flat_line")
            impossible = (m_kwh < 0) | (m_kwh > info.rated_kw * info.interval_minutes / 60.0 * 1.5)
            add("register_reset", _runs(impossible), np.full(b - a, 3.0), 1.0, "rule_impossible")
            # Against the nominal (EN 50160: +-10 %) or against the meter's own last day, whichever is tighter.
            usual = pd.Series(m_volts).rolling(96, min_periods=8).median().to_numpy()
            usual = np.where(np.isnan(usual), info.nominal_voltage, usual)
            band = config.voltage_band
            sag = (m_volts < info.nominal_voltage * (1 - band)) | (m_volts < usual * (1 - band * 0.6))
            swell = (m_volts > info.nominal_voltage * (1 + band)) | (m_volts > usual * (1 + band * 0.6))
            add("voltage_sag", _runs(sag & ~stuck, gap=1), (1 - m_volts / usual) / band, 0.6, "rule_voltage")
            add("voltage_swell", _runs(swell & ~stuck, gap=1), (m_volts / usual - 1) / band, 0.6, "rule_voltage")
            m_pf = pf[sl]
            low_pf = (m_pf < config.low_pf) & (m_kwh > 0) & ~stuck
            runs = [(s, e) for s, e in _runs(low_pf, gap=2) if e - s >= 3]
            add("low_power_factor", runs, config.low_pf / np.maximum(m_pf, 0.05), 1.0, "rule_power_factor")
        valid = ~(dead | stuck) & ~np.isnan(m_kwh)
        m_high = high[sl] & valid
        m_z = pred.z[sl]
        if config.use_windows:
            # Sustained excess: a window's mean is far above its usual level; mark the readings that carry it.
            carrying = valid & (m_z >= 1.0)
            windows = (pred.z_short[sl] >= config.z_short + float(boost[a])) | (
                pred.z_long[sl] >= config.z_long + float(boost[a])
            )
            m_high = m_high | (windows & carrying)
        for s, e in _runs(m_high, gap=2):
            lo, hi = a + s, a + e
            intervals = e - s + 1
            hours = intervals * info.interval_minutes / 60.0
            peak = float(strength[lo : hi + 1].max())
            if intervals == 1 and peak < threshold * 1.5:
                continue  # a lone reading must be a clear spike
            excess_kw = float(np.nansum(kwh[lo : hi + 1] - pred.expected[lo : hi + 1])) / hours
            floor = config.min_excess_kw_room if info.kind == "room" else config.min_excess_kw_main
            # A drift over days matters at a lower power than a burst of a few hours.
            floor *= 0.4 if hours >= 48 else 1.0
            if info.kind == "room" and hours >= config.min_vacant_hours and _vacant(occupants[lo : hi + 1]):
                floor = min(floor, config.min_excess_kw_vacant)
            if excess_kw < floor:
                continue
            kind = _classify(
                hours=hours,
                hour=hour[lo : hi + 1],
                occupants=occupants[lo : hi + 1],
                is_room=info.kind == "room",
                ratio=pred.z[lo : hi + 1],
                night=config.night_hours,
            )
            add(kind, [(s, e)], strength[sl], threshold, "residual_z")
        m_low = low[sl] & valid & (pred.z_long[sl] <= -config.z_low) if config.use_low else np.zeros(b - a, dtype=bool)
        low_runs = [(s, e) for s, e in _runs(m_low, gap=1) if e - s + 1 >= 8]
        add("low_consumption", low_runs, -pred.z[sl], config.z_low, "residual_z")
    for meter_id, before, missing in gaps:
        policy = policies.get(meter_id, MeterPolicy())
        candidates.append(
            Candidate(
                meter_id=meter_id,
                kind="dead_meter",
                start_idx=before,
                end_idx=before,
                score=_score(2.0, 1.0),
                expected_kwh=float(pred.expected[before]) * missing,
                actual_kwh=0.0,
                detectors=["rule_missing"],
                muted="dead_meter" in policy.suppressed_kinds,
                missing_intervals=missing,
            )
        )
    return candidates


def _vacant(occupants: np.ndarray) -> bool:
    """Nobody on the room's roster at any reading (unknown occupancy counts as someone in)."""
    return bool(len(occupants)) and float(np.nanmax(np.nan_to_num(occupants, nan=1.0))) == 0.0


def _classify(
    *,
    hours: float,
    hour: np.ndarray,
    occupants: np.ndarray,
    is_room: bool,
    ratio: np.ndarray,
    night: tuple[float, float],
) -> str:
    if is_room and _vacant(occupants):
        return "vacant_usage"
    if hours <= 1.0:
        return "spike"
    at_night = (hour >= night[0]) & (hour < night[1])
    if hours <= 12 and at_night.mean() >= 0.6:
        return "night_usage"
    if hours >= 48:
        half = len(ratio) // 2
        if np.median(ratio[half:]) > 1.5 * max(np.median(ratio[:half]), 0.1):
            return "drift"
    if hours >= 3:
        return "sustained_excess"
    return "high_consumption"
