from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "surveys"
    verbose_name = "Surveys"

    def ready(self) -> None:
        from . import definition, respondent_cache

        definition.connect_invalidation()
        respondent_cache.connect_invalidation()
