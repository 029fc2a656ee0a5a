from django.urls import path

from meters import views

urlpatterns = [
    path("upload/", views.readings_upload, name="readings-upload"),
    path("upload/<uuid:upload_id>/", views.readings_upload_status, name="readings-upload-status"),
]
