from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = "Dashboards and system health"

    def ready(self) -> None:
        from django.apps import apps

        from alerts.evidence import evidence_provider_register
        from analytics.evidence import alert_evidence_build
        from analytics.schedules import schedules_ensure

        # The alert page's evidence chart needs predictions' baseline, which alerts may not import.
        evidence_provider_register(name="analytics", provider=alert_evidence_build)

        # Sent for apps with models only: hang it on django-celery-beat, whose tables it fills.
        beat = apps.get_app_config("django_celery_beat")
        post_migrate.connect(schedules_ensure, sender=beat, dispatch_uid="analytics.schedules")
