"""Pure statistics for linkage analysis (no Django): correlations, lags, FDR, drivers, sample size.

Conventions used throughout:

- A *panel* is a float array ``units × periods``; NaN (or any non-finite value) marks a missing
  or suppressed cell. Column ``t`` is period index ``t`` (consecutive integers), so a lag shifts
  by column within a unit and a missing period stays missing; rows are never shifted.
- A run stacks panels as ``metrics × units × periods``.
- Lag ``k`` pairs X at period ``t`` with Y at period ``t + k``; a negative ``k`` means Y leads X.
- Inference on unit-level data uses the number of units as n (STATISTICS.md rule 8).
- Small samples, constant inputs and missing cells come back as short warning strings, never as
  exceptions from scipy; results are frozen dataclasses of plain floats and ints.
- Randomness (permutation tests) comes only from a caller-supplied ``np.random.Generator``.

One module per job: `correlation` (two vectors), `lags` (panel alignment), `panel`
(`linkage_stats`, computed by `prepared`, `moments` and `ranks`), `multiple_testing`,
`drivers` and `sample_size`; `common` holds the array types and shared helpers. Every name
stays importable from ``linkage.stats``.
"""

from .common import _SD_FLOOR as _SD_FLOOR
from .common import FEW_UNITS, SMALL_N
from .common import BoolArray as BoolArray
from .common import FloatArray as FloatArray
from .common import IntArray as IntArray
from .common import _degenerate as _degenerate
from .common import _two_sided_p as _two_sided_p
from .correlation import _FIELLER_VARIANCE as _FIELLER_VARIANCE
from .correlation import _PERMUTATION_TOLERANCE as _PERMUTATION_TOLERANCE
from .correlation import CorrelationResult, fisher_ci, pearson, spearman
from .correlation import _centred_r as _centred_r
from .correlation import _complete_pairs as _complete_pairs
from .correlation import _fisher_interval as _fisher_interval
from .correlation import _permutation_orders as _permutation_orders
from .correlation import _permutation_p_value as _permutation_p_value
from .correlation import _sample_warnings as _sample_warnings
from .drivers import _COLLINEAR as _COLLINEAR
from .drivers import MAX_SHAPLEY_DRIVERS, KeyDriverResult, key_drivers
from .drivers import _driver_data as _driver_data
from .drivers import _driver_result as _driver_result
from .drivers import _driver_warnings as _driver_warnings
from .drivers import _full_r_squared as _full_r_squared
from .drivers import _johnson_weights as _johnson_weights
from .drivers import _shapley_weights as _shapley_weights
from .drivers import _subset_r_squared as _subset_r_squared
from .lags import _window_length as _window_length
from .lags import _windows as _windows
from .lags import lagged_pairs
from .moments import _CHUNK_ELEMENTS as _CHUNK_ELEMENTS
from .moments import _complete_sums as _complete_sums
from .moments import _correlation_from_sums as _correlation_from_sums
from .moments import _lag_sums as _lag_sums
from .moments import _masked_sums as _masked_sums
from .moments import _moment_stats as _moment_stats
from .moments import _pair_counts as _pair_counts
from .moments import _reduce_units as _reduce_units
from .moments import _shifted_cross as _shifted_cross
from .moments import _unit_moments as _unit_moments
from .moments import _within_slope as _within_slope
from .multiple_testing import benjamini_hochberg
from .panel import LinkageStat, linkage_stats
from .panel import _lag_results as _lag_results
from .panel import _linkage_results as _linkage_results
from .panel import _pair_indexes as _pair_indexes
from .panel import _stat_warnings as _stat_warnings
from .prepared import _prepare as _prepare
from .prepared import _Prepared as _Prepared
from .prepared import _rank_cache as _rank_cache
from .prepared import _RankCache as _RankCache
from .prepared import _subset_ranks as _subset_ranks
from .prepared import _WindowCache as _WindowCache
from .ranks import _RANK_SS_FLOOR as _RANK_SS_FLOOR
from .ranks import _cluster_permutation_p as _cluster_permutation_p
from .ranks import _lag_spearman as _lag_spearman
from .ranks import _lag_spearman_p as _lag_spearman_p
from .ranks import _rowwise_centred as _rowwise_centred
from .ranks import _rowwise_rank_correlation as _rowwise_rank_correlation
from .ranks import _shared_rank_correlations as _shared_rank_correlations
from .sample_size import critical_r, sample_size_note, units_needed

__all__ = [
    "FEW_UNITS",
    "MAX_SHAPLEY_DRIVERS",
    "SMALL_N",
    "CorrelationResult",
    "KeyDriverResult",
    "LinkageStat",
    "benjamini_hochberg",
    "critical_r",
    "fisher_ci",
    "key_drivers",
    "lagged_pairs",
    "linkage_stats",
    "pearson",
    "sample_size_note",
    "spearman",
    "units_needed",
]
