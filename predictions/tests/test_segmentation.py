from __future__ import annotations

import pytest
from sklearn.metrics import adjusted_rand_score

from customers.models import Customer, Segment
from meters.simulation.fleets import habit_campus_build
from predictions.ml.artifacts import IncompatibleArtifact, artifact_write
from predictions.ml.segmentation import FAMILY, CustomerSegmenter
from predictions.models import ModelVersion
from predictions.segmentation import segments_train
from predictions.selectors import segments_for_user


@pytest.fixture(autouse=True)
def _models_dir(settings, tmp_path):
    settings.ML_MODELS_DIR = tmp_path


@pytest.mark.django_db
def test_segmentation_recovers_the_habit_groups_and_names_them_from_their_profiles() -> None:
    campus = habit_campus_build(days=21, rooms_per_hostel=12, hostels=2)
    version = segments_train(now=campus.end)
    assert version.status == ModelVersion.Status.CURRENT
    assert set(version.metrics["silhouette_by_k"]) >= {2, 3, 4}
    customers = Customer.objects.filter(pk__in=campus.truth).select_related("segment")
    truth = [campus.truth[c.pk] for c in customers]
    found = [c.segment.code for c in customers]
    assert adjusted_rand_score(truth, found) >= 0.7
    names = set(Segment.objects.values_list("name", flat=True))
    assert any("Evening" in n for n in names)
    assert any("Night owls" in n for n in names)
    assert all(s.recommendation and s.expected_saving_pct is not None for s in Segment.objects.all())
    assert not any(n.strip().isdigit() or n.lower().startswith("cluster") for n in names)


@pytest.mark.django_db
def test_segment_ids_and_names_stay_stable_when_retrained() -> None:
    campus = habit_campus_build(days=21, rooms_per_hostel=8, hostels=1)
    segments_train(now=campus.end)
    before = dict(Customer.objects.filter(pk__in=campus.truth).values_list("pk", "segment__code"))
    names_before = dict(Segment.objects.values_list("code", "name"))
    segments_train(now=campus.end)
    after = dict(Customer.objects.filter(pk__in=campus.truth).values_list("pk", "segment__code"))
    assert before == after
    assert dict(Segment.objects.values_list("code", "name")) == names_before


@pytest.mark.django_db
def test_segmenter_saves_loads_and_refuses_an_incompatible_artifact() -> None:
    campus = habit_campus_build(days=14, rooms_per_hostel=8, hostels=1)
    version = segments_train(now=campus.end)
    model = CustomerSegmenter.load(version.artifact)
    assert len(model.profiles) == version.metrics["k"]
    artifact_write(name="segmentation-bad.pkl", family=FAMILY, format_version=0, payload={})
    with pytest.raises(IncompatibleArtifact):
        CustomerSegmenter.load("segmentation-bad.pkl")


@pytest.mark.django_db
def test_segmentation_without_customers_records_a_failed_version() -> None:
    version = segments_train()
    assert version.status == ModelVersion.Status.FAILED
    assert "customers" in version.note


@pytest.mark.django_db
def test_warden_sees_only_segments_of_customers_in_their_hostels(campus, warden_a, warden_b, manager) -> None:
    evening = Segment.objects.create(code="evening-peak", name="Evening peak")
    night = Segment.objects.create(code="night-owls", name="Night owls")
    from customers.tests.factories import CustomerFactory

    customer_a = CustomerFactory.create(segment=evening)
    customer_b = CustomerFactory.create(segment=night)
    campus.room_a.customer = customer_a
    campus.room_a.save()
    campus.room_b.customer = customer_b
    campus.room_b.save()
    assert list(segments_for_user(user=warden_a)) == [evening]
    assert list(segments_for_user(user=warden_b)) == [night]
    assert set(segments_for_user(user=manager)) == {evening, night}
