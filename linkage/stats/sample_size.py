"""What a number of units can detect: critical r, units needed and a one-line note."""

from __future__ import annotations

import math

from scipy import special, stats


def critical_r(n: int, *, alpha: float = 0.05) -> float:
    """Smallest |r| significant at two-sided ``alpha`` with n units: t/sqrt(n − 2 + t²).

    t is the 1 − alpha/2 quantile of Student's t with n − 2 df; NaN for n < 3.
    """
    if n < 3:
        return math.nan
    t = float(stats.t.ppf(1.0 - alpha / 2.0, n - 2))
    return t / math.sqrt(n - 2 + t * t)


def units_needed(r: float, *, alpha: float = 0.05, power: float = 0.80) -> int:
    """Units needed to detect correlation r (two-sided alpha, given power), Fisher z method.

    n = ((z_{1−α/2} + z_{power}) / atanh|r|)² + 3, rounded up (Lachin 1981). Raises ValueError
    unless 0 < |r| < 1.
    """
    if not 0.0 < abs(r) < 1.0:
        raise ValueError("r must satisfy 0 < |r| < 1")
    z_sum = special.ndtri(1.0 - alpha / 2.0) + special.ndtri(power)
    exact = (z_sum / math.atanh(abs(r))) ** 2 + 3.0
    return math.ceil(exact - 1e-9)


def sample_size_note(n_units: int, *, alpha: float = 0.05, target_r: float = 0.30) -> str:
    """One-sentence reminder of what n units can detect, for dashboards and reports."""
    needed = units_needed(target_r, alpha=alpha)
    level = f"{alpha:.2f}".removeprefix("0")
    detect = f"detecting r = {target_r:.2f} needs about {needed} units."
    if n_units < 3:
        return f"With {n_units} units no correlation can be tested; {detect}"
    threshold = critical_r(n_units, alpha=alpha)
    return (
        f"With {n_units} units only |r| ≥ {threshold:.2f} can be significant "
        f"at p < {level}; {detect}"
    )
