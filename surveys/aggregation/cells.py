"""Score every unit × period of one metric: one GROUP BY, a numpy roll-up, suppression.

Why one GROUP BY on the answering unit plus a numpy roll-up, rather than one GROUP BY on
Substr(path, 1, depth·9) per depth: the answers are scanned once instead of once per level
(a third of the I/O on company → region → store), and the roll-up adds sufficient statistics
(counts, sums, sums of squares), which are additive — so a region's or the company's score
still comes from its descendants' raw answers, never from an average of averages. The same
query runs unchanged on SQLite and PostgreSQL. Metrics with rows in a grid also carry the
whole grid's straight-lining counts (`grids`), rolled up the same way.
"""

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db import connection
from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Subquery,
    Sum,
)

from .. import scoring
from ..models import (
    Answer,
    DirtyScoreCell,
    Metric,
    MetricValue,
    OrgUnit,
    Question,
    Survey,
)
from ..scoring.flags import plausibility_flags_for_metric
from .grids import Grid, GridScope, grid_counts, grid_statistics, load_grids

A = Metric.Aggregation
# Statistic columns per aggregation, in query order; a respondents column is appended.
STATISTICS: dict[str, tuple[str, ...]] = {
    A.NPS: ("answers", "promoters", "detractors"),
    A.TOP_BOX: ("answers", "k"),
    A.RATE: ("answers", "k"),
    A.MEAN: ("answers", "sum", "sum_sq"),
    A.SUM: ("answers", "sum", "sum_sq"),
}
# A mean fed by several items of one survey (a grid, a competency index) also keeps per-respondent
# sums (respondent score y_i = sum of its item answers, m_i = its items answered): Σy_i², Σm_i²,
# Σy_i·m_i. They sit before the respondents column and give the respondent-clustered interval.
MULTI_ITEM_STATISTICS = ("respondent_sum_sq", "items_sq", "sum_items")
MULTI_ITEM_AGGREGATIONS = (A.MEAN, A.TOP_BOX, A.RATE)  # y_i: sum of answers, or of hits
PERCENT_FIELDS = ("value", "sd", "se", "ci_low", "ci_high")
# Fewer respondents than this: a mean gets no interval (a t interval from 2-4 answers mostly
# shows how little is known, and leaders read its width as precision); a flag says why.
MIN_INTERVAL_N = 5


@dataclass(frozen=True)
class MetricFeed:
    """What feeds one survey metric: its questions and the anonymity rule that applies."""

    metric: Metric
    question_ids: list[int]
    threshold: int  # strictest anonymity threshold among the feeding surveys (0 = none)
    several_per_survey: bool  # some survey has more than one question for this metric
    grids: tuple[Grid, ...] = ()  # whole grids some of the metric's questions are rows of
    # Fed by an employee or anonymous survey: only released answers count, and cells once
    # stored keep their visibility (`compute_cells`, `services.releases`).
    confidential: bool = False

    @property
    def multi_item(self) -> bool:
        """A mean or share over several questions of one survey (a grid, an index): its
        respondents, not its answers, are n."""
        return self.several_per_survey and self.metric.aggregation in MULTI_ITEM_AGGREGATIONS


@dataclass(frozen=True)
class Cells:
    """Every scored cell of one metric as parallel arrays (index i = one unit × period)."""

    unit_ids: np.ndarray
    periods: np.ndarray  # period labels (object array)
    statistics: np.ndarray  # cells × (STATISTICS[aggregation] + respondents), float64
    values: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    suppressed: np.ndarray
    flags: list[list[str]]
    extra: dict[str, np.ndarray] = field(default_factory=dict)  # e.g. adjusted-Wald limits

    def __len__(self) -> int:
        return len(self.unit_ids)

    @property
    def n(self) -> np.ndarray:
        """Respondents per cell."""
        return self.statistics[:, -1]


# ------------------------------------------------------------------ what feeds a metric


