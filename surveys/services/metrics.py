"""Metric catalogue: metrics are created from the metric keys that questions feed."""

from collections.abc import Iterable

from django.db import transaction

from common.broker import publish

from ..catalogue import AGGREGATION_FOR_QUESTION_TYPE, KNOWN_METRICS
from ..models import Metric, Question
from ..tasks import recompute_metric_scores_task

# Catalogue fields that change how a survey metric's stored values are computed.
SCORING_FIELDS = frozenset({"aggregation", "top_box_min"})


def _definition_for(key: str, question_type: str | None) -> dict:
    if key in KNOWN_METRICS:
        return KNOWN_METRICS[key]
    aggregation, top_box_min = AGGREGATION_FOR_QUESTION_TYPE.get(
        question_type or "", (Metric.Aggregation.MEAN, None)
    )
    name = key.split(".", 1)[-1].replace("_", " ").capitalize()
    return {"name": name, "aggregation": aggregation, "top_box_min": top_box_min}


@transaction.atomic
def ensure_metrics(keys: Iterable[str], *, question_types: dict[str, str] | None = None) -> int:
    """Create a Metric for every key that has none yet; return how many were created.

    Existing metrics are left as leaders edited them in the catalogue.
    """
    question_types = question_types or {}
    wanted = {key for key in keys if key}
    existing = set(Metric.objects.filter(key__in=wanted).values_list("key", flat=True))
    new = [
        Metric(key=key, **_definition_for(key, question_types.get(key)))
        for key in sorted(wanted - existing)
    ]
    Metric.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


def ensure_metrics_for_questions(questions: Iterable[Question] | None = None) -> int:
    """Create metrics for the metric keys of `questions` (default: every question)."""
    if questions is None:
        questions = Question.objects.exclude(metric_key="").only("metric_key", "type")
    types = {question.metric_key: question.type for question in questions if question.metric_key}
    return ensure_metrics(types, question_types=types)


@transaction.atomic
def save_metric(*, metric: Metric, changed_fields: Iterable[str]) -> Metric:
    """Save a catalogue edit of `metric`; `changed_fields` names the edited fields.

    When the edit changes how a survey metric is scored (aggregation, top-box threshold),
    every stored value of it is recomputed from raw answers after commit, so no period keeps
    a value computed the old way beside new ones.
    """
    metric.save()
    if metric.source == Metric.Source.SURVEY and SCORING_FIELDS & set(changed_fields):
        # Robust: the edit is saved either way; a failed queueing is logged, not a 500.
        transaction.on_commit(
            lambda: publish(recompute_metric_scores_task, (metric.key,)), robust=True
        )
    return metric
