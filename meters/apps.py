from django.apps import AppConfig
from django.db.models.signals import pre_delete


class MetersConfig(AppConfig):
    name = "meters"
    verbose_name = "Estate, meters and readings"

    def ready(self) -> None:
        from meters.ingest.rollups import meter_delete_lock
        from meters.models import Meter

        pre_delete.connect(meter_delete_lock, sender=Meter, dispatch_uid="meters.meter_delete_lock")
