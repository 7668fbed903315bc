"""Ad-hoc scores of a unit subtree over periods and a segment (expectations, initiatives),
under the same formulas and anonymity rules as stored cells."""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db import connection
from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    FloatField,
    IntegerField,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Concat

from .. import scoring
from ..models import Answer, Metric, OrgUnit
from ..scoring.clustered import pool_clusters
from ..scoring.paired import OverlapSums
from .cells import (
    STATISTICS,
    MetricFeed,
    UnitTree,
    aggregates,
    answers_of,
    box_min,
    compute_cells,
    metric_feeds,
    respondent_sums,
    score_statistics,
)
from .store import cell_details, number

_SEGMENT_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class GroupValue:
    """An ad-hoc score for a unit subtree; a suppressed group has no value and n = 0."""

    value: float | None
    n: int
    ci_low: float | None = None
    ci_high: float | None = None
    suppressed: bool = False
    details: dict[str, Any] = field(default_factory=dict)


def compute_group_value(
    *,
    metric: Metric,
    unit: OrgUnit,
    periods: Iterable[str],
    segment: Mapping[str, Any] | None = None,
) -> GroupValue:
    """Score one metric for a unit's subtree over one or more periods, pooled.

    `segment` filters on response segment attributes, e.g. {"product": "X"}. Same formulas
    and the same anonymity rules as stored cells: a group with fewer respondents than the
    threshold comes back suppressed (value None, n 0), and so does a unit hidden by the
    stored cells' suppression in any of `periods` (`_reveals_hidden_group`), so an ad-hoc
    value never reveals what the pages hide. A metric under an anonymity threshold takes no
    segment: a segment and the rest of its unit could be told apart by subtraction. An
    employee or anonymous metric counts released answers only (`answers_of`), with the
    visibility its cells were released with, so it moves only when the pages do. A metric
    no question feeds yet (or an imported one) gives value None and n 0. Raises ValueError
    for a bad segment key or a segment on a metric with an anonymity threshold.
    """
    feeds = metric_feeds([metric.key])
    if not feeds or not feeds[0].question_ids:
        return GroupValue(value=None, n=0)
    feed, periods = feeds[0], list(periods)
    if feed.threshold and segment:
        raise ValueError(
            f"{metric} comes from anonymous answers (anonymity threshold {feed.threshold}): "
            "it cannot be narrowed by a segment, because the segment and the rest of its unit "
            "could reveal a small group. Choose a unit as the target group instead."
        )
    answers = answers_of(feed, periods).filter(
        _segment_filter(segment or {}), response__unit__path__startswith=unit.path
    )
    row = answers.aggregate(**aggregates(feed))
    statistics = [float(row[name] or 0) for name in STATISTICS[metric.aggregation]]
    respondents = int(row.get("respondents", statistics[0]) or 0)
    if respondents == 0:
        return GroupValue(value=None, n=0)
    if respondents < feed.threshold or _reveals_hidden_group(feed, unit=unit, periods=periods):
        return GroupValue(value=None, n=0, suppressed=True, details={"threshold": feed.threshold})
    if feed.multi_item:
        statistics += list(respondent_sums(feed, answers, []).get((), (0.0, 0.0, 0.0)))
    scored = score_statistics(metric, np.array([[*statistics, respondents]]))
    extra = {name: number(array[0]) for name, array in scored.extra.items()}
    if feed.multi_item:
        statistics.append(respondents)
    return GroupValue(
        value=number(scored.values[0]),
        n=respondents,
        ci_low=number(scored.ci_low[0]),
        ci_high=number(scored.ci_high[0]),
        details=cell_details(metric.aggregation, statistics, scored.flags[0], extra),
    )


def _reveals_hidden_group(feed: MetricFeed, *, unit: OrgUnit, periods: list[str]) -> bool:
    """Whether a group value would let a hidden group be recovered by subtraction.

    The unit's cells are scored as stored, with complementary suppression (fresh from the
    answers, not from possibly stale MetricValue rows). A unit hidden in any of the periods
    stays hidden when pooled: pooled minus the visible periods would show it.
    """
    if not feed.threshold:
        return False
    cells = compute_cells(feed, tree=UnitTree.load(), periods=periods)
    return bool(cells.suppressed[cells.unit_ids == unit.pk].any())


def _segment_filter(segment: Mapping[str, Any]) -> Q:
    condition = Q()
    for key, value in segment.items():
        # A key like "product__contains" would become a lookup, not an attribute name.
        if not isinstance(key, str) or not _SEGMENT_KEY.match(key) or "__" in key:
            raise ValueError(f"'{key}' is not a segment attribute name (letters, digits, _).")
        if not isinstance(value, str | int | float | bool):
            raise ValueError(f"Segment '{key}' must be a single text or number value.")
        condition &= Q(**{f"response__segment__{key}": value})
    return condition


@dataclass(frozen=True)
class ClusterSums:
    """A group's answers per answering unit (the design's clusters), one row per period.

    ``n[p, c]`` answers and ``total[p, c]`` the coded outcome summed over them (NPS:
    promoters − detractors; share or rate: hits; mean: sum of answers) of cluster c (the unit
    the answers were given at, e.g. a store) in period p; zero where it had none.
    """

    unit_ids: np.ndarray
    n: np.ndarray
    total: np.ndarray