def metric_feeds(metric_keys: Iterable[str] | None = None) -> list[MetricFeed]:
    """Survey metrics (all, or only `metric_keys`) with the questions that feed them.

    Imported (outcome) metrics are left out: their values come from outcome imports.
    """
    metrics = Metric.objects.filter(source=Metric.Source.SURVEY).order_by("key")
    if metric_keys is not None:
        metrics = metrics.filter(key__in=list(metric_keys))
    feeding: dict[str, list[tuple[int, int, int, str]]] = {metric.key: [] for metric in metrics}
    rows = Question.objects.filter(metric_key__in=list(feeding)).values_list(
        "metric_key", "id", "survey_id", "survey__anonymity_threshold", "grid"
    )
    confidential_keys: set[str] = set()
    confidential = Q(survey__audience=Survey.Audience.EMPLOYEE) | Q(survey__anonymous=True)
    for key, question_id, survey_id, threshold, grid, secret in rows.annotate(
        secret=ExpressionWrapper(confidential, output_field=BooleanField())
    ):
        feeding[key].append((question_id, survey_id, threshold, grid))
        if secret:
            confidential_keys.add(key)
    grids = load_grids(
        {(survey_id, grid) for rows in feeding.values() for _, survey_id, _, grid in rows}
    )
    feeds = []
    for metric in metrics:
        questions = feeding[metric.key]
        grid_keys = sorted({(survey_id, grid) for _, survey_id, _, grid in questions if grid})
        survey_ids = [survey_id for _, survey_id, _, _ in questions]
        feeds.append(
            MetricFeed(
                metric=metric,
                question_ids=[question_id for question_id, _, _, _ in questions],
                threshold=max((threshold for _, _, threshold, _ in questions), default=0),
                several_per_survey=len(survey_ids) != len(set(survey_ids)),
                grids=tuple(grids[key] for key in grid_keys if key in grids),
                confidential=metric.key in confidential_keys,
            )
        )
    return feeds


def box_min(metric: Metric) -> float:
    """Top-box threshold; a rate counts answers scored 1 (yes) unless told otherwise."""
    if metric.top_box_min is not None:
        return metric.top_box_min
    return 1.0 if metric.aggregation == A.RATE else 4.0


def aggregates(feed: MetricFeed) -> dict[str, Any]:
    """Conditional aggregates giving one cell's sufficient statistics, counted in SQL."""
    columns: dict[str, Any] = {"answers": Count("id")}
    if feed.metric.aggregation == A.NPS:
        columns["promoters"] = Count("id", filter=Q(number__gte=scoring.NPS_PROMOTER_MIN))
        columns["detractors"] = Count("id", filter=Q(number__lte=scoring.NPS_DETRACTOR_MAX))
    elif feed.metric.aggregation in (A.TOP_BOX, A.RATE):
        columns["k"] = Count("id", filter=Q(number__gte=box_min(feed.metric)))
    else:
        columns["sum"] = Sum("number")
        columns["sum_sq"] = Sum(F("number") * F("number"))
    # COUNT(DISTINCT) costs a sort; it only differs from COUNT when one survey asks twice.
    if feed.several_per_survey:
        columns["respondents"] = Count("response_id", distinct=True)
    return columns


def answers_of(feed: MetricFeed, periods: Iterable[str] | None) -> QuerySet[Answer]:
    """Numeric answers to the metric's questions (skipped and text answers are not in n);
    of a confidential metric only the released ones, so nothing computed from answers shows
    an employee answer before its release."""
    answers = Answer.objects.filter(question_id__in=feed.question_ids, number__isnull=False)
    if feed.confidential:
        answers = answers.filter(release__isnull=False)
    if periods is not None:
        answers = answers.filter(response__period__in=list(periods))
    return answers


# ------------------------------------------------------------------ the org tree


@dataclass(frozen=True)
class UnitTree:
    """Org units as arrays: sorted ids and each unit's parent position (-1 for a root)."""

    ids: np.ndarray
    parent: np.ndarray

    @classmethod
    def load(cls) -> "UnitTree":
        rows = list(OrgUnit.objects.order_by("id").values_list("id", "parent_id"))
        ids = np.array([unit_id for unit_id, _ in rows], dtype=np.int64)
        parent_ids = np.array([parent or -1 for _, parent in rows], dtype=np.int64)
        parent = np.where(parent_ids >= 0, np.searchsorted(ids, parent_ids), -1)
        return cls(ids=ids, parent=parent)

    def position(self, unit_ids: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.ids, unit_ids)


