"""Read paths for metric values: the one place anonymity masking is applied.

Every reader of MetricValue (admin, API, dashboards, exports, linkage runs) goes through
`metric_values`. Suppressed cells are already stored without value, CI or counts; on top of
that, each row loaded through the selector has value, CI and n set to None and its details
emptied, so a hidden group's size is never shown, not even as a 0.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Exists, Max, OuterRef, Q, QuerySet
from django.db.models.query import ModelIterable

from surveys.models import OrgUnit

from .models import ChainLink, LinkageResult, LinkageRun, Metric, MetricValue


class MaskedMetricValueIterable(ModelIterable):
    """Model rows with value, CI, n and details of suppressed cells blanked out."""

    def __iter__(self):
        for row in super().__iter__():
            if row.suppressed:
                row.value = row.ci_low = row.ci_high = row.n = None
                row.details = {}
            yield row


class MetricValueQuerySet(QuerySet):
    """A MetricValue queryset whose model rows always come out masked."""

    def __init__(self, model=None, query=None, using=None, hints=None) -> None:
        super().__init__(model=model or MetricValue, query=query, using=using, hints=hints)
        self._iterable_class = MaskedMetricValueIterable


def visible_units(user: AbstractBaseUser | AnonymousUser | None) -> Q:
    """Condition on `unit` limiting rows to the subtrees the user manages (all for superusers).

    `None` means a system caller (tasks, commands) that sees every unit.
    """
    if user is None or user.is_superuser:
        return Q()
    if not user.is_authenticated:
        return Q(pk__in=[])
    condition = Q(pk__in=[])
    for path in user.managed_units.values_list("path", flat=True):
        condition |= Q(unit__path__startswith=path)
    return condition


def metric_values(
    *,
    user: AbstractBaseUser | AnonymousUser | None = None,
    metric_keys: Iterable[str] | None = None,
    unit: OrgUnit | None = None,
    periods: Iterable[str] | None = None,
    level: str | None = None,
) -> MetricValueQuerySet:
    """MetricValues with metric and unit loaded, masked where suppressed.

    Filters: `metric_keys`, `unit` (its whole subtree), `periods`, `level` (unit level), and
    `user` (only units the user may see). Ordered by chain stage, metric, unit, period.
    """
    rows = MetricValueQuerySet().select_related("metric", "unit").filter(visible_units(user))
    if metric_keys is not None:
        rows = rows.filter(metric__key__in=list(metric_keys))
    if unit is not None:
        rows = rows.filter(unit__path__startswith=unit.path)
    if periods is not None:
        rows = rows.filter(period__in=list(periods))
    if level is not None:
        rows = rows.filter(unit__level=level)
    return rows.order_by("metric__chain_stage", "metric__key", "unit__path", "period")


@dataclass(frozen=True)
class MetricPanel:
    """Values of several metrics as a metrics × units × periods array (linkage input).

    NaN marks a cell that is missing or suppressed; `suppressed` counts the suppressed cells
    per metric so a run can report how many it had to leave out.
    """

    metric_keys: list[str]
    unit_ids: list[int]
    periods: list[str]
    values: np.ndarray
    n: np.ndarray
    suppressed: np.ndarray


def metric_value_panel(
    *,
    metric_keys: list[str],
    level: str,
    periods: list[str],
    unit: OrgUnit | None = None,
    user: AbstractBaseUser | AnonymousUser | None = None,
) -> MetricPanel:
    """Panel of `metric_keys` for the units of one `level` (within `unit`) over `periods`.

    Units are those with at least one value row, in tree order. One query.
    """
    rows = list(
        metric_values(
            user=user, metric_keys=metric_keys, unit=unit, periods=periods, level=level
        ).values_list("metric__key", "unit_id", "unit__path", "period", "value", "n", "suppressed")
    )
    unit_ids = [unit_id for unit_id, _ in sorted({(row[1], row[2]) for row in rows}, key=_path)]
    metric_at = {key: index for index, key in enumerate(metric_keys)}
    unit_at = {unit_id: index for index, unit_id in enumerate(unit_ids)}
    period_at = {period: index for index, period in enumerate(periods)}
    shape = (len(metric_keys), len(unit_ids), len(periods))
    values, n = np.full(shape, np.nan), np.zeros(shape, dtype=np.int64)
    suppressed = np.zeros(len(metric_keys), dtype=np.int64)
    for key, unit_id, _, period, value, count, hidden in rows:
        cell = (metric_at[key], unit_at[unit_id], period_at[period])
        if hidden:
            suppressed[cell[0]] += 1
        elif value is not None:
            values[cell], n[cell] = value, count
    return MetricPanel(
        metric_keys=list(metric_keys),
        unit_ids=unit_ids,
        periods=list(periods),
        values=values,
        n=n,
        suppressed=suppressed,
    )


def _path(pair: tuple[int, str]) -> str:
    return pair[1]


# ------------------------------------------------------------------ linkage runs and the chain


def metric_keys_with_values(*, level: str | None = None) -> list[str]:
    """Keys of metrics with at least one unsuppressed value (at units of `level`), chain order."""
    values = MetricValue.objects.filter(metric=OuterRef("pk"), value__isnull=False)
    if level is not None:
        values = values.filter(unit__level=level)
    metrics = Metric.objects.filter(Exists(values)).order_by("chain_stage", "key")
    return list(metrics.values_list("key", flat=True))


def periods_with_values(*, metric_keys: Iterable[str], level: str) -> list[str]:
    """Distinct period labels with an unsuppressed value of any of the metrics at `level`."""
    rows = MetricValue.objects.filter(
        metric__key__in=list(metric_keys), unit__level=level, value__isnull=False
    )
    return list(rows.order_by("period").values_list("period", flat=True).distinct())


def metric_values_snapshot_at(
    *, metric_keys: Iterable[str], level: str, periods: Iterable[str]
) -> datetime | None:
    """When the newest of these values was computed or imported (the data snapshot time)."""
    rows = MetricValue.objects.filter(
        metric__key__in=list(metric_keys), unit__level=level, period__in=list(periods)
    )
    return rows.aggregate(latest=Max("computed_at"))["latest"]


def linkage_results(run: LinkageRun) -> QuerySet[LinkageResult]:
    """A run's result rows with both metrics loaded, in chain order then lag."""
    return (
        LinkageResult.objects.filter(run=run)
        .select_related("x_metric", "y_metric")
        .order_by(
            "x_metric__chain_stage",
            "x_metric__key",
            "y_metric__chain_stage",
            "y_metric__key",
            "lag",
        )
    )


def chain_links(*, metric_keys: Iterable[str] | None = None) -> QuerySet[ChainLink]:
    """Chain links with metrics and latest evidence loaded (optionally among `metric_keys`)."""
    links = ChainLink.objects.select_related("from_metric", "to_metric", "latest_result")
    if metric_keys is not None:
        keys = list(metric_keys)
        links = links.filter(from_metric__key__in=keys, to_metric__key__in=keys)
    return links
