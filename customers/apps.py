from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = "Customers, tariffs and transformers"

    def ready(self) -> None:
        from customers.services import role_groups_ensure

        post_migrate.connect(role_groups_ensure, sender=self, dispatch_uid="customers.role_groups")
