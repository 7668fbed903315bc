"""Releasing employee (and anonymous) results: the only way their answers reach stored scores.

Answers to employee and anonymous surveys are stored as they arrive but count in no score
until a release marks them (`Answer.release`); scoring of a confidential metric reads only
released answers (`aggregation.answers_of`), so `MetricValue` — what every reader reads
through `selectors.metric_values`: pages, API, exports, webhooks, linkage runs, expectations
and initiatives — shows nothing that was not released, and changes only at a release.

The rule, per metric and period:
- The wave closes when the period has ended or the survey is closed. The first release of
  a closed wave publishes every waiting answer, with the usual primary and complementary
  suppression (`aggregation.suppression_mask`).
- Every later release (answers after a re-opening, or batches during the wave when the
  survey's `release_mode` is batch) publishes the waiting answers of a team (the unit the
  answer is about) only once that team has at least the threshold of them. Every published
  cell — the team and each unit above it — therefore grows by 0 or by at least the threshold
  people between any two releases (STATISTICS.md §4 rule 4, across time and across nested
  groups), and a cell's visibility, once published, stays as it was
  (`aggregation.cells._published_visibility`), so no two readings differ by 1…k−1 people.
- A team's waiting answers below the threshold after an earlier release stay unpublished.

Releases run from a periodic task (`release_due_results`) and when a survey is closed.
"""

from datetime import date

from django.db import transaction
from django.db.models import Count, Q, QuerySet, Subquery
from django.utils import timezone

from common.services import record_event

from .. import periods as period_labels
from ..aggregation import MetricFeed, metric_feeds, recompute_cells
from ..models import Answer, Metric, ResultRelease, Survey
from ..visibility import Reader, SystemCaller
from .metrics import ensure_metrics_for_questions
from .webhooks import notify_score_changed

CONFIDENTIAL = Q(audience=Survey.Audience.EMPLOYEE) | Q(anonymous=True)


def wave_closed(survey: Survey, period: str, today: date | None = None) -> bool:
    """Whether the survey's wave for `period` is over: the period has ended or the survey
    is closed."""
    today = today or timezone.localdate()
    return survey.status == Survey.Status.CLOSED or period_labels.end_date(period) <= today


def results_visible_from(survey: Survey, today: date | None = None) -> date:
    """The first day on which answers given today can be part of released results (the day
    after the current period ends), for the respondent page."""
    today = today or timezone.localdate()
    return period_labels.end_date(period_labels.label_for(today, survey.period_granularity))


def _waiting(feed: MetricFeed, period: str) -> QuerySet[Answer]:
    return Answer.objects.filter(
        question_id__in=feed.question_ids,
        number__isnull=False,
        release__isnull=True,
        response__period=period,
    )


def _to_release(feed: MetricFeed, period: str, *, whole_wave: bool) -> QuerySet[Answer]:
    """The waiting answers this release publishes: all of them for the first release of a
    closed wave, otherwise those of teams with at least the threshold of waiting people."""
    waiting = _waiting(feed, period)
    released_before = Answer.objects.filter(
        question_id__in=feed.question_ids, release__isnull=False, response__period=period
    ).exists()
    if whole_wave and not released_before:
        return waiting
    teams = (
        waiting.order_by()
        .values("response__unit_id")
        .annotate(people=Count("response_id", distinct=True))
        .filter(people__gte=max(feed.threshold, 1))
        .values("response__unit_id")
    )
    return waiting.filter(response__unit_id__in=Subquery(teams))


def release_results(
    *, survey: Survey, period: str, released_by: Reader | None = None
) -> ResultRelease | None:
    """Publish what may be published of one survey's period, by the rule of this module.

    Publishes every confidential metric the survey feeds (answers of other surveys feeding
    the same metric included), recomputes those scores from released answers and sends
    `score.changed`. Nothing happens for a customer survey that is not anonymous, for a
    wave still running unless the survey releases in batches, or when no answer qualifies.
    Audited (who, survey, period, kind; no counts). Returns the release or None.
    """
    if not survey.is_confidential:
        return None
    closed = wave_closed(survey, period)
    if not closed and survey.release_mode != Survey.ReleaseMode.BATCH:
        return None
    questions = list(survey.questions.exclude(metric_key="").only("metric_key", "type"))
    ensure_metrics_for_questions(questions)
    keys = {question.metric_key for question in questions}
    with transaction.atomic():
        # One release at a time per metric: two at once would both count the same waiting
        # answers as a first release.
        list(Metric.objects.select_for_update().filter(key__in=keys).order_by("pk"))
        release = None
        for feed in metric_feeds(keys):
            if not feed.confidential:
                continue
            chosen = _to_release(feed, period, whole_wave=closed)
            if not chosen.exists():
                continue
            if release is None:
                kind = ResultRelease.Kind.WAVE if closed else ResultRelease.Kind.BATCH
                release = ResultRelease.objects.create(survey=survey, period=period, kind=kind)
            Answer.objects.filter(pk__in=Subquery(chosen.values("pk"))).update(release=release)
        if release is None:
            return None
        if recompute_cells(metric_keys=keys, periods=[period]):
            notify_score_changed(survey_id=survey.pk, period=period, metric_keys=keys)
        actor = None if isinstance(released_by, SystemCaller) else released_by
        details = {"survey_id": survey.pk, "period": period, "kind": release.kind}
        record_event(actor, "results.released", f"{survey.title} / {period}", details)
    return release


def waiting_periods(survey: Survey) -> list[str]:
    """Periods of the survey with answers not yet released, oldest first."""
    answers = Answer.objects.filter(
        question__survey=survey, release__isnull=True, number__isnull=False
    ).exclude(question__metric_key="")
    return sorted(set(answers.values_list("response__period", flat=True).distinct()))


def release_survey(*, survey: Survey, released_by: Reader | None = None) -> int:
    """Release every waiting period of one survey that may be released now; returns how
    many releases were made (on closing a survey, from the admin)."""
    made = 0
    for period in waiting_periods(survey):
        if release_results(survey=survey, period=period, released_by=released_by):
            made += 1
    return made


def release_due_results() -> int:
    """Periodic task: release every closed wave, and batches of batch-mode surveys, of all
    employee and anonymous surveys. Returns how many releases were made."""
    surveys = Survey.objects.filter(CONFIDENTIAL).exclude(status=Survey.Status.DRAFT)
    return sum(release_survey(survey=survey) for survey in surveys.order_by("pk"))


def period_released(survey: Survey, period: str) -> bool:
    """Whether any answer of this survey's period was released (imports stop then)."""
    return Answer.objects.filter(
        question__survey=survey, response__period=period, release__isnull=False
    ).exists()
