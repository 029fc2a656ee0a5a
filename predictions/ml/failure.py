"""Transformer failure risk: XGBoost on rolling-window load, voltage and history features, calibrated
with isotonic regression on a later, held-out stretch of time, explained by xgboost's own
per-feature contributions (pred_contribs).

Label: a failure event within the 30 days after the snapshot date. Snapshots are weekly. The split
is by time (train on the earliest 60% of snapshot dates, calibrate on the next 20%, score on the
last 20%), so a transformer's neighbouring weeks never sit on both sides of a metric.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import brier_score_loss, roc_auc_score

from predictions.ml.failure_condition import CONDITION_FEATURES, condition_features

FAMILY = "failure"
FORMAT_VERSION = 3  # 2: low-voltage hours, time since the last fault and failure; 3: condition telemetry
HORIZON_DAYS = 30
LOW_VOLTAGE = 0.94  # of nominal: the statutory lower limit (230 V -6 %) under which equipment is stressed
FEATURES = [
    "age_years",
    "capacity_kva",
    "load_factor_30d",
    "hours_above_rating_30d",
    "hours_above_90pct_7d",
    "peak_over_capacity_30d",
    "mean_utilisation_30d",
    "voltage_excursions_30d",
    "power_factor_30d",
    "ambient_max_30d",
    "hot_overload_hours_30d",
    "faults_30d",
    "faults_365d",
    "failures_history",
    "days_since_maintenance",
    "low_voltage_hours_30d",
    "days_since_fault",
    "days_since_failure",
    "top_oil_excess_7d",
    "top_oil_max_7d",
    "dissolved_gas_ppm",
    "gas_rise_per_day_30d",
]
# How a factor reads to a facility manager: its value in words.
FEATURE_LABELS = {
    "age_years": "age {value:.0f} years",
    "capacity_kva": "rated {value:.0f} kVA",
    "load_factor_30d": "load factor {value:.2f} over 30 days",
    "hours_above_rating_30d": "{value:.0f} h above its rating in 30 days",
    "hours_above_90pct_7d": "{value:.0f} h above 90 % of rating in 7 days",
    "peak_over_capacity_30d": "peak {value:.0%} of rating in 30 days",
    "mean_utilisation_30d": "mean load {value:.0%} of rating over 30 days",
    "voltage_excursions_30d": "{value:.0f} h outside ±10 % voltage in 30 days",
    "power_factor_30d": "power factor {value:.2f} over 30 days",
    "ambient_max_30d": "hottest hour {value:.0f} °C in 30 days",
    "hot_overload_hours_30d": "{value:.0f} h above 90 % in hot weather in 30 days",
    "faults_30d": "{value:.0f} faults in 30 days",
    "faults_365d": "{value:.0f} faults in a year",
    "failures_history": "{value:.0f} earlier failures",
    "days_since_maintenance": "{value:.0f} days since maintenance",
    "low_voltage_hours_30d": "{value:.0f} h below 94 % voltage in 30 days",
    "days_since_fault": "{value:.0f} days since the last fault",
    "days_since_failure": "{value:.0f} days since the last outage",
    "top_oil_excess_7d": "top oil {value:+.1f} °C against what load and weather explain (7 days)",
    "top_oil_max_7d": "top oil up to {value:.0f} °C in 7 days",
    "dissolved_gas_ppm": "dissolved gas {value:.0f} ppm",
    "gas_rise_per_day_30d": "dissolved gas {value:+.1f} ppm a day over 30 days",
}
NEVER_LABELS = {
    "days_since_maintenance": "no maintenance on record",
    "days_since_fault": "no fault on record",
    "days_since_failure": "no outage on record",
}


def factor_label(feature: str, value: float | None) -> str:
    """A factor in words; the feature name itself when the value is missing (-1) or unknown."""
    if value is not None and value >= 3650 and feature in NEVER_LABELS:
        return NEVER_LABELS[feature]
    template = FEATURE_LABELS.get(feature)
    if template is None or value is None or value == -1:
        return feature.replace("_", " ")
    return template.format(value=value)


# Physics and experience, not the data, say which way some features push the risk: more overload, low
# voltage, age and faults never make a failure less likely. Constraining the trees so stops them from
# learning a season's quirks (measured, pooled out-of-time ROC AUC on the large campus: 0.80 -> 0.82).
MONOTONE = {
    "age_years": 1,
    "hours_above_rating_30d": 1,
    "hours_above_90pct_7d": 1,
    "peak_over_capacity_30d": 1,
    "mean_utilisation_30d": 1,
    "voltage_excursions_30d": 1,
    "hot_overload_hours_30d": 1,
    "faults_30d": 1,
    "faults_365d": 1,
    "failures_history": 1,
    "low_voltage_hours_30d": 1,
    "days_since_fault": -1,
    "capacity_kva": -1,
    "top_oil_excess_7d": 1,
    "top_oil_max_7d": 1,
    "dissolved_gas_ppm": 1,
    "gas_rise_per_day_30d": 1,
}
XGB_PARAMS: dict[str, Any] = {
    "objective": "binary:logistic",
    "max_depth": 3,
    "learning_rate": 0.08,
    "subsample": 0.9,
    "min_child_weight": 2,
    "nthread": 1,
    "seed": 0,
    "eval_metric": "logloss",
    "monotone_constraints": "(" + ",".join(str(MONOTONE.get(name, 0)) for name in FEATURES) + ")",
}
ROUNDS = 200


@dataclass
class TransformerHistory:
    """Everything the features need about one transformer."""

    pk: int
    capacity_kva: float
    installed_year: int
    hourly: pd.DataFrame  # UTC hourly index; columns kw, voltage_min, voltage_max, nominal, power_factor, temp
    events: list[tuple[pd.Timestamp, str]]  # (occurred_at UTC, kind)
    # Condition readings: UTC index (measured_at), columns top_oil_c, dissolved_gas_ppm; None when it has none.
    condition: pd.DataFrame | None = None


def snapshot_features(history: TransformerHistory, dates: pd.DatetimeIndex) -> pd.DataFrame:
    """Feature rows for each as-of date (midnight UTC; data strictly before it), from daily aggregates."""
    frame = history.hourly
    capacity = max(history.capacity_kva, 1.0)
    pf = (
        frame["power_factor"].fillna(0.95).clip(lower=0.5)
        if "power_factor" in frame
        else pd.Series(0.95, index=frame.index)
    )
    util = (frame["kw"] / pf) / capacity
    nominal = frame["nominal"].fillna(230.0) if "nominal" in frame else pd.Series(230.0, index=frame.index)
    low = frame["voltage_min"] if "voltage_min" in frame else pd.Series(np.nan, index=frame.index)
    high = frame["voltage_max"] if "voltage_max" in frame else pd.Series(np.nan, index=frame.index)
    temp = frame["temp"] if "temp" in frame else pd.Series(np.nan, index=frame.index)
    day = pd.DatetimeIndex(frame.index).floor("D")
    daily = (
        pd.DataFrame(
            {
                "above": (util > 1.0).astype(float),
                "above90": (util > 0.9).astype(float),
                "peak": util,
                "sum": util,
                "count": util.notna().astype(float),
                "excursion": ((low < 0.9 * nominal) | (high > 1.1 * nominal)).astype(float),
                "low_voltage": (low < LOW_VOLTAGE * nominal).astype(float),
                "pf": pf,
                "temp": temp,
                "hot": ((util > 0.9) & (temp > 25)).astype(float),
            }
        )
        .groupby(day)
        .agg(
            {
                "above": "sum",
                "above90": "sum",
                "peak": "max",
                "sum": "sum",
                "count": "sum",
                "excursion": "sum",
                "low_voltage": "sum",
                "pf": "mean",
                "temp": "max",
                "hot": "sum",
            }
        )
    )
    grid = pd.date_range(min(daily.index.min(), dates.min() - pd.Timedelta(days=31)), dates.max(), freq="D")
    daily = daily.reindex(grid)
    # Windows end the day before each snapshot date: shift by one day so the date itself is excluded.
    r30 = daily.rolling(30, min_periods=1)
    r7 = daily.rolling(7, min_periods=1)
    shifted = pd.DataFrame(
        {
            "hours_above_rating_30d": r30["above"].sum(),
            "hours_above_90pct_7d": r7["above90"].sum(),
            "peak_over_capacity_30d": r30["peak"].max(),
            "mean_utilisation_30d": r30["sum"].sum() / r30["count"].sum().replace(0, np.nan),
            "voltage_excursions_30d": r30["excursion"].sum(),
            "low_voltage_hours_30d": r30["low_voltage"].sum(),
            "power_factor_30d": r30["pf"].mean(),
            "ambient_max_30d": r30["temp"].max(),
            "hot_overload_hours_30d": r30["hot"].sum(),
        }
    ).shift(1)
    rows = shifted.reindex(dates)
    rows["load_factor_30d"] = rows["mean_utilisation_30d"] / rows["peak_over_capacity_30d"].replace(0, np.nan)
    rows["age_years"] = dates.year - history.installed_year
    rows["capacity_kva"] = capacity
    failures = np.array(sorted(t.value for t, kind in history.events if kind == "failure"), dtype="int64")
    faults = np.array(sorted(t.value for t, kind in history.events if kind == "fault"), dtype="int64")
    maintenance = np.array(
        sorted(t.value for t, kind in history.events if kind in ("inspection", "repair")), dtype="int64"
    )
    at = dates.as_unit("ns").asi8
    day_ns = 86_400 * 10**9
    rows["faults_30d"] = np.searchsorted(faults, at) - np.searchsorted(faults, at - 30 * day_ns)
    rows["faults_365d"] = np.searchsorted(faults, at) - np.searchsorted(faults, at - 365 * day_ns)
    rows["failures_history"] = np.searchsorted(failures, at)
    last = np.searchsorted(maintenance, at) - 1
    previous = maintenance[np.maximum(last, 0)] if len(maintenance) else np.zeros(len(at), dtype="int64")
    rows["days_since_maintenance"] = np.where(last >= 0, (at - previous) / day_ns, 3650.0)
    rows["days_since_fault"] = _days_since(faults, at)
    outages = np.array(sorted(t.value for t, kind in history.events if kind in ("failure", "repair")), dtype="int64")
    rows["days_since_failure"] = _days_since(outages, at)
    condition = condition_features(history.condition, util=util, temp=temp, dates=dates)
    for name in condition.columns:
        rows[name] = condition[name].to_numpy()
    return rows[FEATURES].astype(float)


def _days_since(events: np.ndarray, at: np.ndarray, *, never: float = 3650.0) -> np.ndarray:
    """Days from the latest event strictly before each time in `at` (ns); `never` when there is none."""
    last = np.searchsorted(events, at) - 1
    if not len(events):
        return np.full(len(at), never)
    return np.where(last >= 0, (at - events[np.maximum(last, 0)]) / (86_400 * 10**9), never)


def snapshot_labels(history: TransformerHistory, dates: pd.DatetimeIndex) -> np.ndarray:
    failures = [t for t, kind in history.events if kind == "failure"]
    return np.array(
        [any(date <= t < date + pd.Timedelta(days=HORIZON_DAYS) for t in failures) for date in dates], dtype=float
    )


def precision_at_top(y: np.ndarray, p: np.ndarray, share: float = 0.1) -> float:
    n = max(1, int(np.ceil(len(p) * share)))
    top = np.argsort(-p, kind="stable")[:n]
    return float(np.mean(y[top]))


class FailureRiskModel:
    """XGBoost + isotonic calibration; `predict` returns probabilities and top factors."""

    FORMAT_VERSION = FORMAT_VERSION

    def __init__(self) -> None:
        self.booster: Any = None
        self.calibrator: IsotonicRegression | None = None
        self.metrics: dict[str, Any] = {}

    def train(self, features: pd.DataFrame, labels: np.ndarray, dates: np.ndarray) -> dict[str, Any]:
        """Time-ordered split: fit, calibrate, score. Raises ValueError when labels cannot support it."""
        import xgboost as xgb

        labels = np.asarray(labels, dtype=float)
        if len(labels) < 30 or labels.sum() < 3 or labels.sum() == len(labels):
            raise ValueError(f"{int(labels.sum())} failures in {len(labels)} snapshots: too few to learn from")
        unique = np.sort(np.unique(dates))
        cut1, cut2 = unique[int(len(unique) * 0.6)], unique[int(len(unique) * 0.8)]
        train, cal, test = dates < cut1, (dates >= cut1) & (dates < cut2), dates >= cut2
        matrix = features[FEATURES].to_numpy(dtype=float)
        positives = max(labels[train].sum(), 1.0)
        params = XGB_PARAMS | {"scale_pos_weight": float((len(labels[train]) - positives) / positives)}
        self.booster = xgb.train(
            params, xgb.DMatrix(matrix[train], label=labels[train], feature_names=FEATURES), ROUNDS
        )
        raw = self.booster.predict(xgb.DMatrix(matrix, feature_names=FEATURES))
        self.calibrator = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
        if labels[cal].sum() >= 1 and labels[cal].sum() < cal.sum():
            self.calibrator.fit(raw[cal], labels[cal])
        else:  # no failures in the calibration stretch: calibrate on the training stretch instead
            self.calibrator.fit(raw[train], labels[train])
        probability = self.calibrator.predict(raw)
        y_test, p_test = labels[test], probability[test]
        self.metrics = {
            "snapshots": len(labels),
            "positives": int(labels.sum()),
            "test_snapshots": int(test.sum()),
            "test_positives": int(y_test.sum()),
            "roc_auc": float(roc_auc_score(y_test, p_test)) if 0 < y_test.sum() < len(y_test) else None,
            "brier": float(brier_score_loss(y_test, p_test)) if len(y_test) else None,
            "precision_at_10pct": precision_at_top(y_test, p_test) if len(y_test) else None,
            "base_rate_test": float(y_test.mean()) if len(y_test) else None,
        }
        self.metrics |= self._rolling_origin(matrix, labels, dates, unique)
        # What the condition telemetry adds: the same pooled scoring with those features blanked out.
        columns = [FEATURES.index(name) for name in CONDITION_FEATURES]
        self.metrics["condition_coverage"] = float(np.isfinite(matrix[:, columns]).any(axis=1).mean())
        if self.metrics["condition_coverage"] > 0:
            blind = matrix.copy()
            blind[:, columns] = np.nan
            self.metrics["rolling_roc_auc_without_condition"] = self._rolling_origin(blind, labels, dates, unique)[
                "rolling_roc_auc"
            ]
        return self.metrics

    @staticmethod
    def _rolling_origin(
        matrix: np.ndarray, labels: np.ndarray, dates: np.ndarray, unique: np.ndarray
    ) -> dict[str, Any]:
        """Pooled out-of-time scores: fit on all snapshots before each cut, score the next stretch.

        Failures are rare; one 20% test stretch may hold none. Pooling four later stretches uses
        every failure after the first 40% of time for scoring, each predicted by a model that never
        saw it.
        """
        import xgboost as xgb

        cuts = [unique[min(int(len(unique) * q), len(unique) - 1)] for q in (0.4, 0.55, 0.7, 0.85)] + [None]
        scored_y: list[np.ndarray] = []
        scored_p: list[np.ndarray] = []
        for first, last in itertools.pairwise(cuts):
            train = dates < first
            test = (dates >= first) & (dates < last) if last is not None else dates >= first
            positives = labels[train].sum()
            if positives < 2 or test.sum() == 0:
                continue
            params = XGB_PARAMS | {"scale_pos_weight": float((train.sum() - positives) / positives)}
            booster = xgb.train(params, xgb.DMatrix(matrix[train], label=labels[train], feature_names=FEATURES), ROUNDS)
            scored_y.append(labels[test])
            scored_p.append(booster.predict(xgb.DMatrix(matrix[test], feature_names=FEATURES)))
        if not scored_y:
            return {"rolling_roc_auc": None, "rolling_precision_at_10pct": None, "rolling_positives": 0}
        y, p = np.concatenate(scored_y), np.concatenate(scored_p)
        return {
            "rolling_roc_auc": float(roc_auc_score(y, p)) if 0 < y.sum() < len(y) else None,
            "rolling_precision_at_10pct": precision_at_top(y, p),
            "rolling_positives": int(y.sum()),
            "rolling_snapshots": len(y),
        }

    def predict(self, features: pd.DataFrame, *, top: int = 3) -> list[tuple[float, list[dict[str, float | str]]]]:
        import xgboost as xgb

        if self.booster is None or self.calibrator is None:
            raise ValueError("the failure model is not trained")
        matrix = xgb.DMatrix(features[FEATURES].to_numpy(dtype=float), feature_names=FEATURES)
        probability = self.calibrator.predict(self.booster.predict(matrix))
        contributions = self.booster.predict(matrix, pred_contribs=True)[:, :-1]  # last column is the bias
        results = []
        for i in range(len(features)):
            order = np.argsort(-contributions[i])[:top]
            factors: list[dict[str, float | str]] = []
            for j in order:
                if contributions[i, j] <= 0:
                    continue
                raw = features[FEATURES[j]].iloc[i]
                value = float(raw) if pd.notna(raw) else -1
                factors.append(
                    {
                        "feature": FEATURES[j],
                        "value": value,
                        "label": factor_label(FEATURES[j], value),
                        "contribution": round(float(contributions[i, j]), 4),
                    }
                )
            results.append((float(probability[i]), factors))
        return results

    def save(self, name: str) -> str:
        from predictions.ml.artifacts import artifact_write

        return str(artifact_write(name=name, family=FAMILY, format_version=self.FORMAT_VERSION, payload=self.__dict__))

    @classmethod
    def load(cls, name: str) -> FailureRiskModel:
        from predictions.ml.artifacts import artifact_read

        payload = artifact_read(name=name, family=FAMILY, format_version=cls.FORMAT_VERSION)
        model = cls()
        model.__dict__.update(payload)
        return model
