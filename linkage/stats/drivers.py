"""Key-driver analysis: relative importance of drivers by Shapley (LMG) and Johnson weights."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

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
    return _batch_subset_r_squared(correlations[None], drivers, np.array([singular]))[0]


def _batch_subset_r_squared(
    correlations: FloatArray, drivers: int, singular: npt.NDArray[np.bool_]
) -> FloatArray:
    """`_subset_r_squared` for a stack of correlation matrices (samples × p+1 × p+1)."""
    rxx, rxy = correlations[:, :drivers, :drivers], correlations[:, :drivers, drivers]
    r_squared = np.zeros((correlations.shape[0], 2**drivers))
    for size in range(1, drivers + 1):
        subsets = np.array(list(itertools.combinations(range(drivers), size)), dtype=np.intp)
        blocks = rxx[:, subsets[:, :, None], subsets[:, None, :]]
        targets = rxy[:, subsets]
        solved = np.empty_like(targets)
        if (~singular).any():
            regular = np.linalg.solve(blocks[~singular], targets[~singular][..., None])
            solved[~singular] = regular[..., 0]
        if singular.any():
            inverse = np.linalg.pinv(blocks[singular], hermitian=True)
            solved[singular] = np.einsum("scij,scj->sci", inverse, targets[singular])
        r_squared[:, (1 << subsets).sum(axis=1)] = np.einsum("sci,sci->sc", targets, solved)
    return r_squared


def _shapley_weights(r_squared: FloatArray, drivers: int) -> FloatArray:
    """LMG / Shapley value of each driver: Σ_S |S|!(p−|S|−1)!/p! · [R²(S ∪ j) − R²(S)].

    ``r_squared`` is indexed by subset bitmask on its last axis (leading axes are batches).
    """
    masks = np.arange(2**drivers)
    sizes = np.bitwise_count(masks)
    weight = np.array(
        [math.factorial(s) * math.factorial(drivers - s - 1) for s in range(drivers)], dtype=float
    ) / math.factorial(drivers)
    bits = (1 << np.arange(drivers))[:, None]
    without = (masks[None, :] & bits) == 0
    gains = r_squared[..., masks[None, :] | bits] - r_squared[..., None, masks]
    return np.where(without, weight[np.minimum(sizes, drivers - 1)] * gains, 0.0).sum(axis=-1)


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


BOOTSTRAP_RESAMPLES = 1000
RELIABLE_P = 0.05  # the full model's F test must reject "no driver matters" at this level
_BOOTSTRAP_CHUNK = 200  # resamples solved per batch (bounds memory at ~10 MB for 10 drivers)


@dataclass(frozen=True)
class ModelFit:
    """Overall F test of a linear model with intercept, and its adjusted R²."""

    r_squared: float
    adjusted_r_squared: float
    f_statistic: float
    df_model: int
    df_resid: int
    p_value: float


@dataclass(frozen=True)
class KeyDriverVerdict:
    """Key drivers with the evidence needed to say whether there is anything to rank.

    ``weights`` are Shapley (LMG) weights carrying the sign of the driver's standardised
    full-model coefficient (|weights| sum to R²); ``weights_low``/``weights_high`` are
    bootstrap percentile limits of the signed weights. ``reliable`` is False with the
    ``reasons`` ("model_not_significant", "few_units_per_driver", "no_model") otherwise.
    """

    fit: ModelFit
    n: int
    units_per_driver: float
    weights: tuple[float, ...]
    weights_low: tuple[float, ...]
    weights_high: tuple[float, ...]
    reliable: bool
    reasons: tuple[str, ...]
    warnings: tuple[str, ...]


def model_f_test(r_squared: float, n: int, drivers: int) -> ModelFit:
    """F test of H0 "all slopes are 0" from R², n rows and p drivers (model with intercept).

    F = (R²/p) / ((1 − R²)/(n − p − 1)) on (p, n − p − 1) df; adjusted R² = 1 − (1 − R²)(n −
    1)/(n − p − 1) (e.g. Greene, Econometric Analysis §3.5, §5.3). NaN when n ≤ p + 1.
    """
    df_resid = n - drivers - 1
    if df_resid < 1 or drivers < 1 or not math.isfinite(r_squared):
        return ModelFit(r_squared, math.nan, math.nan, drivers, df_resid, math.nan)
    unexplained = max(1.0 - r_squared, 0.0)
    with np.errstate(divide="ignore"):
        f_statistic = float(np.divide(r_squared / drivers, unexplained / df_resid))
    p_value = float(stats.f.sf(f_statistic, drivers, df_resid))
    adjusted = 1.0 - unexplained * (n - 1) / df_resid
    return ModelFit(r_squared, adjusted, f_statistic, drivers, df_resid, p_value)


def _signed_shapley(correlations: FloatArray, drivers: int) -> FloatArray:
    """Shapley weights times the signs of the standardised coefficients, per sample (batched).

    β* = R_xx⁻¹ r_xy (pseudo-inverse for collinear samples); a sample with a constant column
    (NaN correlations) gives NaN weights.
    """
    finite = np.asarray(np.isfinite(correlations).all(axis=(1, 2)), dtype=bool)
    safe = np.where(finite[:, None, None], correlations, np.eye(drivers + 1))
    rxx, rxy = safe[:, :drivers, :drivers], safe[:, :drivers, drivers]
    singular = np.linalg.eigvalsh(rxx).min(axis=1) < _COLLINEAR
    subsets = _batch_subset_r_squared(safe, drivers, singular)
    weights = _shapley_weights(subsets, drivers)
    beta = np.einsum("sij,sj->si", np.linalg.pinv(rxx, hermitian=True), rxy)
    return np.where(finite[:, None], np.sign(beta) * weights, np.nan)


def _correlations(samples: FloatArray) -> FloatArray:
    """Correlation matrices of a stack of data sets (samples × rows × columns)."""
    centred = samples - samples.mean(axis=1, keepdims=True)
    cross = np.einsum("sni,snj->sij", centred, centred)
    scale = np.sqrt(np.einsum("sii->si", cross))
    with np.errstate(divide="ignore", invalid="ignore"):
        return cross / scale[:, :, None] / scale[:, None, :]


def _bootstrap_limits(
    data: FloatArray, rng: np.random.Generator, resamples: int, confidence: float
) -> tuple[FloatArray, FloatArray, float]:
    """Percentile limits of the signed weights over unit resamples, and the share dropped.

    Efron & Tibshirani (1993) percentile bootstrap: rows (units) drawn with replacement;
    resamples with a constant column are dropped.
    """
    drivers = data.shape[1] - 1
    draws = rng.integers(0, data.shape[0], size=(resamples, data.shape[0]))
    weights = np.concatenate(
        [
            _signed_shapley(_correlations(data[draws[start : start + _BOOTSTRAP_CHUNK]]), drivers)
            for start in range(0, resamples, _BOOTSTRAP_CHUNK)
        ]
    )
    kept = np.isfinite(weights).all(axis=1)
    tail = 50.0 * (1.0 - confidence)
    if not kept.any():
        return np.full(drivers, np.nan), np.full(drivers, np.nan), 1.0
    low, high = np.percentile(weights[kept], [tail, 100.0 - tail], axis=0)
    return low, high, 1.0 - kept.mean()


def _verdict(
    fit: ModelFit,
    weights: FloatArray,
    limits: tuple[FloatArray, FloatArray],
    warnings: tuple[str, ...],
) -> KeyDriverVerdict:
    """Package a verdict: reliable when the F test rejects and there are enough units."""
    drivers = fit.df_model
    n = fit.df_resid + drivers + 1  # df_resid = n − p − 1
    checks = (
        ("no_model", weights.size == 0 or not np.isfinite(weights).all()),
        ("model_not_significant", not fit.p_value < RELIABLE_P),
        ("few_units_per_driver", n < UNITS_PER_DRIVER * drivers),
    )
    reasons = tuple(name for name, failed in checks if failed)
    low, high = limits
    return KeyDriverVerdict(
        fit=fit,
        n=n,
        units_per_driver=n / drivers if drivers else math.nan,
        weights=tuple(map(float, weights)),
        weights_low=tuple(map(float, low)),
        weights_high=tuple(map(float, high)),
        reliable=not reasons,
        reasons=reasons,
        warnings=warnings,
    )


def key_driver_verdict(
    X: npt.ArrayLike,  # noqa: N803
    y: npt.ArrayLike,
    *,
    rng: np.random.Generator,
    resamples: int = BOOTSTRAP_RESAMPLES,
    confidence: float = 0.95,
) -> KeyDriverVerdict:
    """Key drivers with the model's F test, adjusted R², signed weights and bootstrap limits.

    Weights: Shapley / LMG (Lindeman, Merenda & Gold 1980; Grömping 2006) as in
    `key_drivers`, signed by the standardised full-model coefficient (Q/Displayr's
    convention). Limits: percentile bootstrap over units (``resamples`` draws from ``rng``).
    ``reliable`` needs the F test p < 0.05 and at least 10 units per driver (a regression rule
    of thumb, e.g. Harrell, Regression Modeling Strategies §4.4): with 38 units, 10 drivers
    and R² 0.31, F p = 0.33 and adjusted R² 0.05, so there is nothing to rank. More than
    ``MAX_SHAPLEY_DRIVERS`` drivers, a constant column or too few rows: NaN weights and the
    reason "no_model".
    """
    data, constant = _driver_data(X, y)
    drivers = data.shape[1] - 1
    base = key_drivers(X, y)
    fit = model_f_test(base.r_squared, data.shape[0], drivers)
    if math.isnan(base.r_squared) or drivers > MAX_SHAPLEY_DRIVERS or constant:
        missing = np.full(drivers, np.nan)
        return _verdict(fit, missing, (missing, missing), base.warnings)
    weights = _signed_shapley(_correlations(data[None]), drivers)[0]
    low, high, dropped = _bootstrap_limits(data, rng, resamples, confidence)
    warnings = base.warnings + (("bootstrap_degenerate",) if dropped > 0.05 else ())
    return _verdict(fit, weights, (low, high), warnings)
