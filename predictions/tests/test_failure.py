from __future__ import annotations

import pytest

from meters.simulation.fleets import failing_fleet_build, gassing_fleet_build
from predictions.failure_risk import failure_risks_compute, failure_train
from predictions.ml.artifacts import IncompatibleArtifact, artifact_write
from predictions.ml.failure import FAMILY, FailureRiskModel
from predictions.models import ModelVersion, TransformerRisk
from predictions.selectors import transformer_risks_for_user


@pytest.fixture(autouse=True)
def _models_dir(settings, tmp_path):
    settings.ML_MODELS_DIR = tmp_path


@pytest.mark.django_db
def test_failure_model_trains_scores_and_explains_each_transformer() -> None:
    import datetime as dt

    end = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    failing_fleet_build(end=end)
    version = failure_train(now=end)
    assert version.status == ModelVersion.Status.CURRENT, version.note
    for key in ("roc_auc", "brier", "precision_at_10pct"):
        assert key in version.metrics
    assert version.metrics["roc_auc"] is None or version.metrics["roc_auc"] > 0.6
    summary = failure_risks_compute(now=end)
    assert summary["scored"] == 12
    risk = TransformerRisk.objects.order_by("-probability").first()
    assert risk is not None
    assert 0 <= risk.probability <= 1
    assert all({"feature", "value", "contribution"} <= set(f) for f in risk.factors)
    model = FailureRiskModel.load(version.artifact)
    assert model.booster is not None


@pytest.mark.django_db
def test_gas_in_oil_gives_warning_the_load_cannot_and_is_named_as_the_factor() -> None:
    import datetime as dt

    end = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    fleet = gassing_fleet_build(end=end)
    version = failure_train(now=end)
    assert version.status == ModelVersion.Status.CURRENT, version.note
    metrics = version.metrics
    assert metrics["condition_coverage"] > 0.9
    assert metrics["rolling_roc_auc"] > 0.9, metrics
    assert metrics["rolling_roc_auc_without_condition"] < 0.7, metrics  # load and age are no help here
    failure_risks_compute(now=end)
    gassing = TransformerRisk.objects.get(transformer=fleet[-1])
    others = TransformerRisk.objects.exclude(transformer=fleet[-1])
    assert gassing.probability > max(r.probability for r in others)
    assert gassing.factors[0]["feature"] in ("dissolved_gas_ppm", "gas_rise_per_day_30d")
    assert "dissolved gas" in gassing.factors[0]["label"]


@pytest.mark.django_db
def test_failure_model_without_failures_records_a_failed_version_not_a_crash() -> None:
    version = failure_train()
    assert version.status == ModelVersion.Status.FAILED
    assert failure_risks_compute()["status"] == "no_model"


def test_failure_model_refuses_an_incompatible_artifact(settings, tmp_path) -> None:
    artifact_write(name="failure-bad.pkl", family=FAMILY, format_version=0, payload={})
    with pytest.raises(IncompatibleArtifact):
        FailureRiskModel.load("failure-bad.pkl")


@pytest.mark.django_db
def test_risks_are_scoped_to_transformers_feeding_the_wardens_hostels(campus, warden_b) -> None:
    import datetime as dt

    from customers.tests.factories import TransformerFactory

    tx_a = TransformerFactory.create(code="TA")
    campus.meter_a.transformer = tx_a
    campus.meter_a.save()
    TransformerRisk.objects.create(
        transformer=tx_a, probability=0.4, computed_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    )
    assert transformer_risks_for_user(user=warden_b) == []


@pytest.mark.django_db
def test_a_transformer_feeding_only_feeders_sees_the_weather_of_the_estates_one_site() -> None:
    from customers.tests.factories import TransformerFactory
    from meters.models import Meter
    from meters.tests.factories import HostelFactory, MeterFactory, SiteFactory
    from predictions.forecasting.series import transformer_site_id

    site = SiteFactory.create(code="main")
    hostel_tx, estate_tx = TransformerFactory.create(code="TH"), TransformerFactory.create(code="TE")
    MeterFactory.create(
        serial="MAIN-H",
        kind=Meter.Kind.HOSTEL_MAIN,
        room=None,
        hostel=HostelFactory.create(site=site),
        transformer=hostel_tx,
    )
    MeterFactory.create(serial="FEED-S", kind=Meter.Kind.FEEDER, room=None, hostel=None, transformer=estate_tx)
    assert transformer_site_id(hostel_tx.pk) == site.pk
    assert transformer_site_id(estate_tx.pk) == site.pk  # the only site
    SiteFactory.create(code="other")
    assert transformer_site_id(estate_tx.pk) is None  # two sites: which one is not ours to guess
    assert transformer_site_id(hostel_tx.pk) == site.pk
