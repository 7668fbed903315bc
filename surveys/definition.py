"""A survey's definition — the survey row, its questions with their choices, and which
webhook events it has subscribers for — loaded once and shared by every request.

Respondent pages and the API read it on every submission, so it is kept in the cache
(Redis in production, shared by all web processes) under the survey's id, with the slug
mapped to the id. Any save or delete of the survey, a question, a choice or a webhook
subscription drops the entry (`forget_definition`, wired in `apps.SurveysConfig.ready`), both
at once and again after the edit commits, so a request that read the old rows in between
cannot keep them. Entries also expire after DEFINITION_TTL seconds, which bounds staleness
where no shared cache exists (several embedded processes each with their own memory cache).
Each process keeps what it read for LOCAL_SECONDS more (no round trip at all); edits made
in the process drop that copy at once, edits made elsewhere reach it within that time.
A cache that is down or slow costs a database read, never an error.

Other features add what a respondent page needs per survey as fields of `SurveyDefinition`
filled in `_load` (e.g. texts per language, question logic): one place, one invalidation.
"""

import time
import uuid
from dataclasses import dataclass, field

from django.db import transaction

from common import cachesafe

from .models import Question, Survey, WebhookSubscription

DEFINITION_TTL = 60  # seconds
# Each process also keeps definitions it read for this long, saving the cache round trips
# of most requests; an edit made through another process reaches this one within it.
LOCAL_SECONDS = 2.0
_local: dict[str, tuple[float, "SurveyDefinition"]] = {}
_VERSION = 3  # bump when the shape of SurveyDefinition changes (old pickles are ignored)


@dataclass(frozen=True)
class SurveyDefinition:
    """What a submission needs to know about a survey, read-only."""

    survey: Survey  # with root_unit loaded
    questions: tuple[Question, ...]  # display order, choices prefetched
    webhook_events: frozenset[str] = field(default_factory=frozenset)  # wanted by someone
    # Respondent pages' blank question block per language (`views._blank_questions`),
    # filled on first use; a new definition after an edit starts empty.
    rendered: dict[str, str] = field(default_factory=dict, compare=False, repr=False)
    # The respondent form's fields per language (`forms.question_fields`), filled likewise.
    fields: dict[str, dict] = field(default_factory=dict, compare=False, repr=False)
    # Which load of the survey this is: every copy of one load (cache, processes) shares it,
    # and a load after an edit gets a new one (what `respondent_cache` keys its pages by).
    loaded: str = field(default_factory=lambda: uuid.uuid4().hex, compare=False)

    @property
    def question_list(self) -> list[Question]:
        return list(self.questions)

    def wants_webhook(self, event: str) -> bool:
        return event in self.webhook_events


def _id_key(survey_id: int) -> str:
    return f"survey-definition:{_VERSION}:{survey_id}"


def _slug_key(slug: str) -> str:
    return f"survey-definition-slug:{_VERSION}:{slug}"


def _load(survey: Survey) -> SurveyDefinition:
    questions = survey.questions.prefetch_related("choices").order_by("order", "id")
    subscriptions = WebhookSubscription.objects.filter(survey=survey, active=True)
    events: set[str] = set()
    for events_wanted in subscriptions.values_list("events", flat=True):
        events.update(events_wanted or WebhookSubscription.Event.values)
    return SurveyDefinition(
        survey=survey, questions=tuple(questions), webhook_events=frozenset(events)
    )


def _cache_get(key: str) -> object:
    return cachesafe.get(key)  # None when the cache is down or slow: read the database


def _cache_set(entries: dict[str, object]) -> None:
    cachesafe.set_many(entries, timeout=DEFINITION_TTL)


def definition_for_slug(slug: str) -> SurveyDefinition | None:
    """The definition of the survey at `slug` (any status), or None when there is none."""
    kept = _local.get(slug)
    if kept is not None and kept[0] > time.monotonic():
        return kept[1]
    definition = _shared_definition_for_slug(slug)
    if definition is not None:
        _local[slug] = (time.monotonic() + LOCAL_SECONDS, definition)
    return definition


def _shared_definition_for_slug(slug: str) -> SurveyDefinition | None:
    survey_id = _cache_get(_slug_key(slug))
    if isinstance(survey_id, int):
        definition = _cache_get(_id_key(survey_id))
        if isinstance(definition, SurveyDefinition) and definition.survey.slug == slug:
            return definition
    survey = Survey.objects.select_related("root_unit").filter(slug=slug).first()
    if survey is None:
        return None
    return _store(_load(survey))


def definition_for(survey: Survey) -> SurveyDefinition:
    """The definition of a survey already at hand (e.g. from an invitation)."""
    definition = _cache_get(_id_key(survey.pk))
    if isinstance(definition, SurveyDefinition):
        return definition
    if survey.root_unit_id and "root_unit" not in survey._state.fields_cache:
        survey = Survey.objects.select_related("root_unit").get(pk=survey.pk)
    return _store(_load(survey))


def _store(definition: SurveyDefinition) -> SurveyDefinition:
    survey = definition.survey
    _cache_set({_id_key(survey.pk): definition, _slug_key(survey.slug): survey.pk})
    return definition


def forget_definition(survey_id: int | None) -> None:
    """Drop a survey's cached definition now and once the current transaction commits."""
    if survey_id is None:
        return

    def forget() -> None:
        cachesafe.delete(_id_key(survey_id))
        for slug, (_, definition) in list(_local.items()):
            if definition.survey.pk == survey_id:
                _local.pop(slug, None)

    forget()
    transaction.on_commit(forget, robust=True)


def _survey_id_of(instance: object) -> int | None:
    if isinstance(instance, Survey):
        return instance.pk
    if isinstance(instance, Question | WebhookSubscription):
        return instance.survey_id
    question_id = getattr(instance, "question_id", None)  # a Choice
    if question_id is None:
        return None
    return Question.objects.filter(pk=question_id).values_list("survey_id", flat=True).first()


def forget_changed_definition(sender: type, instance: object, **kwargs: object) -> None:
    """Signal receiver (post_save, post_delete): an edit drops the survey's definition."""
    if kwargs.get("raw"):  # loading fixtures
        return
    forget_definition(_survey_id_of(instance))


def connect_invalidation() -> None:
    """Drop a definition whenever a row it was built from is saved or deleted."""
    from django.db.models.signals import post_delete, post_save

    from .models import Choice

    for model in (Survey, Question, Choice, WebhookSubscription):
        for signal in (post_save, post_delete):
            signal.connect(
                forget_changed_definition, sender=model, dispatch_uid=f"definition-{model.__name__}"
            )


def forget_local_definitions() -> None:
    """Drop this process's copies (tests, between databases)."""
    _local.clear()
