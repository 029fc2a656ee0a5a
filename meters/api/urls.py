from django.urls import path

from meters.api.views import ReadingsBatchView

urlpatterns = [
    path("readings/batch", ReadingsBatchView.as_view(), name="readings-batch"),
]