def roll_up(
    tree: UnitTree, units: np.ndarray, periods: np.ndarray, statistics: np.ndarray, width: int
) -> tuple[np.ndarray, np.ndarray]:
    """Add each (unit, period) row's statistics to that unit and to every ancestor.

    `units` are tree positions, `periods` period indexes below `width`. Returns the sorted
    cell keys (unit position × width + period index) and the summed statistics per key.
    """
    keys, blocks = [], []
    while len(units):
        keys.append(units * width + periods)
        blocks.append(statistics)
        above = tree.parent[units]
        keep = above >= 0
        units, periods, statistics = above[keep], periods[keep], statistics[keep]
    cell_keys, inverse = np.unique(np.concatenate(keys), return_inverse=True)
    totals = np.zeros((len(cell_keys), statistics.shape[1]))
    np.add.at(totals, inverse, np.concatenate(blocks))
    return cell_keys, totals


def suppression_mask(
    n: np.ndarray,
    parent: np.ndarray,
    threshold: int,
    *,
    hidden: np.ndarray | None = None,
    fixed: np.ndarray | None = None,
) -> np.ndarray:
    """Cells to hide: primary (n < threshold) and complementary suppression in a tree.

    `parent[i]` is the position of cell i's parent cell (-1 at the top). While a parent's
    hidden remainder — its n minus its visible children's n — lies between 1 and
    threshold − 1, its smallest visible child is hidden too (Glint/Tivian remainder rule), so
    no small group can be recovered as parent − visible children. A hidden parent must not be
    recoverable as the sum of its visible children either (remainder 0), or it would reveal
    the small sibling it was hidden to protect. Answers given at the parent unit itself count
    in the remainder.

    `hidden` marks cells that must stay hidden whatever their n, and `fixed` cells whose
    visibility was already published: complementary suppression hides a visible cell that
    is not fixed first (a fixed one only if no other would do), so a released cell keeps
    showing its published group (see `services.releases`).
    """
    hidden = (n < threshold) | (False if hidden is None else hidden)
    order_first = np.zeros(len(n), dtype=bool) if fixed is None else fixed
    children = np.flatnonzero(parent >= 0)
    while threshold > 0:
        visible = children[~hidden[children]]
        shown = np.bincount(parent[visible], weights=n[visible], minlength=len(n))
        shown_count = np.bincount(parent[visible], minlength=len(n))
        remainder = n - shown
        leaking = (shown_count > 0) & (remainder < threshold) & ((remainder > 0) | hidden)
        if not leaking.any():
            break
        candidates = visible[leaking[parent[visible]]]
        keys = (candidates, n[candidates], order_first[candidates], parent[candidates])
        ordered = candidates[np.lexsort(keys)]
        first = np.ones(len(ordered), dtype=bool)
        first[1:] = parent[ordered][1:] != parent[ordered][:-1]
        hidden[ordered[first]] = True  # the smallest visible child of each leaking parent
    return hidden


# ------------------------------------------------------------------ computing and scoring


@dataclass(frozen=True)
class Leaves:
    """Sufficient statistics of the answers given at each answering unit × period (its own
    answers, not its subtree's): the additive input every stored score is a function of."""

    unit_ids: np.ndarray  # int64
    periods: np.ndarray  # period labels (object array)
    statistics: np.ndarray  # rows × (STATISTICS[aggregation] + respondents), float64
    # The metric's grids' statistics (`Grid`, `count_label`): rows × labels, additive too.
    grid_labels: tuple[str, ...] = ()
    grid_counts: np.ndarray = field(default_factory=lambda: np.empty((0, 0)))

    def __len__(self) -> int:
        return len(self.unit_ids)