def group_cluster_sums(
    *,
    metric: Metric,
    unit: OrgUnit,
    periods: list[str],
    segment: Mapping[str, Any] | None = None,
    split: OrgUnit | None = None,
) -> ClusterSums | None:
    """Per-cluster counts of a unit subtree's answers in each of `periods` (one GROUP BY).

    The input of the cluster-robust change tests (`scoring.clustered_change`,
    `difference_in_differences`). Only answers `compute_group_value` would count (released,
    in the segment); None for an imported or unfed metric. Callers show only the tested
    change of the whole group, never these per-cluster sums.

    A confidential metric's hidden clusters (units suppressed in any of `periods`) enter as
    one pooled pseudo-cluster labelled with `unit`'s id (`_pool_hidden`): a clustered variance
    over each hidden store would add their sum of squares to the published group total (their
    sum), and two equations solve two hidden stores. With `split` (a DiD's treated unit) the
    hidden clusters inside it form a second pool labelled with `split`'s id.
    """
    feeds = metric_feeds([metric.key])
    if not feeds or not feeds[0].question_ids:
        return None
    feed = feeds[0]
    answers = answers_of(feed, periods).filter(
        _segment_filter(segment or {}), response__unit__path__startswith=unit.path
    )
    rows = list(
        answers.values_list("response__unit_id", "response__period")
        .annotate(**aggregates(feed))
        .order_by()
    )
    unit_ids = np.array(sorted({row[0] for row in rows}), dtype=np.int64)
    n = np.zeros((len(periods), len(unit_ids)))
    total = np.zeros_like(n)
    for unit_id, period, answered, *counts in rows:
        row, column = periods.index(period), int(np.searchsorted(unit_ids, unit_id))
        n[row, column] = answered
        total[row, column] = _coded_total(metric.aggregation, counts)
    sums = ClusterSums(unit_ids=unit_ids, n=n, total=total)
    if feed.confidential and feed.threshold and len(unit_ids):
        return _pool_hidden(feed, sums, unit=unit, periods=periods, split=split)
    return sums


def _pool_hidden(
    feed: MetricFeed, sums: ClusterSums, *, unit: OrgUnit, periods: list[str], split: OrgUnit | None
) -> ClusterSums:
    """The clusters with the hidden ones merged into pools (`scoring.pool_clusters`).

    What a pool adds to a test is its pooled counts, which the published group less its
    shown stores already gives (and, with complementary suppression, it holds at least the
    threshold's answers; a smaller pool is left out). So a published p-value, interval or
    change depends on the hidden stores only through what subtraction shows anyway. Coarser
    clusters keep the test valid with fewer clusters (wider intervals; `pool_clusters`).
    """
    cells = compute_cells(feed, tree=UnitTree.load(), periods=periods)
    hidden = np.isin(sums.unit_ids, cells.unit_ids[cells.suppressed])
    if not hidden.any():
        return sums
    pool = np.where(hidden, unit.pk, -1)
    if split is not None and split.pk != unit.pk:
        inside = OrgUnit.objects.filter(path__startswith=split.path).values_list("pk", flat=True)
        pool = np.where(hidden & np.isin(sums.unit_ids, list(inside)), split.pk, pool)
    pooled = pool_clusters(sums.unit_ids, sums.n, sums.total, pool, minimum=feed.threshold)
    return ClusterSums(unit_ids=pooled.labels, n=pooled.n, total=pooled.total)


def _coded_total(aggregation: str, counts: list[Any]) -> float:
    """Σ of the coded outcome from a cell's conditional counts (`STATISTICS` order)."""
    if aggregation == Metric.Aggregation.NPS:
        return float(counts[0] or 0) - float(counts[1] or 0)
    return float(counts[0] or 0)


# Per metric: respondents of both periods (paired), of the first only and of the second only:
# count, then the sums `OverlapSums` needs, in its field order. m1, m2 are a respondent's
# period means.
_OVERLAP_SQL = """
SELECT metric_key,
  SUM(CASE WHEN c1 > 0 AND c2 > 0 THEN 1 ELSE 0 END),
  SUM(CASE WHEN c1 > 0 AND c2 > 0 THEN m1 END),
  SUM(CASE WHEN c1 > 0 AND c2 > 0 THEN m2 END),
  SUM(CASE WHEN c1 > 0 AND c2 > 0 THEN m1 * m1 END),
  SUM(CASE WHEN c1 > 0 AND c2 > 0 THEN m2 * m2 END),
  SUM(CASE WHEN c1 > 0 AND c2 > 0 THEN m1 * m2 END),
  SUM(CASE WHEN c1 > 0 AND c2 = 0 THEN 1 ELSE 0 END),
  SUM(CASE WHEN c1 > 0 AND c2 = 0 THEN m1 END),
  SUM(CASE WHEN c1 > 0 AND c2 = 0 THEN m1 * m1 END),
  SUM(CASE WHEN c2 > 0 AND c1 = 0 THEN 1 ELSE 0 END),
  SUM(CASE WHEN c2 > 0 AND c1 = 0 THEN m2 END),
  SUM(CASE WHEN c2 > 0 AND c1 = 0 THEN m2 * m2 END)
FROM (
  SELECT metric_key, c1, c2,
    CASE WHEN c1 > 0 THEN CAST(t1 AS DOUBLE PRECISION) / c1 END AS m1,
    CASE WHEN c2 > 0 THEN CAST(t2 AS DOUBLE PRECISION) / c2 END AS m2
  FROM (
    SELECT sub.metric_key AS metric_key,
      SUM(CASE WHEN sub.is_first = 1 THEN sub.answered ELSE 0 END) AS c1,
      SUM(CASE WHEN sub.is_first = 1 THEN sub.coded_total ELSE 0 END) AS t1,
      SUM(CASE WHEN sub.is_first = 0 THEN sub.answered ELSE 0 END) AS c2,
      SUM(CASE WHEN sub.is_first = 0 THEN sub.coded_total ELSE 0 END) AS t2
    FROM ({inner}) sub
    GROUP BY sub.metric_key, sub.respondent
  ) per_respondent
) means
GROUP BY metric_key
"""


