"""Pure scoring statistics for survey metrics (no Django): NPS, top-box shares, means, changes.

Conventions used throughout (STATISTICS.md §0-§1):

- Units: NPS/eNPS in points (-100..100), shares (top-box, rates) in percent (0..100), means in
  the answer scale's units; a difference carries the units of what it compares.
- Counts may be floats (the database returns them so); passives count in the NPS base.
- ``*_arrays`` functions score one array element per cell and never raise for a bad cell: an
  empty or invalid cell (negative or non-finite counts, more hits than answers) comes back NaN.
  The scalar functions delegate to them, so each formula exists once, and return frozen
  dataclasses with None for what cannot be computed and the reason as a short warning:
  "no_data", "invalid_counts", "low_n" (n < LOW_N), "no_interval" (a mean from < 2 answers),
  "zero_variance", "population_below_n", "nan_excluded", "fpc_ignored".
- Intervals are two-sided at ``confidence`` (default 0.95); parameters out of range raise
  ValueError.
- Finite population correction (STATISTICS.md §1.2): ``population`` N (e.g. a team's headcount
  in an employee census) multiplies standard errors by sqrt((N - n)/(N - 1)); N = n gives a
  zero-width interval. Whether a team is a finite population or a sample of a process is a
  product decision; the default (None) is the superpopulation view. A population below n is
  treated as unknown (no correction). Comparisons between periods or groups always use the
  uncorrected variances.

One module per job: `net_promoter`, `proportions` (top-box, rates, distributions), `means`,
`comparisons` (`compare`) and `flags` (plausibility, straight-lining); `common` holds the
array types and shared helpers. The package exports the public names; private helpers stay
in their modules (a test patches the module that uses a name).
"""

from .common import LOW_N
from .common import BoolArray as BoolArray
from .common import FloatArray as FloatArray
from .common import Population as Population
from .comparisons import Comparison, compare
from .flags import (
    CEILING_MIN_N,
    CEILING_SHARE,
    STRAIGHT_LINING_MIN_ITEMS,
    STRAIGHT_LINING_MIN_RESPONDENTS,
    STRAIGHT_LINING_SHARE,
    GridCounts,
    plausibility_flags,
    plausibility_flags_cells,
    straight_lining,
    straight_lining_cells,
    straight_lining_flags,
)
from .means import (
    MeanArrays,
    MeanResult,
    favourability_index,
    mean_interval,
    mean_interval_arrays,
    mean_interval_from_sums,
    mean_interval_from_values,
)
from .multi_item import RespondentSums, multi_item_arrays, multi_item_mean
from .net_promoter import ADJUSTED_WALD_PSEUDO as ADJUSTED_WALD_PSEUDO
from .net_promoter import (
    NPS_DETRACTOR_MAX,
    NPS_PROMOTER_MIN,
    NpsArrays,
    NpsResult,
    enps,
    enps_arrays,
    nps,
    nps_arrays,
    nps_counts,
)
from .net_promoter import NPS_SCALE_MAX as NPS_SCALE_MAX
from .proportions import (
    Distribution,
    ProportionArrays,
    ProportionResult,
    distribution,
    proportion,
    proportion_arrays,
    top_box,
    top_box_arrays,
)

__all__ = [
    "CEILING_MIN_N",
    "CEILING_SHARE",
    "LOW_N",
    "NPS_DETRACTOR_MAX",
    "NPS_PROMOTER_MIN",
    "STRAIGHT_LINING_MIN_ITEMS",
    "STRAIGHT_LINING_MIN_RESPONDENTS",
    "STRAIGHT_LINING_SHARE",
    "Comparison",
    "GridCounts",
    "Distribution",
    "MeanArrays",
    "MeanResult",
    "NpsArrays",
    "NpsResult",
    "ProportionArrays",
    "ProportionResult",
    "RespondentSums",
    "compare",
    "distribution",
    "enps",
    "enps_arrays",
    "favourability_index",
    "mean_interval",
    "mean_interval_arrays",
    "mean_interval_from_sums",
    "mean_interval_from_values",
    "multi_item_arrays",
    "multi_item_mean",
    "nps",
    "nps_arrays",
    "nps_counts",
    "plausibility_flags",
    "plausibility_flags_cells",
    "proportion",
    "proportion_arrays",
    "straight_lining",
    "straight_lining_cells",
    "straight_lining_flags",
    "top_box",
    "top_box_arrays",
]
