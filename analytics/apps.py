from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = "Dashboards and system health"

    def ready(self) -> None:
        from django.apps import apps

        from analytics.schedules import schedules_ensure

        # Sent for apps with models only: hang it on django-celery-beat, whose tables it fills.
        beat = apps.get_app_config("django_celery_beat")
        post_migrate.connect(schedules_ensure, sender=beat, dispatch_uid="analytics.schedules")
