"""Expected consumption of every meter, with a prediction band: the baseline anomaly detection compares against.

One gradient-boosted model for all meters of a campus (time of week, temperature, degree-hours,
occupancy, bed type, calendar) predicts consumption relative to each meter's own scale, with a
robust (absolute-error) objective so incidents in the history do not teach it that they are
normal. Each meter gets a residual scale (MAD) for its band, ASHRAE Guideline 14 fit metrics on a
held-back recent window, and a tier: `own` when it has enough history, `cohort` (the scale of
meters of its kind and bed type) when it has little, `profile` (its own hour-of-day median) when
there is no cohort either.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.ensemble import IsolationForest

from predictions.ml.artifacts import artifact_read, artifact_write

FEATURES = ["hour", "dow", "temp", "hdd", "cdd", "occupants", "occ_ratio", "bed_type", "is_main", "calendar", "weekend"]
CV_RMSE_GATE = 0.30
NMBE_GATE = 0.10
MIN_DAYS_OWN = 7
MAX_TRAIN_ROWS = 400_000
HOLDOUT_DAYS = 7
DENOM_FLOOR = 0.2  # share of the meter's mean added to the denominator of the relative residual


def features(frame: pd.DataFrame) -> np.ndarray:
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
    gate_cv_rmse: float | None = None
    gate_nmbe: float | None = None
    profile: list[float] = field(default_factory=list)  # 24 hourly medians of kWh per hour
    profile_sigma: float = 0.3


@dataclass
class Prediction:
    expected: np.ndarray  # kWh per interval
    denom: np.ndarray  # kWh per interval: divides the residual into a relative residual
    z: np.ndarray  # robust z of the relative residual
    iqr_out: np.ndarray  # relative residual outside the meter's 3 x IQR fences
    seasonal_z: np.ndarray  # robust z against the meter's own hour-of-day profile
    iforest: np.ndarray  # Isolation Forest anomaly score (higher = more anomalous), 0 when not trained
    tier: np.ndarray
    fit: np.ndarray


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
    frame = frame.assign(exp=frame["expected_h"] * frame["interval_h"]).resample("1D" if daily else "1h")[["kwh", "exp"]].sum()
    frame = frame[frame["kwh"] > 0]
    return _ashrae(frame["kwh"].to_numpy(), frame["exp"].to_numpy(), minimum=3 if daily else 24)


class AnomalyBaseline:
    """Expected consumption and residual scales for the meters of a campus."""

    FAMILY = "anomaly"
    FORMAT_VERSION = 1

    def __init__(self, *, n_estimators: int = 120, max_depth: int = 6, learning_rate: float = 0.1, seed: int = 0):
        self.params: dict[str, Any] = {
            "n_estimators": n_estimators,
            "max_depth": max_depth,
            "learning_rate": learning_rate,
            "seed": seed,
            "objective": "reg:absoluteerror",
        }
        self.booster: xgb.Booster | None = None
        self.meters: dict[int, MeterStats] = {}
        self.cohorts: dict[str, tuple[float, float]] = {}
        self.iforest: IsolationForest | None = None
        self.iforest_offset: float = 0.0
        self.metrics: dict[str, Any] = {}
        self.train_start: dt.datetime | None = None
        self.train_end: dt.datetime | None = None
        self.training_seconds: float = 0.0

    # --- training ---------------------------------------------------------------------------

    def train(self, frame: pd.DataFrame, *, holdout_days: int = HOLDOUT_DAYS) -> dict[str, Any]:
        began = time.perf_counter()
        valid = frame[(frame["kwh"] > 0) & frame["kwh"].notna()].copy()
        if valid.empty:
            raise ValueError("no readings to train on")
        valid["kwh_h"] = valid["kwh"] / valid["interval_h"]
        self.train_start = valid["ts"].min().to_pydatetime()
        self.train_end = valid["ts"].max().to_pydatetime()
        grouped = valid.groupby("meter_id")
        first, last = grouped["ts"].min(), grouped["ts"].max()
        days = ((last - first).dt.total_seconds() / 86400.0).to_dict()
        clip = grouped["kwh_h"].transform(lambda s: s.clip(upper=s.quantile(0.99)))
        scales = clip.groupby(valid["meter_id"]).mean().to_dict()
        valid["scale"] = valid["meter_id"].map(scales)
        cut = pd.Timestamp(self.train_end) - pd.Timedelta(days=holdout_days)
        fit_rows = valid[(valid["ts"] < cut) | (valid["meter_id"].map(days) < holdout_days * 2)]
        if len(fit_rows) < 200:
            fit_rows = valid
        if len(fit_rows) > MAX_TRAIN_ROWS:
            fit_rows = fit_rows.sample(MAX_TRAIN_ROWS, random_state=self.params["seed"])
        dtrain = xgb.DMatrix(features(fit_rows), label=(fit_rows["kwh_h"] / fit_rows["scale"]).to_numpy())
        self.booster = xgb.train(
            {
                "objective": self.params["objective"],
                "max_depth": self.params["max_depth"],
                "eta": self.params["learning_rate"],
                "subsample": 0.8,
                "nthread": 1,
                "seed": self.params["seed"],
                "tree_method": "hist",
            },
            dtrain,
            num_boost_round=self.params["n_estimators"],
        )
        valid["expected_h"] = self._raw(valid) * valid["scale"].to_numpy()
        rel = (valid["kwh_h"] - valid["expected_h"]) / (valid["expected_h"] + DENOM_FLOOR * valid["scale"])
        valid["rel"] = rel
        holdout = valid["ts"] >= cut
        self.meters = {}
        for meter_id, rows in valid.groupby("meter_id"):
            r = rows["rel"].to_numpy()
            bias = float(np.median(r))
            sigma = max(float(1.4826 * np.median(np.abs(r - bias))), 0.03)
            q1, q3 = (float(x) for x in np.quantile(r, [0.25, 0.75]))
            hours = np.floor(rows["hour"].to_numpy()).astype(int)
            kwh_h = rows["kwh_h"].to_numpy()
            profile = [
                float(np.median(kwh_h[hours == h])) if (hours == h).any() else float(np.median(kwh_h))
                for h in range(24)
            ]
            prof = np.array(profile)[hours]
            prel = (kwh_h - prof) / (prof + DENOM_FLOOR * scales[meter_id])
            tier = "own" if days[meter_id] >= MIN_DAYS_OWN else "cohort"
            stats = MeterStats(
                scale=float(scales[meter_id]),
                sigma=sigma,
                bias=bias,
                q1=q1,
                q3=q3,
                tier=tier,
                days=float(days[meter_id]),
                profile=profile,
                profile_sigma=max(float(1.4826 * np.median(np.abs(prel - np.median(prel)))), 0.03),
            )
            held = rows[holdout.loc[rows.index]]
            if len(held):
                stats.cv_rmse, stats.nmbe = _hourly_fit(held)
            # The gate judges the model, not the meter's incidents: it uses the whole history minus the
            # readings the detector itself calls abnormal (|z| >= 5), so an incident cannot mute its own meter.
            # ASHRAE Guideline 14 is written for whole buildings: main meters are gated hourly. A single room
            # is a few people switching appliances, so its hourly CV(RMSE) is mostly noise no model can
            # explain; rooms are gated on daily totals with the same limits.
            clean = rows[np.abs((r - bias) / sigma) < 5]
            gate_cv, gate_nmbe = _hourly_fit(clean, daily=not bool(rows["is_main"].iloc[0]))
            stats.gate_cv_rmse, stats.gate_nmbe = gate_cv, gate_nmbe
            if gate_cv is not None and gate_nmbe is not None:
                stats.fit = gate_cv <= CV_RMSE_GATE and abs(gate_nmbe) <= NMBE_GATE
            self.meters[int(meter_id)] = stats
        cohort_frame = pd.DataFrame(
            [(k, rows["is_main"].iloc[0], rows["bed_type"].iloc[0]) for k, rows in valid.groupby("meter_id")],
            columns=["meter_id", "is_main", "bed_type"],
        )
        self.cohorts = {}
        for (is_main, bed_type), members in cohort_frame.groupby(["is_main", "bed_type"]):
            own = [self.meters[int(m)] for m in members["meter_id"] if self.meters[int(m)].tier == "own"]
            if own:
                self.cohorts[_cohort_key(is_main, bed_type)] = (
                    float(np.median([s.scale for s in own])),
                    float(np.median([s.sigma for s in own])) * 1.5,
                )
        for stats, (_, rows) in zip(self.meters.values(), valid.groupby("meter_id"), strict=True):
            if stats.tier == "cohort":
                cohort = self.cohorts.get(_cohort_key(rows["is_main"].iloc[0], rows["bed_type"].iloc[0]))
                if cohort is None:
                    stats.tier = "profile"
                else:
                    stats.sigma = max(stats.sigma, cohort[1])
        self._train_iforest(frame.sample(min(len(frame), 50_000), random_state=self.params["seed"]))
        self.metrics = self._summary(valid, holdout)
        self.training_seconds = time.perf_counter() - began
        self.metrics["training_seconds"] = round(self.training_seconds, 3)
        return self.metrics

    def _train_iforest(self, sample: pd.DataFrame) -> None:
        if len(sample) < 100:
            self.iforest = None
            return
        pred = self.predict(sample, with_iforest=False)
        x = self._iforest_matrix(sample, pred)
        self.iforest = IsolationForest(n_estimators=100, max_samples=512, random_state=self.params["seed"], n_jobs=1)
        self.iforest.fit(x)
        scores = -self.iforest.score_samples(x)
        self.iforest_offset = float(np.quantile(scores, 0.999))

    @staticmethod
    def _iforest_matrix(frame: pd.DataFrame, pred: Prediction) -> np.ndarray:
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

    def _summary(self, valid: pd.DataFrame, holdout: pd.Series) -> dict[str, Any]:
        stats = list(self.meters.values())
        cvs = [s.cv_rmse for s in stats if s.cv_rmse is not None]
        held = valid[holdout]
        overall_cv, overall_nmbe = (None, None)
        if len(held):
            overall_cv, overall_nmbe = _ashrae(held["kwh_h"].to_numpy(), held["expected_h"].to_numpy())
        return {
            "meters": len(stats),
            "fit_meters": sum(1 for s in stats if s.fit),
            "tiers": {t: sum(1 for s in stats if s.tier == t) for t in ("own", "cohort", "profile")},
            "median_cv_rmse": float(np.median(cvs)) if cvs else None,
            "holdout_cv_rmse": overall_cv,
            "holdout_nmbe": overall_nmbe,
            "holdout_mae_rel": float(np.median(np.abs(valid.loc[holdout, "rel"]))) if holdout.any() else None,
            "training_rows": len(valid),
        }

    # --- prediction -------------------------------------------------------------------------

    def _raw(self, frame: pd.DataFrame) -> np.ndarray:
        if self.booster is None:
            return np.ones(len(frame))
        return np.maximum(self.booster.predict(xgb.DMatrix(features(frame))), 0.0)

    def stats_for(
        self, meter_id: int, *, is_main: float, bed_type: float, own_kwh_h: np.ndarray | None = None
    ) -> MeterStats:
        """The meter's stats; a meter the model never saw falls back to its cohort, then to its own profile."""
        known = self.meters.get(meter_id)
        if known is not None:
            return known
        cohort = self.cohorts.get(_cohort_key(is_main, bed_type))
        if cohort is not None:
            return MeterStats(
                scale=cohort[0], sigma=cohort[1], bias=0.0, q1=-cohort[1], q3=cohort[1], tier="cohort", days=0
            )
        level = float(np.median(own_kwh_h)) if own_kwh_h is not None and len(own_kwh_h) else 0.1
        return MeterStats(
            scale=max(level, 1e-3), sigma=0.5, bias=0.0, q1=-0.5, q3=0.5, tier="profile", days=0, profile=[level] * 24
        )

    def predict(self, frame: pd.DataFrame, *, with_iforest: bool = True) -> Prediction:
        n = len(frame)
        raw = self._raw(frame)
        meter_ids = frame["meter_id"].to_numpy()
        interval_h = frame["interval_h"].to_numpy(dtype=float)
        kwh_h = frame["kwh"].to_numpy(dtype=float) / interval_h
        hours = np.floor(frame["hour"].to_numpy(dtype=float)).astype(int) % 24
        scale, sigma, bias, q1, q3 = (np.zeros(n) for _ in range(5))
        profile, psigma = np.zeros(n), np.ones(n)
        tier = np.empty(n, dtype=object)
        fit = np.ones(n, dtype=bool)
        use_profile = np.zeros(n, dtype=bool)
        is_main = frame["is_main"].to_numpy(dtype=float)
        bed = frame["bed_type"].to_numpy(dtype=float)
        # Readings are sorted by meter: slice per meter instead of boolean masks.
        bounds = np.flatnonzero(np.r_[True, meter_ids[1:] != meter_ids[:-1], True])
        for a, b in zip(bounds[:-1], bounds[1:], strict=False):
            own = kwh_h[a:b]
            s = self.stats_for(int(meter_ids[a]), is_main=is_main[a], bed_type=bed[a], own_kwh_h=own[own > 0])
            scale[a:b], sigma[a:b], bias[a:b], q1[a:b], q3[a:b] = s.scale, s.sigma, s.bias, s.q1, s.q3
            tier[a:b], fit[a:b] = s.tier, s.fit
            prof = np.asarray(s.profile) if s.profile else np.full(24, s.scale)
            profile[a:b], psigma[a:b] = prof[hours[a:b]], s.profile_sigma
            use_profile[a:b] = s.tier == "profile"
        expected_h = np.where(use_profile, profile, raw * scale)
        denom_h = expected_h + DENOM_FLOOR * scale
        rel = (kwh_h - expected_h) / denom_h
        z = (rel - np.where(use_profile, 0.0, bias)) / sigma
        iqr = q3 - q1
        iqr_out = (rel > q3 + 3 * iqr) | (rel < q1 - 3 * iqr)
        seasonal_z = (kwh_h - profile) / (profile + DENOM_FLOOR * scale) / psigma
        prediction = Prediction(
            expected=expected_h * interval_h,
            denom=denom_h * interval_h,
            z=np.nan_to_num(z, nan=0.0),
            iqr_out=iqr_out,
            seasonal_z=np.nan_to_num(seasonal_z, nan=0.0),
            iforest=np.zeros(n),
            tier=tier,
            fit=fit,
        )
        if with_iforest and self.iforest is not None and n:
            scores = -self.iforest.score_samples(self._iforest_matrix(frame, prediction))
            prediction.iforest = scores - self.iforest_offset
        return prediction

    # --- persistence ------------------------------------------------------------------------

    def save(self, name: str) -> str:
        payload = {k: v for k, v in self.__dict__.items() if k != "booster"}
        payload["booster"] = bytes(self.booster.save_raw("ubj")) if self.booster is not None else None
        artifact_write(name=name, family=self.FAMILY, format_version=self.FORMAT_VERSION, payload=payload)
        return name

    @classmethod
    def load(cls, name: str) -> AnomalyBaseline:
        payload = dict(artifact_read(name=name, family=cls.FAMILY, format_version=cls.FORMAT_VERSION))
        model = cls()
        raw = payload.pop("booster")
        model.__dict__.update(payload)
        if raw is not None:
            model.booster = xgb.Booster(params={"nthread": 1})
            model.booster.load_model(bytearray(raw))
        return model
