from rest_framework.routers import SimpleRouter

from predictions.api import views

router = SimpleRouter(trailing_slash=False)
router.register("forecasts", views.ForecastViewSet, basename="api-forecast")
router.register("segments", views.SegmentViewSet, basename="api-segment")
router.register("transformer-risks", views.TransformerRiskViewSet, basename="api-transformer-risk")
router.register("model-versions", views.ModelVersionViewSet, basename="api-model-version")

urlpatterns = router.urls