def leaf_statistics(
    feed: MetricFeed,
    *,
    periods: Iterable[str] | None = None,
    response_ids: Iterable[int] | None = None,
    exclude_pending: bool = False,
) -> Leaves:
    """One GROUP BY (answering unit, period) of the metric's answers, in `periods`, of only
    `response_ids` when given (a batch of new responses), and without the responses still
    waiting in the change log when `exclude_pending` (they are added by their own pass:
    one statement, one snapshot, so every response is counted by exactly one of the two)."""
    periods = None if periods is None else list(periods)
    response_ids = None if response_ids is None else list(response_ids)
    answers = answers_of(feed, periods)
    if response_ids is not None:
        answers = answers.filter(response_id__in=list(response_ids))
    if exclude_pending:
        answers = answers.exclude(response_id__in=Subquery(pending_responses()))
    rows = list(
        answers.values_list("response__unit_id", "response__period")
        .annotate(**aggregates(feed))
        .order_by("response__unit_id", "response__period")
    )
    columns = len(STATISTICS[feed.metric.aggregation]) + 1
    columns += len(MULTI_ITEM_STATISTICS) if feed.multi_item else 0
    if not rows:
        return Leaves(
            np.empty(0, dtype=np.int64), np.empty(0, dtype=object), np.empty((0, columns))
        )
    unit_ids, labels, *values = zip(*rows, strict=True)
    statistics = np.array(values, dtype=np.float64).T
    if not feed.several_per_survey:
        statistics = np.column_stack([statistics, statistics[:, 0]])  # respondents = answers
    if feed.multi_item:  # per-respondent sums, additive over respondents like the rest
        by_cell = respondent_sums(feed, answers, ["response__unit_id", "response__period"])
        extra_columns = np.array(
            [by_cell.get(key, (0.0, 0.0, 0.0)) for key in zip(unit_ids, labels, strict=True)]
        )
        statistics = np.column_stack([statistics[:, :-1], extra_columns, statistics[:, -1]])
    leaves = Leaves(
        unit_ids=np.array(unit_ids, dtype=np.int64),
        periods=np.array(labels, dtype=object),
        statistics=statistics,
    )
    if not feed.grids:
        return leaves
    scope = GridScope(
        confidential=feed.confidential,
        periods=periods,
        response_ids=response_ids,
        pending=pending_responses() if exclude_pending else None,
    )
    cells = list(zip(leaves.unit_ids.tolist(), leaves.periods.tolist(), strict=True))
    labels, counts = grid_statistics(feed.grids, cells, scope)
    return dataclasses.replace(leaves, grid_labels=labels, grid_counts=counts)


def pending_responses() -> QuerySet:
    """Ids of responses whose change-log rows no pass has applied yet."""
    return DirtyScoreCell.objects.filter(response__isnull=False).values("response_id")


def compute_cells(
    feed: MetricFeed,
    *,
    tree: UnitTree,
    periods: Iterable[str] | None = None,
    exclude_pending: bool = False,
) -> Cells:
    """Score every unit × period of one metric from raw answers, with suppression applied.

    One GROUP BY (answering unit, period) for the metric (`leaf_statistics`); every ancestor
    gets the sums of its descendants' statistics. Values and intervals of suppressed cells
    are NaN.
    """
    periods = None if periods is None else list(periods)
    return cells_from_leaves(
        feed, leaf_statistics(feed, periods=periods, exclude_pending=exclude_pending), tree=tree
    )


