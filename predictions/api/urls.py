from django.urls import path
from rest_framework.routers import SimpleRouter

from predictions.api import detection, views

router = SimpleRouter(trailing_slash=False)
router.register("forecasts", views.ForecastViewSet, basename="api-forecast")
router.register("segments", views.SegmentViewSet, basename="api-segment")
router.register("transformer-risks", views.TransformerRiskViewSet, basename="api-transformer-risk")
router.register("model-versions", views.ModelVersionViewSet, basename="api-model-version")
router.register("anomalies", detection.AnomalyViewSet, basename="api-anomaly")

urlpatterns = [
    path("detection/run", detection.DetectionRunView.as_view(), name="api-detection-run"),
    path("analytics/kpis", detection.KpiView.as_view(), name="api-kpis"),
    *router.urls,
]
