"""Which baseline judges which weeks of a history scan: one that learned those weeks, not the current one.

A baseline takes each meter's level, hour-of-day habits and residual spread from the weeks just before
its end (predictions.ml.anomaly: RECENT_DAYS before a held-back HOLDOUT_DAYS). The current baseline is
the right judge of those weeks and of what comes after them. Older history (the summer vacation when
the baseline learned term, another season's weather) it misjudges: on the demo's first run most of its
false findings were room `sustained_excess` and `high_consumption` in the first ten weeks of 120 days.
So the part of a scan older than the current baseline's weeks is cut into eras of ERA_DAYS, and each era
is judged by a baseline trained up to a held-back week after it, so that its recent weeks are the era.
Those baselines are stored as candidate model versions (never made current) and named on the scan.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from predictions.detection.baselines import TRAIN_WINDOW_DAYS, baseline_current, baseline_train, unlike_days_found
from predictions.detection.days import DayConfig, building_meter_ids
from predictions.detection.frames import frame_load, meter_infos
from predictions.ml.anomaly import HOLDOUT_DAYS, RECENT_DAYS, AnomalyBaseline
from predictions.ml.anomaly_features import CV_RMSE_GATE, NMBE_GATE, _hourly_fit
from predictions.ml.anomaly_known import known_rows
from predictions.ml.artifacts import IncompatibleArtifact
from predictions.models import HistoryScan, ModelVersion

logger = logging.getLogger(__name__)

ERA_DAYS = RECENT_DAYS  # an era is what one baseline's recent weeks cover
MIN_ERA = dt.timedelta(days=7)  # a shorter oldest remainder joins the era after it


@dataclass(frozen=True)
class Era:
    """A span of a scan and who judges it: the current baseline, or one of its own (trained on first use)."""

    start: dt.datetime
    end: dt.datetime
    version_id: int | None = None
    own: bool = False

    def row(self) -> list[object]:
        return [self.start.isoformat(), self.end.isoformat(), self.version_id, self.own]


def current_judges_from(version: ModelVersion) -> dt.datetime | None:
    """Where the weeks a baseline learned its levels and habits from begin: it judges from there on."""
    if version.train_end is None:
        return None
    return version.train_end - dt.timedelta(days=HOLDOUT_DAYS + RECENT_DAYS)


def eras_plan(
    *, start: dt.datetime, end: dt.datetime, judged_from: dt.datetime | None
) -> list[tuple[dt.datetime, dt.datetime]]:
    """The older spans of [start, end), newest first, each ERA_DAYS long, ending where the current judge begins."""
    if judged_from is None or judged_from <= start:
        return []
    spans = []
    cursor = min(judged_from, end)
    while cursor > start:
        era_start = max(cursor - dt.timedelta(days=ERA_DAYS), start)
        spans.append((era_start, cursor))
        cursor = era_start
    if len(spans) > 1 and spans[-1][1] - spans[-1][0] < MIN_ERA:
        spans[-2] = (spans[-1][0], spans[-2][1])
        spans.pop()
    return spans


def era_train(*, meter_ids: list[int], start: dt.datetime, end: dt.datetime, scan_id: int | None) -> ModelVersion:
    """A baseline whose recent weeks are [start, end): trained up to a held-back week after `end`."""
    train_end = end + dt.timedelta(days=HOLDOUT_DAYS)
    version = baseline_train(
        meter_ids=meter_ids,
        start=train_end - dt.timedelta(days=TRAIN_WINDOW_DAYS),
        end=train_end,
        promote=False,
        keep_loaded=False,
    )
    note = f"Judges history from {start:%Y-%m-%d} to {end:%Y-%m-%d}" + (
        f" (history scan {scan_id})." if scan_id else "."
    )
    ModelVersion.objects.filter(pk=version.pk).update(note=f"{note} {version.note}".strip())
    return version


def _era_gate_record(*, version: ModelVersion, model: AnomalyBaseline, meter_ids: list[int], era: Era) -> None:
    """Judge an era's baseline on its era once (`era_fit`), and keep the figures in its per-meter metrics."""
    per_meter = version.metrics.get("per_meter", {})
    for meter_id, figures in era_fit(model=model, meter_ids=meter_ids, start=era.start, end=era.end).items():
        per_meter.setdefault(str(meter_id), {}).update(figures)
    version.metrics = version.metrics | {"per_meter": per_meter, "era_gate": True}
    ModelVersion.objects.filter(pk=version.pk).update(metrics=version.metrics)


