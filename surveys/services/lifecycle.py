"""Opening a survey for answers and closing it."""

from django.db import transaction
from django.utils import timezone

from ..exceptions import InvalidQuestionLogic, QuestionWithoutOptions, SurveyHasNoQuestions
from ..logic import logic_problems
from ..models import Question, Survey
from ..selectors import questions_for
from ..tasks import release_survey_results_task


def open_survey(*, survey: Survey) -> Survey:
    """Open a survey for answers: status open, `opened_at` kept from the first opening.

    Re-opening a closed survey clears `closed_at`; opening an open survey changes nothing.
    Raises SurveyHasNoQuestions for a survey without questions, QuestionWithoutOptions
    for a choice question without options, which nobody could answer, and
    InvalidQuestionLogic when a question's logic refers to a later or missing question.
    """
    with transaction.atomic():
        locked = Survey.objects.select_for_update().get(pk=survey.pk)
        if locked.status != Survey.Status.OPEN:
            _check_answerable(locked)
            locked.status = Survey.Status.OPEN
            locked.opened_at = locked.opened_at or timezone.now()
            locked.closed_at = None
            locked.save(update_fields=["status", "opened_at", "closed_at", "updated_at"])
    survey.refresh_from_db(fields=["status", "opened_at", "closed_at", "updated_at"])
    return survey


def _check_answerable(survey: Survey) -> None:
    if not survey.questions.exists():
        raise SurveyHasNoQuestions(
            f"“{survey.title}” has no questions yet; add questions before opening it."
        )
    choice_types = (Question.Type.SINGLE, Question.Type.MULTI)
    empty = survey.questions.filter(type__in=choice_types, choices__isnull=True)
    codes = sorted(empty.values_list("code", flat=True))
    if codes:
        raise QuestionWithoutOptions(
            f"“{survey.title}” cannot open: the choice question(s) {', '.join(codes)} have no "
            "options yet; add them on the question's page."
        )
    _check_logic(survey)


def _check_logic(survey: Survey) -> None:
    questions = questions_for(survey)
    options = {
        question.code: [choice.value for choice in question.choices.all()]
        for question in questions
        if question.is_choice
    }
    problems = logic_problems(questions, options)
    if problems:
        details = "; ".join(f"{code}: {' '.join(texts)}" for code, texts in problems.items())
        raise InvalidQuestionLogic(
            f"“{survey.title}” cannot open: its question logic does not work ({details})",
            problems,
        )


def close_survey(*, survey: Survey) -> Survey:
    """Stop accepting answers: status closed and `closed_at` now.

    Closing a closed survey changes nothing. Stored answers and scores stay as they are;
    closing an employee or anonymous survey closes its wave, so its waiting results are
    released by a task queued after commit (`services.releases`).
    """
    with transaction.atomic():
        locked = Survey.objects.select_for_update().get(pk=survey.pk)
        if locked.status != Survey.Status.CLOSED:
            locked.status = Survey.Status.CLOSED
            locked.closed_at = timezone.now()
            locked.save(update_fields=["status", "closed_at", "updated_at"])
            if locked.is_confidential:
                transaction.on_commit(
                    lambda: release_survey_results_task.delay(locked.pk), robust=True
                )
    survey.refresh_from_db(fields=["status", "opened_at", "closed_at", "updated_at"])
    return survey
