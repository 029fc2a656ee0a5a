from django.urls import path
from rest_framework.routers import SimpleRouter

from meters.api import accounts, estate
from meters.api.condition import ConditionBatchView
from meters.api.views import ReadingsBatchView

router = SimpleRouter(trailing_slash=False)
router.register("sites", estate.SiteViewSet, basename="api-site")
router.register("hostels", estate.HostelViewSet, basename="api-hostel")
router.register("rooms", estate.RoomViewSet, basename="api-room")
router.register("meters", estate.MeterViewSet, basename="api-meter")
router.register("weather", estate.WeatherViewSet, basename="api-weather")
router.register("occupancy", estate.OccupancyViewSet, basename="api-occupancy")
router.register("customers", accounts.CustomerViewSet, basename="api-customer")
router.register("tariffs", accounts.TariffViewSet, basename="api-tariff")
router.register("transformers", accounts.TransformerViewSet, basename="api-transformer")
router.register("transformer-conditions", accounts.TransformerConditionViewSet, basename="api-transformer-condition")

urlpatterns = [
    path("readings/batch", ReadingsBatchView.as_view(), name="readings-batch"),
    path("transformer-condition/batch", ConditionBatchView.as_view(), name="transformer-condition-batch"),
    *router.urls,
]
