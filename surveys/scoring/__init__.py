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
array types and shared helpers. Every name stays importable from ``surveys.scoring``.
"""

from .common import LOW_N
from .common import BoolArray as BoolArray
from .common import FloatArray as FloatArray
from .common import Population as Population
from .common import _critical_z as _critical_z
from .common import _floats as _floats
from .common import _fpc_factor as _fpc_factor
from .common import _optional as _optional
from .common import _valid_counts as _valid_counts
from .common import _warnings as _warnings
from .comparisons import _COMPARERS as _COMPARERS
from .comparisons import Comparison, compare
from .comparisons import _compare_means as _compare_means
from .comparisons import _compare_nps as _compare_nps
from .comparisons import _compare_proportions as _compare_proportions
from .comparisons import _pair_warnings as _pair_warnings
from .comparisons import _tested as _tested
from .comparisons import _untested as _untested
from .flags import (
    CEILING_MIN_N,
    CEILING_SHARE,
    STRAIGHT_LINING_MIN_ITEMS,
    STRAIGHT_LINING_SHARE,
    plausibility_flags,
    plausibility_flags_cells,
    straight_lining,
    straight_lining_cells,
)
from .means import _CANCELLATION as _CANCELLATION
from .means import (
    MeanArrays,
    MeanResult,
    favourability_index,
    mean_interval,
    mean_interval_arrays,
    mean_interval_from_sums,
    mean_interval_from_values,
)
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
from .net_promoter import _trinomial as _trinomial
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
from .proportions import _wilson as _wilson

__all__ = [
    "CEILING_MIN_N",
    "CEILING_SHARE",
    "LOW_N",
    "NPS_DETRACTOR_MAX",
    "NPS_PROMOTER_MIN",
    "STRAIGHT_LINING_MIN_ITEMS",
    "STRAIGHT_LINING_SHARE",
    "Comparison",
    "Distribution",
    "MeanArrays",
    "MeanResult",
    "NpsArrays",
    "NpsResult",
    "ProportionArrays",
    "ProportionResult",
    "compare",
    "distribution",
    "enps",
    "enps_arrays",
    "favourability_index",
    "mean_interval",
    "mean_interval_arrays",
    "mean_interval_from_sums",
    "mean_interval_from_values",
    "nps",
    "nps_arrays",
    "nps_counts",
    "plausibility_flags",
    "plausibility_flags_cells",
    "proportion",
    "proportion_arrays",
    "straight_lining",
    "straight_lining_cells",
    "top_box",
    "top_box_arrays",
]