def cells_from_leaves(feed: MetricFeed, leaves: Leaves, *, tree: UnitTree) -> Cells:
    """Roll leaf statistics up the tree, score every cell, decide suppression from the
    counts (and, for confidential metrics, what was published), flag straight-lining."""
    if not len(leaves):
        return _no_cells(feed)
    period_labels, period_index = np.unique(leaves.periods, return_inverse=True)
    width = len(period_labels)
    units = tree.position(leaves.unit_ids)
    columns = leaves.statistics.shape[1]
    added = leaves.statistics
    if feed.grids:
        added = np.column_stack([added, _grid_columns(leaves)])
    cell_keys, rolled = roll_up(tree, units, period_index, added, width)
    totals, grid_totals = rolled[:, :columns], rolled[:, columns:]
    parent = _parent_cells(tree, cell_keys, width)
    scored = score_statistics(feed.metric, totals)
    published = {}
    if feed.confidential:
        published = _published_visibility(feed, tree, period_labels, cell_keys)
    suppressed = suppression_mask(totals[:, -1], parent, feed.threshold, **published)
    for array in (scored.values, scored.ci_low, scored.ci_high, *scored.extra.values()):
        array[suppressed] = np.nan
    if feed.grids:
        grids = grid_counts(feed.grids, leaves.grid_labels, grid_totals)
        for index in np.flatnonzero(scoring.straight_lining_flags(grids)):
            scored.flags[index].append("straight_lining")
    return Cells(
        unit_ids=tree.ids[cell_keys // width],
        periods=period_labels[cell_keys % width],
        statistics=totals,
        suppressed=suppressed,
        values=scored.values,
        ci_low=scored.ci_low,
        ci_high=scored.ci_high,
        flags=scored.flags,
        extra=scored.extra,
    )


def respondent_sums(
    feed: MetricFeed, answers: QuerySet[Answer], group_by: list[str]
) -> dict[tuple[Any, ...], tuple[float, float, float]]:
    """Σy_i², Σm_i², Σy_i·m_i over respondents per group (`MULTI_ITEM_STATISTICS`).

    Why raw SQL: the per-respondent sums need a GROUP BY response inside a GROUP BY group,
    which the ORM cannot aggregate; the inner query is still the ORM's, so filters (release,
    segment, scope) stay in one place. The same SQL runs on SQLite and PostgreSQL.
    """
    inner = (
        answers.values("response_id", *group_by)
        .annotate(item_count=Count("id"), item_total=_respondent_score(feed))
        .order_by()
    )
    sql, params = inner.query.sql_with_params()
    # The ORM aliases each values() column by its lookup ("response__unit_id").
    keys = ", ".join(f'sub."{lookup}"' for lookup in group_by) or "1"
    query = (
        f"SELECT {keys}, SUM(sub.item_total * sub.item_total), "
        "SUM(sub.item_count * sub.item_count), SUM(sub.item_total * sub.item_count) "
        f"FROM ({sql}) sub GROUP BY {keys}"
    )
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        rows = cursor.fetchall()
    size = len(group_by)
    skip = size or 1  # without a group the constant key column comes first
    return {
        tuple(row[:size]): (
            float(row[skip] or 0),
            float(row[skip + 1] or 0),
            float(row[skip + 2] or 0),
        )
        for row in rows
    }


def _respondent_score(feed: MetricFeed) -> Any:
    """y_i: a respondent's sum of item answers (mean), or of top-box hits (share, rate)."""
    if feed.metric.aggregation == A.MEAN:
        return Sum("number")
    return Count("id", filter=Q(number__gte=box_min(feed.metric)))


def _grid_columns(leaves: Leaves) -> np.ndarray:
    if leaves.grid_counts.shape == (len(leaves), len(leaves.grid_labels)):
        return leaves.grid_counts
    return np.zeros((len(leaves), len(leaves.grid_labels)))


def _published_visibility(
    feed: MetricFeed, tree: UnitTree, period_labels: np.ndarray, cell_keys: np.ndarray
) -> dict[str, np.ndarray]:
    """`hidden` and `fixed` for `suppression_mask` from the cells already stored: a cell once
    stored hidden stays hidden, and one stored visible is hidden again only as a last resort.

    Why: readers keep every release they saw. A cell hidden at a release and shown at a
    later one could be recovered as it was (later value minus what was released since), so
    visibility, once published for a period, does not change; new releases only add groups
    of at least the threshold (`services.releases`).
    """
    width = len(period_labels)
    stored = MetricValue.objects.filter(
        metric=feed.metric, period__in=list(period_labels)
    ).values_list("unit_id", "period", "suppressed")
    hidden = np.zeros(len(cell_keys), dtype=bool)
    fixed = np.zeros(len(cell_keys), dtype=bool)
    known_units = set(tree.ids.tolist())
    for unit_id, period, suppressed in stored:
        period_at = int(np.searchsorted(period_labels, period))
        if unit_id not in known_units or period_at >= width or period_labels[period_at] != period:
            continue
        key = int(tree.position(np.array([unit_id]))[0]) * width + period_at
        at = int(np.searchsorted(cell_keys, key))
        if at < len(cell_keys) and cell_keys[at] == key:
            fixed[at] = True
            hidden[at] = suppressed
    return {"hidden": hidden, "fixed": fixed}


def _parent_cells(tree: UnitTree, cell_keys: np.ndarray, width: int) -> np.ndarray:
    """Position of each cell's parent cell: the parent unit's cell in the same period, which
    the roll-up always creates; -1 at the top of the tree."""
    cell_units, cell_periods = cell_keys // width, cell_keys % width
    parent_units = tree.parent[cell_units]
    parent_keys = parent_units * width + cell_periods
    return np.where(parent_units >= 0, np.searchsorted(cell_keys, parent_keys), -1)


def _no_cells(feed: MetricFeed) -> Cells:
    columns = len(STATISTICS[feed.metric.aggregation]) + 1
    columns += len(MULTI_ITEM_STATISTICS) if feed.multi_item else 0
    scored = score_statistics(feed.metric, np.empty((0, columns)))
    return Cells(
        unit_ids=np.empty(0, dtype=np.int64),
        periods=np.empty(0, dtype=object),
        statistics=np.empty((0, columns)),
        suppressed=np.empty(0, dtype=bool),
        values=scored.values,
        ci_low=scored.ci_low,
        ci_high=scored.ci_high,
        flags=scored.flags,
        extra=scored.extra,
    )


@dataclass(frozen=True)
class Scores:
    values: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    flags: list[list[str]]
    extra: dict[str, np.ndarray]


def score_statistics(metric: Metric, statistics: np.ndarray) -> Scores:
    """Values, 95 % intervals and plausibility flags for rows of sufficient statistics.

    NPS: points with the adjusted-Wald interval (STATISTICS.md rule 3: it never collapses at
    ±100 or n = 1; the Wald one goes to `extra`); top-box and rate: percent with the Wilson
    interval; mean: t interval, none below MIN_INTERVAL_N respondents or without variation
    (flag "no_interval"); a multi-item mean (rows carrying `MULTI_ITEM_STATISTICS`): the
    respondent-clustered interval with respondents as n; sum: the total, no interval.
    """
    answers = statistics[:, 0]
    extra: dict[str, np.ndarray] = {}
    result: scoring.NpsArrays | scoring.ProportionArrays | scoring.MeanArrays
    width = len(STATISTICS[metric.aggregation]) + len(MULTI_ITEM_STATISTICS) + 1
    multi_item = metric.aggregation in MULTI_ITEM_AGGREGATIONS and statistics.shape[1] == width
    if metric.aggregation == A.NPS:
        promoters, detractors = statistics[:, 1], statistics[:, 2]
        passives = answers - promoters - detractors
        result = scoring.nps_arrays(promoters, passives, detractors, interval="adjusted_wald")
        extra = {
            "adjusted_low": result.adjusted_low,
            "adjusted_high": result.adjusted_high,
            "wald_low": np.asarray(result.wald_low),
            "wald_high": np.asarray(result.wald_high),
        }
    elif multi_item:
        sums = (statistics[:, -1], answers, statistics[:, 1], *statistics[:, -4:-1].T)
        result = scoring.multi_item_arrays(sums, min_n=MIN_INTERVAL_N)
        if metric.aggregation != A.MEAN:  # a share of item answers, in percent
            result = dataclasses.replace(
                result, **{name: 100.0 * getattr(result, name) for name in PERCENT_FIELDS}
            )
    elif metric.aggregation in (A.TOP_BOX, A.RATE):
        result = scoring.top_box_arrays(statistics[:, 1], answers)
    else:
        result = scoring.mean_interval_arrays(
            answers,
            statistics[:, 1],
            statistics[:, 2],
            min_n=MIN_INTERVAL_N,
            zero_width_interval=False,
        )
    values, ci_low, ci_high = (
        np.array(array, dtype=np.float64) for array in (result.value, result.ci_low, result.ci_high)
    )
    if metric.aggregation == A.SUM:
        values = statistics[:, 1].copy()
        ci_low[:] = ci_high[:] = np.nan
    flags = _flags(metric, statistics, no_interval=np.isfinite(values) & ~np.isfinite(ci_low))
    return Scores(values, ci_low, ci_high, flags, {k: np.array(v) for k, v in extra.items()})


def scale_of(metric: Metric) -> tuple[float, float] | None:
    """The answer scale of a mean read from its unit label ("/5" → 1..5, "/7" → 1..7)."""
    label = metric.unit_label.strip()
    if label.startswith("/") and label[1:].isdigit():
        return 1.0, float(label[1:])
    return None


def _flags(metric: Metric, statistics: np.ndarray, *, no_interval: np.ndarray) -> list[list[str]]:
    """Plausibility flags: "low_n" counts respondents (the last column), "too_good_to_be_true"
    covers rates either way and means at their scale's best end, "no_interval" marks a mean
    shown without an interval."""
    ceiling = plausibility_flags_for_metric(
        metric.aggregation,
        statistics,
        higher_is_better=metric.higher_is_better,
        scale=scale_of(metric),
        low_n=0,
    )
    few = statistics[:, -1] < scoring.LOW_N
    shown_without = no_interval & (metric.aggregation != A.SUM)
    return [
        ["low_n"] * bool(small) + flags + ["no_interval"] * bool(bare)
        for small, flags, bare in zip(few.tolist(), ceiling, shown_without.tolist(), strict=True)
    ]
