"""Scores kept current from additive per-cell statistics (`CellStatistics`).

Every stored score of a customer metric — NPS, top-box, means, rates, sums, their
intervals, n, flags and the roll-ups up the org tree — is a function of per unit × period
sufficient statistics that add up: counts per category, sums, sums of squares, respondents.
A batch of new responses is therefore one GROUP BY over those responses only; its sums are
added to the stored rows of the units they were given at, and the period is rescored from
the stored rows (one row per answering unit, however many responses the period holds), with
suppression re-decided from the counts. `write_cells` then rewrites only the cells whose
values changed: the touched units and their ancestors.

A full recompute from raw answers (`recompute.recompute_cells`) rebuilds the rows. Both run
under the metric's lock (`lock_metrics`); the full one leaves out responses still waiting
in the change log, which their own pass adds, so each response is counted exactly once.
Employee and anonymous metrics keep no rows here: they are scored from released answers
only, at release (`services.releases`).
"""

from collections.abc import Iterable

import numpy as np

from ..models import CellStatistics
from .cells import (
    Leaves,
    MetricFeed,
    UnitTree,
    cells_from_leaves,
    leaf_statistics,
    metric_feeds,
)
from .store import WRITE_BATCH, write_cells


def _rows_of(feed: MetricFeed, leaves: Leaves) -> list[CellStatistics]:
    grid_columns = leaves.grid_counts.tolist() if leaves.grid_labels else [[]] * len(leaves)
    rows = []
    for unit_id, period, values, grid_values in zip(
        leaves.unit_ids.tolist(),
        leaves.periods.tolist(),
        leaves.statistics.tolist(),
        grid_columns,
        strict=True,
    ):
        rows.append(
            CellStatistics(
                metric=feed.metric,
                unit_id=unit_id,
                period=period,
                sums=values[:-1],
                respondents=values[-1],
                grid_counts={
                    label: count
                    for label, count in zip(leaves.grid_labels, grid_values, strict=True)
                    if count
                },
            )
        )
    return rows


def store_leaves(feed: MetricFeed, leaves: Leaves, *, periods: list[str] | None) -> None:
    """Replace the stored statistics of the metric in `periods` (None = all) by `leaves`."""
    stored = CellStatistics.objects.filter(metric=feed.metric)
    if periods is not None:
        stored = stored.filter(period__in=periods)
    stored.delete()
    CellStatistics.objects.bulk_create(_rows_of(feed, leaves), batch_size=WRITE_BATCH)


def _labelled(mappings: list[dict[str, float]]) -> tuple[tuple[str, ...], np.ndarray]:
    """Labelled count mappings as (sorted labels, rows × labels)."""
    labels = tuple(sorted({label for mapping in mappings for label in mapping}))
    at = {label: column for column, label in enumerate(labels)}
    counts = np.zeros((len(mappings), len(labels)))
    for row, mapping in enumerate(mappings):
        for label, count in mapping.items():
            counts[row, at[label]] = count
    return labels, counts


def stored_leaves(feed: MetricFeed, period: str, columns: int) -> Leaves:
    """The stored statistics of one metric × period, as leaves of `columns` statistics."""
    rows = list(
        CellStatistics.objects.filter(metric=feed.metric, period=period)
        .order_by("unit_id")
        .values_list("unit_id", "sums", "respondents", "grid_counts")
    )
    statistics = np.zeros((len(rows), columns))
    for index, (_, sums, respondents, _) in enumerate(rows):
        statistics[index, : len(sums)] = sums
        statistics[index, -1] = respondents
    grid_labels, grid_counts = _labelled([row[3] for row in rows])
    return Leaves(
        unit_ids=np.array([row[0] for row in rows], dtype=np.int64),
        periods=np.full(len(rows), period, dtype=object),
        statistics=statistics,
        grid_labels=grid_labels,
        grid_counts=grid_counts,
    )


