from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save


class MetersConfig(AppConfig):
    name = "meters"
    verbose_name = "Estate, meters and readings"

    def ready(self) -> None:
        from meters.ingest.hostel_rollups import meter_group_refresh, meter_group_remember
        from meters.ingest.rollups import meter_delete_lock
        from meters.models import Meter

        pre_delete.connect(meter_delete_lock, sender=Meter, dispatch_uid="meters.meter_delete_lock")
        # Hostel rollups follow a meter that moves to another hostel or kind, or is deleted.
        pre_save.connect(meter_group_remember, sender=Meter, dispatch_uid="meters.hostel_rollups.pre_save")
        pre_delete.connect(meter_group_remember, sender=Meter, dispatch_uid="meters.hostel_rollups.pre_delete")
        post_save.connect(meter_group_refresh, sender=Meter, dispatch_uid="meters.hostel_rollups.post_save")
        post_delete.connect(meter_group_refresh, sender=Meter, dispatch_uid="meters.hostel_rollups.post_delete")
