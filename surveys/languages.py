"""Which language a respondent sees, and which survey texts still lack a translation.

A survey offers the languages in its `languages` (the first is its default; empty means the
site's default). The respondent's language is the first of these that the respondent asked
for: the page's language switcher (`?lang=`), then the invitation's language, then the
browser's Accept-Language header, and otherwise the survey's default. Texts themselves live
in per-language columns (surveys/translation.py); fixed page texts in locale/.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings

from .models import Question, Survey

SWITCH_PARAMETER = "lang"


def site_languages() -> list[str]:
    return [code for code, _ in settings.LANGUAGES]


def offered_languages(survey: Survey) -> list[str]:
    """The survey's languages that the site knows, default first."""
    known = site_languages()
    offered = [code for code in (survey.languages or []) if code in known]
    return offered or [settings.LANGUAGE_CODE]


def _base(tag: str) -> str:
    return tag.strip().lower().replace("_", "-").split("-")[0]


def accepted_languages(header: str) -> list[str]:
    """Language codes of an Accept-Language header, most wanted first ("de-CH" → "de")."""
    weighted = []
    for position, part in enumerate(header.split(",")):
        tag, _, parameters = part.strip().partition(";")
        quality = 1.0
        if parameters.strip().startswith("q="):
            try:
                quality = float(parameters.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and tag != "*" and quality > 0:
            weighted.append((-quality, position, _base(tag)))
    return [code for _, _, code in sorted(weighted)]


def choose_language(
    survey: Survey, *, requested: str = "", invitation_language: str = "", accept: str = ""
) -> str:
    """The respondent's language: switcher, invitation, browser, else the survey default."""
    offered = offered_languages(survey)
    candidates = [requested, invitation_language, *accepted_languages(accept)]
    for candidate in candidates:
        code = _base(candidate) if candidate else ""
        if code in offered:
            return code
    return offered[0]


@dataclass(frozen=True)
class MissingTranslation:
    language: str
    items: list[str]


def missing_translations(survey: Survey, questions: Iterable[Question]) -> list[MissingTranslation]:
    """Per offered language, the survey texts that are filled in English but not in it.

    `questions` with their choices prefetched (`selectors.questions_for`)."""
    result = []
    questions = list(questions)
    for language in offered_languages(survey):
        items = [
            f"survey {field.replace('_', ' ')}"
            for field in ("title", "intro", "thank_you")
            if _lacks(survey, field, language)
        ]
        for question in questions:
            fields = ("text", "help_text", "low_label", "high_label")
            if any(_lacks(question, field, language) for field in fields):
                items.append(f"question {question.code}")
            if any(_lacks(choice, "label", language) for choice in question.choices.all()):
                items.append(f"options of {question.code}")
        if items:
            result.append(MissingTranslation(language, items))
    return result


def _lacks(instance: object, field: str, language: str) -> bool:
    english = getattr(instance, f"{field}_en", "") or ""
    return bool(english.strip()) and not (getattr(instance, f"{field}_{language}", "") or "")
