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
`drivers` and `sample_size`; `common` holds the array types and shared helpers. The package
exports the public names; private helpers stay in their modules (a test patches the module
that uses a name).
"""

from .common import FEW_UNITS, SMALL_N
from .common import BoolArray as BoolArray
from .common import FloatArray as FloatArray
from .common import IntArray as IntArray
from .correlation import CorrelationResult, fisher_ci, pearson, spearman
from .drivers import MAX_SHAPLEY_DRIVERS, KeyDriverResult, key_drivers
from .lags import lagged_pairs
from .multiple_testing import benjamini_hochberg
from .panel import LinkageStat, linkage_stats
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
