"""Key-driver analysis: relative importance of drivers by Shapley (LMG) and Johnson weights."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .common import SMALL_N, FloatArray, _degenerate

UNITS_PER_DRIVER = 10

MAX_SHAPLEY_DRIVERS = 12  # exact Shapley enumerates 2**p subsets

_COLLINEAR = 1e-10  # smallest eigenvalue of the drivers' correlation matrix treated as zero


@dataclass(frozen=True)
class KeyDriverResult:
    """Relative importance of drivers: Shapley (LMG) and Johnson weights, each summing to R²."""

    r_squared: float
    shapley: tuple[float, ...]
    johnson: tuple[float, ...]
    shares_shapley: tuple[float, ...]
    shares_johnson: tuple[float, ...]
    n: int
    warnings: tuple[str, ...]


def _subset_r_squared(correlations: FloatArray, drivers: int, singular: bool) -> FloatArray:
    """R² of y on every driver subset, indexed by bitmask, from the correlation matrix alone.

    R²(S) = r_Sy' R_SS⁻¹ r_Sy; subsets of one size are solved as one batch (pseudo-inverse
    when the drivers are collinear).
    """
    rxx, rxy = correlations[:drivers, :drivers], correlations[:drivers, drivers]
    r_squared = np.zeros(2**drivers)
    for size in range(1, drivers + 1):
        subsets = np.array(list(itertools.combinations(range(drivers), size)), dtype=np.intp)
        blocks = rxx[subsets[:, :, None], subsets[:, None, :]]
        targets = rxy[subsets]
        if singular:
            solved = np.einsum("cij,cj->ci", np.linalg.pinv(blocks, hermitian=True), targets)
        else:
            solved = np.linalg.solve(blocks, targets[..., None])[..., 0]
        r_squared[(1 << subsets).sum(axis=1)] = np.einsum("ci,ci->c", targets, solved)
    return r_squared


def _shapley_weights(r_squared: FloatArray, drivers: int) -> FloatArray:
    """LMG / Shapley value of each driver: Σ_S |S|!(p−|S|−1)!/p! · [R²(S ∪ j) − R²(S)]."""
    masks = np.arange(2**drivers)
    sizes = np.bitwise_count(masks)
    weight = np.array(
        [math.factorial(s) * math.factorial(drivers - s - 1) for s in range(drivers)], dtype=float
    ) / math.factorial(drivers)
    bits = (1 << np.arange(drivers))[:, None]
    without = (masks[None, :] & bits) == 0
    gains = r_squared[masks[None, :] | bits] - r_squared[masks][None, :]
    return np.where(without, weight[np.minimum(sizes, drivers - 1)] * gains, 0.0).sum(axis=1)


def _johnson_weights(correlations: FloatArray, drivers: int) -> FloatArray:
    """Johnson (2000) relative weights: Λ = Rxx^{1/2}, β = Λ⁻¹ r_xy, ε_j = Σ_k Λ_jk² β_k²."""
    rxx, rxy = correlations[:drivers, :drivers], correlations[:drivers, drivers]
    eigenvalues, vectors = np.linalg.eigh(rxx)
    root = (vectors * np.sqrt(np.clip(eigenvalues, 0.0, None))) @ vectors.T
    beta = np.linalg.solve(root, rxy)
    return (root * root) @ (beta * beta)


def _driver_warnings(n: int, drivers: int, constant: bool, singular: bool) -> tuple[str, ...]:
    """Warnings for key-driver input."""
    checks = (
        ("small_n", n < max(SMALL_N, drivers + 2)),
        ("constant_input", constant),
        ("collinear_drivers", singular),
        ("too_many_drivers", drivers > MAX_SHAPLEY_DRIVERS),
        # A common rule of thumb for regression: R² and weights overfit below ~10 rows a driver.
        ("few_units_per_driver", n < UNITS_PER_DRIVER * drivers),
    )
    return tuple(name for name, flagged in checks if flagged)


def _driver_data(X: npt.ArrayLike, y: npt.ArrayLike) -> tuple[FloatArray, bool]:  # noqa: N803
    """Listwise-complete rows of [X, y] and whether any column is constant."""
    drivers = np.asarray(X, dtype=float)
    outcome = np.asarray(y, dtype=float).ravel()
    drivers = drivers.reshape(-1, 1) if drivers.ndim == 1 else drivers
    if drivers.ndim != 2 or drivers.shape[0] != outcome.size:
        raise ValueError("X must be rows × drivers with one row per value of y")
    data = np.column_stack([drivers, outcome])
    data = data[np.isfinite(data).all(axis=1)]
    if data.shape[0] == 0:
        return data, False
    spread = data.var(axis=0) * data.shape[0]
    return data, bool(_degenerate(spread, data.shape[0], np.abs(data).max(axis=0)).any())


def key_drivers(X: npt.ArrayLike, y: npt.ArrayLike) -> KeyDriverResult:  # noqa: N803
    """Relative importance of drivers (columns of X) for outcome y on listwise-complete rows.

    Shapley / LMG (general dominance) weights: exact over all 2^p subsets (p ≤ 12, otherwise
    NaN with "too_many_drivers"), each subset's R² taken from the correlation matrix. Johnson's
    relative weights: symmetric square root of Rxx (NaN when drivers are collinear). Both sum
    to the full-model R² (linear model with intercept); shares are weights / R² (fractions
    summing to 1). Weights are unsigned.
    """
    data, constant = _driver_data(X, y)
    n, drivers = data.shape[0], data.shape[1] - 1
    missing = np.full(drivers, np.nan)
    if n < drivers + 2 or constant or drivers == 0:
        warnings = _driver_warnings(n, drivers, constant, False)
        return _driver_result(math.nan, missing, missing, n, warnings)
    correlations = np.asarray(np.corrcoef(data, rowvar=False), dtype=np.float64)
    singular = bool(np.linalg.eigvalsh(correlations[:drivers, :drivers]).min() < _COLLINEAR)
    if drivers <= MAX_SHAPLEY_DRIVERS:
        subsets = _subset_r_squared(correlations, drivers, singular)
        r_squared, shapley = float(subsets[-1]), _shapley_weights(subsets, drivers)
    else:
        r_squared, shapley = _full_r_squared(correlations, drivers), missing
    johnson = missing if singular else _johnson_weights(correlations, drivers)
    warnings = _driver_warnings(n, drivers, constant, singular)
    return _driver_result(r_squared, shapley, johnson, n, warnings)


def _driver_result(
    r_squared: float,
    shapley: FloatArray,
    johnson: FloatArray,
    n: int,
    warnings: tuple[str, ...],
) -> KeyDriverResult:
    """Package weights (and their shares of R²) as plain tuples."""
    with np.errstate(divide="ignore", invalid="ignore"):
        shares_shapley, shares_johnson = shapley / r_squared, johnson / r_squared
    return KeyDriverResult(
        r_squared=r_squared,
        shapley=tuple(map(float, shapley)),
        johnson=tuple(map(float, johnson)),
        shares_shapley=tuple(map(float, shares_shapley)),
        shares_johnson=tuple(map(float, shares_johnson)),
        n=n,
        warnings=warnings,
    )


def _full_r_squared(correlations: FloatArray, drivers: int) -> float:
    """R² of the full model from the correlation matrix (pseudo-inverse for collinear drivers)."""
    rxx, rxy = correlations[:drivers, :drivers], correlations[:drivers, drivers]
    return float(rxy @ np.linalg.pinv(rxx, hermitian=True) @ rxy)