def _grid_mappings(leaves: Leaves) -> list[dict[str, float]]:
    if not leaves.grid_labels:
        return [{}] * len(leaves)
    return [dict(zip(leaves.grid_labels, row, strict=True)) for row in leaves.grid_counts.tolist()]


def add_leaves(stored: Leaves, delta: Leaves, period: str) -> tuple[Leaves, np.ndarray]:
    """Stored plus new statistics per unit; also the positions of the units `delta` touched."""
    unit_ids, inverse = np.unique(
        np.concatenate([stored.unit_ids, delta.unit_ids]), return_inverse=True
    )
    statistics = np.zeros((len(unit_ids), stored.statistics.shape[1]))
    np.add.at(statistics, inverse, np.concatenate([stored.statistics, delta.statistics]))
    grid_labels, grid_rows = _labelled(_grid_mappings(stored) + _grid_mappings(delta))
    grid_counts = np.zeros((len(unit_ids), len(grid_labels)))
    np.add.at(grid_counts, inverse, grid_rows)
    summed = Leaves(
        unit_ids=unit_ids,
        periods=np.full(len(unit_ids), period, dtype=object),
        statistics=statistics,
        grid_labels=grid_labels,
        grid_counts=grid_counts,
    )
    return summed, np.unique(inverse[len(stored) :])


def _select(leaves: Leaves, positions: np.ndarray) -> Leaves:
    return Leaves(
        unit_ids=leaves.unit_ids[positions],
        periods=leaves.periods[positions],
        statistics=leaves.statistics[positions],
        grid_labels=leaves.grid_labels,
        grid_counts=leaves.grid_counts[positions],
    )


def apply_new_responses(
    feed: MetricFeed, *, period: str, response_ids: Iterable[int], tree: UnitTree
) -> int:
    """Add a batch of new responses of `period` to the metric's stored statistics and
    rescore the period; call holding the metric's lock. Returns MetricValue rows written.

    A metric × period without stored statistics (never built, or emptied) is recomputed
    from raw answers instead, which builds them.
    """
    if not CellStatistics.objects.filter(metric=feed.metric, period=period).exists():
        return recompute_feed(feed, tree=tree, periods=[period])
    delta = leaf_statistics(feed, periods=[period], response_ids=response_ids)
    if not len(delta):
        return 0
    stored = stored_leaves(feed, period, delta.statistics.shape[1])
    summed, touched = add_leaves(stored, delta, period)
    CellStatistics.objects.bulk_create(
        _rows_of(feed, _select(summed, touched)),
        update_conflicts=True,
        unique_fields=["metric", "period", "unit"],
        update_fields=["sums", "respondents", "grid_counts"],
    )
    cells = cells_from_leaves(feed, summed, tree=tree)
    return write_cells(feed, cells, periods=[period])


def recompute_feed(feed: MetricFeed, *, tree: UnitTree, periods: list[str] | None) -> int:
    """Full recompute of one metric from raw answers; rebuilds its stored statistics
    (customer metrics) and writes what changed. Call holding the metric's lock."""
    if feed.confidential:
        leaves = leaf_statistics(feed, periods=periods)
    else:
        leaves = leaf_statistics(feed, periods=periods, exclude_pending=True)
        store_leaves(feed, leaves, periods=periods)
    return write_cells(feed, cells_from_leaves(feed, leaves, tree=tree), periods=periods)


def apply_responses(
    *, metric_keys: Iterable[str], period: str, response_ids: list[int] | None
) -> int:
    """Bring the metrics' stored scores of `period` up to date with new responses
    (`response_ids`), or recompute the period from raw answers (None: a batch whose
    responses are not listed). Confidential metrics are left to their release. Call inside
    a transaction holding the metrics' locks. Returns MetricValue rows written."""
    tree = UnitTree.load()
    written = 0
    for feed in metric_feeds(metric_keys):
        if feed.confidential:
            continue
        if response_ids is None:
            written += recompute_feed(feed, tree=tree, periods=[period])
        else:
            written += apply_new_responses(
                feed, period=period, response_ids=response_ids, tree=tree
            )
    return written