def era_fit(
    *, model: AnomalyBaseline, meter_ids: list[int], start: dt.datetime, end: dt.datetime
) -> dict[int, dict[str, float | bool | None]]:
    """How well an era's baseline describes the era itself, per building-level meter (ASHRAE Guideline 14 gate).

    Its fitness gate judged it on the week after the era. It judges the era too, and is muted on a building
    it misdescribes there: a Cambridge building's term starting as the autumn cooled was expected at 60 to
    70 % of its working days (the tree reads mild days as the summer's), a flood of false excess behind a
    gate that only saw the cold week after. Readings the detector calls abnormal (|z| >= 5) and days that
    ran like the other kind of day are left out, as in the gate: an incident does not mute its own era.
    """
    buildings = building_meter_ids(infos=meter_infos(meter_ids=meter_ids))
    if not buildings:
        return {}
    # The weeks before the era too: the day detector learns a building's usual days from them.
    frame = frame_load(meter_ids=buildings, start=start - dt.timedelta(days=DayConfig().history_days), end=end)
    frame = frame[frame["kwh"] > 0].reset_index(drop=True)
    unlike_days = unlike_days_found(frame=frame, meter_ids=buildings, start=start)
    frame = frame[frame["ts"] >= pd.Timestamp(start)].reset_index(drop=True)
    if frame.empty:
        return {}
    pred = model.predict(frame, with_iforest=False)
    unlike = known_rows(frame["ts"], frame["meter_id"], unlike_days)
    rows = frame.assign(expected_h=pred.expected / frame["interval_h"].to_numpy(dtype=float))[
        (np.abs(pred.z) < 5) & ~unlike
    ]
    out: dict[int, dict[str, float | bool | None]] = {}
    for meter_id, own in rows.groupby("meter_id"):
        cv, nmbe = _hourly_fit(own)
        passed = None if cv is None or nmbe is None else bool(cv <= CV_RMSE_GATE and abs(nmbe) <= NMBE_GATE)
        out[int(str(meter_id))] = {"era_cv_rmse": cv, "era_nmbe": nmbe, "era_fit": passed}
    return out


def history_eras(*, scan: HistoryScan) -> list[Era]:
    """The scan's eras, newest first (the current baseline's, whose findings need no training, comes first)."""
    if scan.eras:
        return [Era(dt.datetime.fromisoformat(a), dt.datetime.fromisoformat(b), v, own) for a, b, v, own in scan.eras]
    current = baseline_current()
    judged_from = current_judges_from(current[1]) if current else None
    eras = [Era(max(judged_from or scan.start, scan.start), scan.end)]
    eras += [Era(a, b, own=True) for a, b in eras_plan(start=scan.start, end=scan.end, judged_from=judged_from)]
    scan.eras = [era.row() for era in eras]
    HistoryScan.objects.filter(pk=scan.pk).update(eras=scan.eras)
    return eras


_era_models: dict[int, AnomalyBaseline] = {}


def era_baseline(*, scan: HistoryScan, era: Era) -> tuple[AnomalyBaseline, ModelVersion | None] | None:
    """The model judging an era (None: the current one); an era's own is trained when first needed."""
    if not era.own:
        return None
    version_id = era.version_id
    if version_id is None:
        version_id = era_train(meter_ids=list(scan.meter_ids), start=era.start, end=era.end, scan_id=scan.pk).pk
        scan.refresh_from_db(fields=["eras"])
        scan.eras = [
            Era(era.start, era.end, version_id, True).row() if row[0] == era.start.isoformat() else row
            for row in scan.eras
        ]
        HistoryScan.objects.filter(pk=scan.pk).update(eras=scan.eras)
    version = ModelVersion.objects.filter(pk=version_id).first()
    if version is None or version.status == ModelVersion.Status.FAILED or not version.artifact:
        logger.warning("history scan %s: no baseline of its own for %s to %s", scan.pk, era.start, era.end)
        return None
    model = _era_models.get(version.pk)
    if model is None:
        try:
            model = AnomalyBaseline.load(version.artifact)
        except IncompatibleArtifact as error:  # judged by the current baseline instead, never a crash
            logger.warning("history era baseline v%s unusable (%s)", version.pk, error)
            return None
        if not version.metrics.get("era_gate"):  # its first use: judged on its era with the model loaded here
            _era_gate_record(version=version, model=model, meter_ids=list(scan.meter_ids), era=era)
        for meter_id, figures in version.metrics.get("per_meter", {}).items():
            stats = model.meters.get(int(meter_id))
            if stats is not None and figures.get("era_fit") is False:  # it misdescribes its own era there
                stats.fit = False
        _era_models.clear()  # one era model per process at a time
        _era_models[version.pk] = model
    return model, version
