from django.apps import AppConfig


class DistributionConfig(AppConfig):
    name = "distribution"
    verbose_name = "Distribution and follow-up"

    def ready(self) -> None:
        from . import receivers  # noqa: F401 (connects the signal receivers)
