from django.urls import path
from rest_framework.routers import SimpleRouter

from alerts.api.preferences import NotificationSettingsView
from alerts.api.views import AlertViewSet

router = SimpleRouter(trailing_slash=False)
router.register("alerts", AlertViewSet, basename="api-alert")

urlpatterns = [
    path("me/notification-settings", NotificationSettingsView.as_view(), name="api-notification-settings"),
    *router.urls,
]
