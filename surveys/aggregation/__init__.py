"""SQL-side aggregation of raw answers into MetricValue rows, with anonymity suppression.

Per metric, one GROUP BY over (answering unit, period) returns each cell's sufficient
statistics; numpy adds them up the org tree, the vectorised scoring functions score every
cell at once, suppression hides small employee groups (and siblings that would reveal them),
and one upsert writes what changed. `cells` computes (`grids` adds whole grids'
straight-lining counts), `store` writes, `recompute` runs both by scope, `groups` scores
ad-hoc groups (a subtree, periods, a segment).
"""

from .cells import (
    MIN_INTERVAL_N,
    MULTI_ITEM_STATISTICS,
    STATISTICS,
    Cells,
    MetricFeed,
    UnitTree,
    compute_cells,
    metric_feeds,
)
from .groups import (
    ClusterSums,
    GroupValue,
    compute_group_value,
    group_cluster_sums,
    pairable,
    respondent_overlap_sums,
)
from .incremental import apply_responses
from .recompute import Progress, lock_metrics, recompute_cells
from .store import write_cells

__all__ = [
    "MIN_INTERVAL_N",
    "MULTI_ITEM_STATISTICS",
    "apply_responses",
    "STATISTICS",
    "Cells",
    "ClusterSums",
    "GroupValue",
    "MetricFeed",
    "Progress",
    "UnitTree",
    "compute_cells",
    "compute_group_value",
    "group_cluster_sums",
    "lock_metrics",
    "metric_feeds",
    "pairable",
    "recompute_cells",
    "respondent_overlap_sums",
    "write_cells",
]
