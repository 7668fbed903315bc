"""Surveys made from the template library: a draft copy with questions, choices and metrics."""

from django.db import transaction
from django.utils.text import slugify

from ..exceptions import SlugTaken, UnknownTemplate
from ..library import TEMPLATES, SurveyTemplate
from ..models import Choice, OrgUnit, Question, Survey
from .metrics import ensure_metrics_for_questions

SLUG_MAX_LENGTH = 80  # Survey.slug


def create_survey_from_template(
    *,
    template_key: str,
    title: str | None = None,
    slug: str | None = None,
    root_unit: OrgUnit | None = None,
) -> Survey:
    """Create a draft survey with the template's questions, choices and metric keys.

    `title` defaults to the template's title; `slug` defaults to one made from the title,
    numbered when taken. "{company}" in question texts becomes the name of the top unit above
    `root_unit` ("us" without one). Metrics for the questions' keys are created if missing.
    Raises UnknownTemplate, or SlugTaken when an explicit slug is in use; nothing is written
    when it raises.
    """
    template = TEMPLATES.get(template_key)
    if template is None:
        raise UnknownTemplate(f"There is no survey template '{template_key}'.")
    title = (title or "").strip() or template.title
    company = _company_name(root_unit)
    with transaction.atomic():
        survey = Survey.objects.create(
            title=title,
            slug=_claim_slug(slug, title),
            intro=template.intro,
            audience=template.audience,
            kind=template.kind,
            anonymous=template.anonymous,
            anonymity_threshold=template.anonymity_threshold,
            root_unit=root_unit,
        )
        questions = _create_questions(survey, template, company)
        ensure_metrics_for_questions(questions)
    return survey


def _company_name(root_unit: OrgUnit | None) -> str:
    if root_unit is None:
        return "us"
    top = root_unit.ancestors().first() or root_unit
    return top.name


def _claim_slug(slug: str | None, title: str) -> str:
    """The explicit slug when free, else a free slug made from the title."""
    if slug:
        if Survey.objects.filter(slug=slug).exists():
            raise SlugTaken(f"The address '{slug}' is already used by another survey.")
        return slug
    base = (slugify(title) or "survey")[: SLUG_MAX_LENGTH - 4].strip("-")
    taken = set(Survey.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    candidate, number = base, 2
    while candidate in taken:
        candidate, number = f"{base}-{number}", number + 1
    return candidate


def _create_questions(survey: Survey, template: SurveyTemplate, company: str) -> list[Question]:
    """Bulk-insert the questions, then their choices; return the questions."""
    questions = Question.objects.bulk_create(
        [
            Question(
                survey=survey,
                code=spec.code,
                order=(position + 1) * 10,  # gaps leave room to insert questions in the admin
                type=spec.type,
                text=spec.text.replace("{company}", company),
                help_text=spec.help_text,
                required=spec.required,
                min_value=spec.min_value,
                max_value=spec.max_value,
                low_label=spec.low_label,
                high_label=spec.high_label,
                metric_key=spec.metric_key,
                grid=spec.grid,
            )
            for position, spec in enumerate(template.questions)
        ]
    )
    Choice.objects.bulk_create(
        [
            Choice(
                question=question,
                order=order,
                value=choice.value,
                label=choice.label,
                score=choice.score,
            )
            for question, spec in zip(questions, template.questions, strict=True)
            for order, choice in enumerate(spec.choices, start=1)
        ]
    )
    return questions
