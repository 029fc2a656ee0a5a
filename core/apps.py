from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core plumbing"

    def ready(self) -> None:
        from core.user_cache import user_cache_signals_connect

        user_cache_signals_connect()
