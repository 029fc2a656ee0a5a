"""Expected consumption of every meter, with a prediction band: the baseline anomaly detection compares against.

Each meter's heating and cooling first get a linear change-point model (kW per degree below or
above a balance temperature while someone is in), which goes on growing in weather colder or
hotter than any in the training window. One gradient-boosted model for all meters of a campus
(time of week, temperature, degree-hours, occupancy, bed type, calendar) then predicts the rest of
the consumption relative to each meter's own scale, with a robust (absolute-error) objective so
incidents in the history do not teach it that they are normal. Each meter gets a residual scale
(MAD) for its band, ASHRAE Guideline 14 fit metrics on a held-back recent window, and a tier:
`own` when it has enough history, `cohort` (the scale of meters of its kind and bed type) when it
has little, `profile` (its own hour-of-day median) when there is no cohort either.
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.ensemble import IsolationForest

from predictions.ml.anomaly_calibration import meters_calibrate
from predictions.ml.anomaly_features import (
    CV_RMSE_GATE,
    DENOM_FLOOR,
    HOLDOUT_DAYS,
    MAX_TRAIN_ROWS,
    NMBE_GATE,
    RECENT_DAYS,
    MeterStats,
    Prediction,
    WeatherResponse,
    _ashrae,
    _cohort_key,
    _common_mode,
    features,
    iforest_matrix,
    level_rows,
    occupied_like_peers,
    presence,
    room_meters_fit,
    spreads_from_lived_in,
    trailing_mean,
    window_sizes,
)
from predictions.ml.anomaly_known import known_rows, recurring
from predictions.ml.anomaly_peers import (
    PEER_UNCERTAINTY,
    main_bottom_up_kw,
    main_common_fit,
    peer_usual_fit,
    peer_weather_kw,
)
from predictions.ml.anomaly_rooms import centres_from_peers, own_trends, steady_rooms, unsettled_rooms
from predictions.ml.anomaly_weather import weather_responses_fit
from predictions.ml.artifacts import artifact_read, artifact_write

PREDICT_CHUNK_ROWS = 100_000  # readings scored per slice (about 10 MB of features)
# The shared booster learns each reading as a multiple of its meter's recent level. A reading above this
# multiple is no habit: the meter's level went (almost) to nothing in its recent weeks (b117 in spring 2019,
# its level at the 0.001 floor and its winter readings 18,000 times that), or an incident. Such rows taught
# leaves that expected 2,820 kWh of b9 at noon and 0 at 09:00, so they are left out of the booster.
LABEL_CAP = 50.0


class AnomalyBaseline:
    """Expected consumption and residual scales for the meters of a campus."""

    FAMILY = "anomaly"
    # 5: a reading's spread per block of the day (MeterStats.block_scale). A four-hour mean's per block
    # (`short_block_scale`) came later without a new version: a saved model without it judges by its whole-day
    # spread, as before, until its next weekly retrain (a new version would make detection train it inline).
    FORMAT_VERSION = 5

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
        self.weather: dict[int, WeatherResponse] = {}
        self.cohorts: dict[str, tuple[float, float, list[float]]] = {}
        self.peer_usual: dict[int, list[float]] = {}
        self.peer_usual_weather: dict[int, list[float]] = {}
        self.main_common: dict[int, tuple[int, list[float]]] = {}
        self.room_meters: dict[int, int] = {}  # room -> its meter the model knows (a new meter starts from it)
        self.iforest: IsolationForest | None = None
        self.iforest_offset: float = 0.0
        self.metrics: dict[str, Any] = {}
        self.train_start: dt.datetime | None = None
        self.train_end: dt.datetime | None = None
        self.training_seconds: float = 0.0

    # --- training ---------------------------------------------------------------------------

    def train(
        self,
        frame: pd.DataFrame,
        *,
        holdout_days: int = HOLDOUT_DAYS,
        known: list[tuple[int, Any, Any]] | None = None,
        unlike_days: list[tuple[int, Any, Any]] | None = None,
    ) -> dict[str, Any]:
        """Learn from `frame`; `known` are (meter, start, end) spans of anomalies already found in it.

        A known anomaly is left out of its meter's spreads and centres (not out of the level, habits or
        weather fit): an incident in the held-back week would otherwise widen its meter's band, or move its
        centre, for the week after and hide the next incident there.

        `unlike_days` are (meter, start, end) spans of a building's days that ran like the other kind of day
        (the day detector's findings: a closure no calendar knew, a weekend left on). They are left out of
        its spreads, centre and fitness gate, and never become its usual however many there are: a
        Christmas closure filling the held-back week judged the model on days it was never told were
        closed (unfit, with the building's consumption findings muted, and centred on the closure).
        """
        began = time.perf_counter()
        valid = frame[(frame["kwh"] > 0) & frame["kwh"].notna()].copy()
        if valid.empty:
            raise ValueError("no readings to train on")
        valid["kwh_h"] = valid["kwh"] / valid["interval_h"]
        valid["hour_i"] = np.floor(valid["hour"].to_numpy()).astype(int) % 24
        # The weather-driven part of each reading is modelled apart (it must extrapolate); levels, habits
        # and the tree learn from what is left ("norm_h"), the weather-normalised demand.
        self.weather = weather_responses_fit(valid)
        valid["weather_h"] = self._weather_kw(valid)
        valid["norm_h"] = valid["kwh_h"] - valid["weather_h"]
        self.train_start = valid["ts"].min().to_pydatetime()
        self.train_end = valid["ts"].max().to_pydatetime()
        grouped = valid.groupby("meter_id")
        first, last = grouped["ts"].min(), grouped["ts"].max()
        days = ((last - first).dt.total_seconds() / 86400.0).to_dict()
        # Level and habits come from the last four weeks before the calibration window: a hostel in
        # term is not the hostel of the summer, and the most recent behaviour is the one to expect.
        span_days = (self.train_end - self.train_start).total_seconds() / 86400
        held_days = min(float(holdout_days), max(2.0, 0.25 * span_days)) if holdout_days else 0.0
        cut = pd.Timestamp(self.train_end) - pd.Timedelta(days=held_days)
        recent = (valid["ts"] < cut) & (valid["ts"] >= cut - pd.Timedelta(days=RECENT_DAYS))
        found = pd.Series(known_rows(valid["ts"], valid["meter_id"], known), index=valid.index)
        # Found on most days of the held-back week, it is the meter's new usual (new residents, a new meter),
        # not an incident: left out, the alarms on the new level would keep that level out of its own spreads.
        found &= ~valid["meter_id"].isin(recurring(found, valid["ts"], valid["meter_id"], since=cut))
        unlike = pd.Series(known_rows(valid["ts"], valid["meter_id"], unlike_days), index=valid.index)
        found |= unlike
        basis, unoccupied = level_rows(valid, recent)
        clip = basis.groupby("meter_id")["norm_h"].transform(lambda s: s.clip(upper=float(s.quantile(0.99))))
        scales = {k: max(float(v), 1e-3) for k, v in clip.groupby(basis["meter_id"]).mean().items()}
        medians = basis.groupby(["meter_id", "hour_i"])["norm_h"].median()
        overall = basis.groupby("meter_id")["norm_h"].median()
        profiles: dict[int, list[float]] = {}
        has_medians = set(medians.index.get_level_values(0))
        medians_any: Any = medians
        overall_any: Any = overall
        for key in scales:
            meter_id = int(str(key))
            by_hour: Any = medians_any.loc[key] if key in has_medians else pd.Series(dtype=float)
            fallback = float(overall_any.get(key, 0.0))
            profiles[meter_id] = [float(by_hour.get(h, fallback)) for h in range(24)]
        if unoccupied:
            occupied_like_peers(scales, profiles, unoccupied, valid.groupby("meter_id")["bed_type"].first())
        valid["scale"] = valid["meter_id"].map(scales)
        shape = pd.Series({(m, h): profiles[m][h] / scales[m] for m in profiles for h in range(24)}, dtype=float)
        valid["own_profile"] = shape.reindex(pd.MultiIndex.from_arrays([valid["meter_id"], valid["hour_i"]])).to_numpy()
        # Rows are picked by label and copied once: a filtered copy of every row before sampling was
        # the training's largest temporary (docs/scaling.md). The same rows as sampling the copy.
        fit_index = valid.index[((valid["ts"] < cut) | (valid["meter_id"].map(days) < held_days * 2)).to_numpy()]
        if len(fit_index) < 200:
            fit_index = valid.index
        if len(fit_index) > MAX_TRAIN_ROWS:
            fit_index = pd.Index(fit_index.to_series().sample(MAX_TRAIN_ROWS, random_state=self.params["seed"]))
        self.booster = self._fit_booster(valid.loc[fit_index])
        del fit_index
        valid["expected_h"] = (
            self._raw(valid, valid["own_profile"].to_numpy()) * valid["scale"].to_numpy() + valid["weather_h"]
        )
        rel = (valid["kwh_h"] - valid["expected_h"]) / (valid["expected_h"] + DENOM_FLOOR * valid["scale"])
        valid["rel"] = rel
        holdout = valid["ts"] >= cut
        # The usual spread of a hostel's rooms around their baselines, out of sample where possible.
        usual_rows = valid[holdout] if holdout.any() else valid
        self.peer_usual = peer_usual_fit(usual_rows, (usual_rows["kwh_h"] - usual_rows["expected_h"]).to_numpy())
        beyond_weather = usual_rows["kwh_h"] - usual_rows["expected_h"] + usual_rows["weather_h"]
        self.peer_usual_weather = peer_usual_fit(usual_rows, beyond_weather.to_numpy())
        del usual_rows
        self.main_common = main_common_fit(valid[valid["ts"] >= cut - pd.Timedelta(days=RECENT_DAYS)])
        # A room lived in by the same residents is judged around its own level: its own rise through the
        # held-back week (a drift) is neither its spread nor its centre (`own_trends`, `centres_from_peers`).
        steady = steady_rooms(valid, holdout, basis)
        trends = own_trends(valid, holdout & ~found, steady)
        unsettled = unsettled_rooms(valid, holdout, basis, steady)
        del basis, clip  # the level rows: a copy of most of the window, not read again
        self.meters, borrowing, lived_in = meters_calibrate(
            valid,
            holdout=holdout,
            recent=valid["ts"] >= cut - pd.Timedelta(days=RECENT_DAYS),
            found=found,
            unlike=unlike,
            trends=trends,
            unsettled=unsettled,
            profiles=profiles,
            scales=scales,
            days=days,
        )
        spreads_from_lived_in(self.meters, borrowing, lived_in, valid.groupby("meter_id")["bed_type"].first())
        centres_from_peers(self.meters, steady & lived_in, valid)
        self.room_meters = room_meters_fit(valid)
        self._gate_rooms(valid)
        cohort_frame = pd.DataFrame(
            [(k, rows["is_main"].iloc[0], rows["bed_type"].iloc[0]) for k, rows in valid.groupby("meter_id")],
            columns=["meter_id", "is_main", "bed_type"],
        )
        self.cohorts = {}
        for (is_main, bed_type), members in cohort_frame.groupby(["is_main", "bed_type"]):
            own = [self.meters[int(m)] for m in members["meter_id"] if self.meters[int(m)].tier == "own"]
            if own:
                self.cohorts[_cohort_key(float(is_main), float(bed_type))] = (  # type: ignore[arg-type]
                    float(np.median([s.scale for s in own])),
                    float(np.median([s.sigma for s in own])) * 1.5,
                    [float(x) for x in np.median([np.asarray(s.profile) / s.scale for s in own], axis=0)],
                )
        for stats, (_, rows) in zip(self.meters.values(), valid.groupby("meter_id"), strict=True):
            if stats.tier == "cohort":
                cohort = self.cohorts.get(_cohort_key(rows["is_main"].iloc[0], rows["bed_type"].iloc[0]))
                if cohort is None:
                    stats.tier = "profile"
                else:
                    stats.sigma = max(stats.sigma, cohort[1])
        if held_days:  # calibrated on unseen rows; now learn from the most recent weeks too
            rows = (
                valid
                if len(valid) <= MAX_TRAIN_ROWS
                else valid.sample(MAX_TRAIN_ROWS, random_state=self.params["seed"])
            )
            self.booster = self._fit_booster(rows)
        sample = frame.sample(min(len(frame), 30_000), random_state=self.params["seed"])
        self._train_iforest(sample.sort_values(["meter_id", "ts"]).reset_index(drop=True))
        self.metrics = self._summary(valid, holdout)
        self.training_seconds = time.perf_counter() - began
        self.metrics["training_seconds"] = round(self.training_seconds, 3)
        return self.metrics

    def _weather_kw(self, frame: pd.DataFrame) -> np.ndarray:
        """Each reading's weather-driven demand (kW) from its meter's slopes; 0 for a meter the model never saw."""
        out = np.zeros(len(frame))
        if not self.weather or not len(frame):
            return out
        temp, present = frame["temp"].to_numpy(dtype=float), presence(frame)
        rooms = (
            np.nan_to_num(frame["room_id"].to_numpy(dtype=float))
            if "room_id" in frame.columns
            else np.zeros(len(frame))
        )
        for meter_id, index in frame.groupby("meter_id").indices.items():
            response = self.weather.get(self._known(int(str(meter_id)), int(rooms[index[0]]), self.weather))
            if response is not None:
                out[index] = response.kw(temp[index], present[index])
        return out

    def _gate_rooms(self, valid: pd.DataFrame) -> None:
        """ASHRAE Guideline 14 is written for whole buildings: main meters are gated (and muted) on it.

        A single room is a few people switching appliances, so its own hourly CV(RMSE) is mostly noise
        no model can explain. The room baseline is judged where the Guideline applies, on the sum of a
        hostel's room meters (hourly, same limits), and that verdict is recorded on every room
        (`gate_cv_rmse`, `gate_nmbe`, `rooms_fit`) but does not mute them: on the development campus,
        muting rooms (one by one, daily or through their hostel) silenced 20-35 % of the real incidents
        and removed no false alarm. `MeterBaseline.fit` can still be set to mute one room by hand.
        """
        if "hostel_id" not in valid.columns:
            return
        mask = ((valid["is_main"] == 0) & valid["gate_row"].fillna(False).astype(bool)).to_numpy()
        rooms = valid.loc[mask, ["hostel_id", "meter_id", "ts", "kwh", "expected_h", "interval_h"]]  # not every column
        for _, rows in rooms.groupby("hostel_id"):
            hourly = rows.assign(exp=rows["expected_h"] * rows["interval_h"]).set_index("ts")
            hourly = hourly.resample("1h")[["kwh", "exp"]].sum()
            hourly = hourly[hourly["kwh"] > 0]
            cv, nmbe = _ashrae(hourly["kwh"].to_numpy(), hourly["exp"].to_numpy())
            if cv is None or nmbe is None:
                continue
            passed = cv <= CV_RMSE_GATE and abs(nmbe) <= NMBE_GATE
            for meter_id in rows["meter_id"].unique():
                stats = self.meters[int(meter_id)]
                stats.gate_cv_rmse, stats.gate_nmbe, stats.rooms_fit = cv, nmbe, passed

    def _fit_booster(self, rows: pd.DataFrame) -> xgb.Booster:
        label = (rows["norm_h"] / rows["scale"]).to_numpy()
        kept = label <= LABEL_CAP
        rows = rows[kept]
        dtrain = xgb.DMatrix(features(rows, rows["own_profile"].to_numpy()), label=label[kept])
        return xgb.train(
            {
                "objective": self.params["objective"],
                "max_depth": self.params["max_depth"],
                "eta": self.params["learning_rate"],
                "subsample": 0.8,
                "min_child_weight": 20,
                "nthread": 1,
                "seed": self.params["seed"],
                "tree_method": "hist",
            },
            dtrain,
            num_boost_round=self.params["n_estimators"],
        )

    def _train_iforest(self, sample: pd.DataFrame) -> None:
        if len(sample) < 100:
            self.iforest = None
            return
        pred = self.predict(sample, with_iforest=False)
        x = iforest_matrix(sample, pred)
        self.iforest = IsolationForest(n_estimators=100, max_samples=512, random_state=self.params["seed"], n_jobs=1)
        self.iforest.fit(x)
        scores = -self.iforest.score_samples(x)
        self.iforest_offset = float(np.quantile(scores, 0.999))

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

    def _raw(self, frame: pd.DataFrame, own_profile: np.ndarray) -> np.ndarray:
        if self.booster is None:
            return np.ones(len(frame))
        # In slices: the feature matrix and its DMatrix of every reading at once were a training peak.
        # Trees score each row alone, so the slices' scores are the whole frame's.
        out = np.empty(len(frame), dtype=np.float32)  # the booster's own type, as before
        for a in range(0, len(frame), PREDICT_CHUNK_ROWS):
            b = a + PREDICT_CHUNK_ROWS
            out[a:b] = self.booster.predict(xgb.DMatrix(features(frame.iloc[a:b], own_profile[a:b])))
        return np.maximum(out, 0.0)

    def _known(self, meter_id: int, room_id: int, known: dict) -> int:
        """The meter itself if `known` has it, else the room's meter the model knows (a replacement's predecessor)."""
        return meter_id if meter_id in known else getattr(self, "room_meters", {}).get(room_id, meter_id)

    def stats_for(
        self, meter_id: int, *, is_main: float, bed_type: float, own_kwh_h: np.ndarray | None = None, room_id: int = 0
    ) -> MeterStats:
        """The meter's stats; a meter the model never saw takes those of the meter it replaced in its room, else
        its cohort's, else its own profile: a new meter in a room is the same residents' consumption."""
        known = self.meters.get(self._known(meter_id, room_id, self.meters))
        if known is not None:
            return known
        cohort = self.cohorts.get(_cohort_key(is_main, bed_type))
        if cohort is not None:
            return MeterStats(
                scale=cohort[0],
                sigma=cohort[1],
                bias=0.0,
                q1=-cohort[1],
                q3=cohort[1],
                tier="cohort",
                days=0,
                profile=[x * cohort[0] for x in cohort[2]],
            )
        level = float(np.median(own_kwh_h)) if own_kwh_h is not None and len(own_kwh_h) else 0.1
        return MeterStats(
            scale=max(level, 1e-3), sigma=0.5, bias=0.0, q1=-0.5, q3=0.5, tier="profile", days=0, profile=[level] * 24
        )

    def predict(self, frame: pd.DataFrame, *, with_iforest: bool = True, peers: bool = False) -> Prediction:
        """Expected kWh and residual scores; `peers` removes what all rooms of a hostel share at that moment."""
        n = len(frame)
        meter_ids = frame["meter_id"].to_numpy()
        interval_h = frame["interval_h"].to_numpy(dtype=float)
        kwh_h = frame["kwh"].to_numpy(dtype=float) / interval_h
        hours = np.floor(frame["hour"].to_numpy(dtype=float)).astype(int) % 24
        scale, sigma, bias, q1, q3 = (np.zeros(n) for _ in range(5))
        profile, psigma = np.zeros(n), np.ones(n)
        tier = np.empty(n, dtype=object)
        fit = np.ones(n, dtype=bool)
        use_profile = np.zeros(n, dtype=bool)
        stats_list: list[tuple[int, int, MeterStats]] = []
        is_main = frame["is_main"].to_numpy(dtype=float)
        bed = frame["bed_type"].to_numpy(dtype=float)
        rooms = np.nan_to_num(frame["room_id"].to_numpy(dtype=float)) if "room_id" in frame.columns else np.zeros(n)
        # Readings are sorted by meter: slice per meter instead of boolean masks.
        bounds = np.flatnonzero(np.r_[True, meter_ids[1:] != meter_ids[:-1], True])
        for a, b in itertools.pairwise(bounds):
            own = kwh_h[a:b]
            s = self.stats_for(
                int(meter_ids[a]), is_main=is_main[a], bed_type=bed[a], own_kwh_h=own[own > 0], room_id=int(rooms[a])
            )
            scale[a:b], sigma[a:b], bias[a:b], q1[a:b], q3[a:b] = s.scale, s.sigma, s.bias, s.q1, s.q3
            tier[a:b], fit[a:b] = s.tier, s.fit
            prof = np.asarray(s.profile) if s.profile else np.full(24, s.scale)
            profile[a:b], psigma[a:b] = prof[hours[a:b]], s.profile_sigma
            use_profile[a:b] = s.tier == "profile"
            stats_list.append((int(a), int(b), s))
        raw = self._raw(frame, profile / np.maximum(scale, 1e-9))
        weather_h = self._weather_kw(frame)
        expected_h = np.where(use_profile, profile, raw * scale) + weather_h
        denom_h = expected_h + DENOM_FLOOR * scale
        if peers:
            # What the hostel's occupied rooms share now (weather the model has not seen) is expected too,
            # known only roughly (set-points and appliances differ between rooms): it widens the band too.
            shared_h = peer_weather_kw(
                frame, kwh_h - expected_h, self.peer_usual, weather_h, getattr(self, "peer_usual_weather", None)
            )
            expected_h = expected_h + shared_h
            denom_h = denom_h + PEER_UNCERTAINTY * shared_h
            # A main is judged against the larger of its own model and the sum of its rooms' expectations.
            bottom_up = main_bottom_up_kw(frame, expected_h, self.main_common)
            expected_h = np.where(np.isfinite(bottom_up), np.maximum(expected_h, bottom_up), expected_h)
        rel = (kwh_h - expected_h) / denom_h
        if peers:
            rel = rel - _common_mode(frame, rel)
        z = (rel - np.where(use_profile, 0.0, bias)) / sigma
        z_short, z_long = np.zeros(n), np.zeros(n)
        for lo, hi, s in stats_list:
            sizes = window_sizes(float(interval_h[lo]))
            rel_m = np.nan_to_num(rel[lo:hi], nan=0.0)
            z[lo:hi] = (rel_m - s.win_med[0]) / s.point_scale(hours[lo:hi])
            z_short[lo:hi] = (trailing_mean(rel_m, sizes[1]) - s.win_med[1]) / s.short_scale(hours[lo:hi])
            z_long[lo:hi] = (trailing_mean(rel_m, sizes[2]) - s.win_med[2]) / s.win_scale[2]
        iqr = q3 - q1
        iqr_out = (rel > q3 + 3 * iqr) | (rel < q1 - 3 * iqr)
        seasonal_z = (kwh_h - weather_h - profile) / (profile + DENOM_FLOOR * scale) / psigma
        prediction = Prediction(
            expected=expected_h * interval_h,
            denom=denom_h * interval_h,
            z=np.nan_to_num(z, nan=0.0),
            z_short=z_short,
            z_long=z_long,
            iqr_out=iqr_out,
            seasonal_z=np.nan_to_num(seasonal_z, nan=0.0),
            iforest=np.zeros(n),
            tier=tier,
            fit=fit,
        )
        if with_iforest and self.iforest is not None and n:
            scores = -self.iforest.score_samples(iforest_matrix(frame, prediction))
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