def pairable(feed: MetricFeed) -> bool:
    """Whether a metric's repeat respondents may be paired (`respondent_overlap_sums`)."""
    return (
        bool(feed.question_ids)
        and not (feed.confidential or feed.threshold or feed.several_per_survey)
        and _coded_answer(feed) is not None
    )


def respondent_overlap_sums(
    *,
    metrics: Iterable[Metric],
    unit: OrgUnit,
    periods: tuple[str, str],
    segment: Mapping[str, Any] | None = None,
    feeds: Iterable[MetricFeed] | None = None,
) -> dict[str, OverlapSums]:
    """Per-respondent sums of a unit subtree's answers in two periods, split into repeat
    respondents (both periods) and the rest, per metric key (one query for all metrics):
    the input of the partially overlapping t-test (`scoring.paired.overlap_change_from_sums`).

    A respondent is a response's `respondent_key` (the customer id an invitation or import
    gives); a response without one is a respondent of its own. A respondent's value in a
    period is the mean of their coded answers there (NPS +1/0/−1, top-box 0/1, or the
    answer). Why raw SQL: a GROUP BY respondent inside a sum over respondents, which the ORM
    cannot aggregate; the inner query is the ORM's, so the filters stay in one place.

    A metric is left out — nothing is paired — when an employee or anonymous survey feeds
    it or it has an anonymity threshold (such answers carry no respondent key, and pairing
    them across waves must never be attempted), when it is multi-item or summed, imported,
    or fed by no question. Callers show only the tested change and the number of repeat
    respondents of a group they already show, never these sums. ``feeds``: the metrics'
    `metric_feeds` when the caller has them (saves a query).
    """
    keys = {metric.key for metric in metrics}
    known = metric_feeds(keys) if feeds is None else feeds
    feeds = [feed for feed in known if feed.metric.key in keys and pairable(feed)]
    if not feeds:
        return {}
    coded = Case(
        *(When(question_id__in=feed.question_ids, then=_coded_answer(feed)) for feed in feeds),
        output_field=FloatField(),
    )
    answers = Answer.objects.filter(
        question_id__in=[question for feed in feeds for question in feed.question_ids],
        number__isnull=False,
        response__period__in=list(periods),
    ).filter(_segment_filter(segment or {}), response__unit__path__startswith=unit.path)
    inner = (
        answers.annotate(
            metric_key=F("question__metric_key"),
            respondent=Case(
                When(
                    response__respondent_key="",
                    then=Concat(Value("r"), Cast("response_id", CharField())),
                ),
                default=Concat(Value("k"), F("response__respondent_key")),
                output_field=CharField(),
            ),
            is_first=Case(
                When(response__period=periods[0], then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            ),
        )
        .values("metric_key", "respondent", "is_first")
        .annotate(answered=Count("id"), coded_total=Sum(coded))
        .order_by()
    )
    sql, params = inner.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(_OVERLAP_SQL.format(inner=sql), params)
        rows = cursor.fetchall()
    return {key: OverlapSums(*(float(value or 0) for value in sums)) for key, *sums in rows}


def _coded_answer(feed: MetricFeed) -> Any | None:
    """An answer's coded value: NPS +1/0/−1, top-box 0/1, the answer for a mean."""
    aggregation = feed.metric.aggregation
    if aggregation == Metric.Aggregation.NPS:
        return Case(
            When(number__gte=scoring.NPS_PROMOTER_MIN, then=Value(1.0)),
            When(number__lte=scoring.NPS_DETRACTOR_MAX, then=Value(-1.0)),
            default=Value(0.0),
            output_field=FloatField(),
        )
    if aggregation in (Metric.Aggregation.TOP_BOX, Metric.Aggregation.RATE):
        return Case(
            When(number__gte=box_min(feed.metric), then=Value(1.0)),
            default=Value(0.0),
            output_field=FloatField(),
        )
    if aggregation == Metric.Aggregation.MEAN:
        return Cast("number", FloatField())
    return None
