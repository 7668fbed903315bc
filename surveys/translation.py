"""Survey texts per language (django-modeltranslation): each field below gets one column per
language in settings.LANGUAGES (`text_de` …); reading `text` gives the active language's
text, or the English one when that translation is empty. Answers do not depend on the
language, so scores pool across languages."""

from modeltranslation.translator import TranslationOptions, register

from .models import Choice, Question, Survey


@register(Survey)
class SurveyTranslation(TranslationOptions):
    fields = ("title", "intro", "thank_you")


@register(Question)
class QuestionTranslation(TranslationOptions):
    fields = ("text", "help_text", "low_label", "high_label")


@register(Choice)
class ChoiceTranslation(TranslationOptions):
    fields = ("label",)
