"""WebSocket routes: one thin consumer per stream under ws/."""

from django.urls import path

from alerts.consumers import AlertStreamConsumer

websocket_urlpatterns = [
    path("ws/alerts/", AlertStreamConsumer.as_asgi()),
]
