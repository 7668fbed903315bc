"""Recompute stored MetricValues of survey metrics from raw answers, by scope."""

from collections.abc import Callable, Iterable

from django.db import transaction
from django.db.models import QuerySet

from ..models import Metric, Question
from .cells import UnitTree, metric_feeds
from .incremental import recompute_feed

Progress = Callable[[int, int], object]


def lock_metrics(metrics: QuerySet[Metric]) -> None:
    """Lock metric rows (in id order, so two lockers never deadlock) until the current
    transaction ends: one writer of a metric's stored scores at a time — a full recompute,
    a pass over logged changes or a release. Submissions never take these locks. A no-op on
    SQLite, which lets one writing transaction run at a time anyway."""
    list(metrics.select_for_update().order_by("pk").values_list("pk", flat=True))


def recompute_cells(
    *,
    survey_ids: Iterable[int] | None = None,
    periods: Iterable[str] | None = None,
    metric_keys: Iterable[str] | None = None,
    progress: Progress | None = None,
) -> int:
    """Recompute MetricValues of survey metrics for every unit from raw answers.

    `survey_ids` narrows to the metrics those surveys feed (each metric still pools every
    survey feeding it), `metric_keys` to those metrics, `periods` to those period labels
    (None = all). Cells that no longer have answers are deleted. Each metric is computed
    and written in one transaction holding its lock (`lock_metrics`); customer metrics
    rebuild their per-cell statistics and leave out responses still waiting in the change
    log (their pass adds them: `incremental`). Returns rows written
    (new or changed; unchanged cells are left as they are).
    """
    keys = None if metric_keys is None else set(metric_keys)
    if survey_ids is not None:
        fed = Question.objects.filter(survey_id__in=list(survey_ids)).exclude(metric_key="")
        fed_keys = set(fed.values_list("metric_key", flat=True))
        keys = fed_keys if keys is None else keys & fed_keys
    periods = None if periods is None else list(periods)
    feeds = metric_feeds(keys)
    tree = UnitTree.load()
    written = 0
    for done, feed in enumerate(feeds, start=1):
        with transaction.atomic():
            lock_metrics(Metric.objects.filter(pk=feed.metric.pk))
            written += recompute_feed(feed, tree=tree, periods=periods)
        if progress is not None:
            progress(done, len(feeds))
    return written
