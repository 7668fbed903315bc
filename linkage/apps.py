from django.apps import AppConfig


class LinkageConfig(AppConfig):
    name = "linkage"
    verbose_name = "Service-profit chain"

    def ready(self) -> None:
        from surveys.signals import unit_moved

        from .receivers import roll_up_outcomes_after_unit_move

        unit_moved.connect(roll_up_outcomes_after_unit_move, dispatch_uid="linkage-outcomes")
