"""Benchmark linkage_stats against a per-pair, per-lag loop over scipy.stats.

Synthetic panel (seeded): each unit has a stable level per metric plus AR(1) noise, and metric
m + 1 at period t + 1 carries 0.5 × metric m at period t (a built-in lag-1 chain effect). Every
unordered metric pair is tested at lags −max_lag..max_lag (negative lags cover the reverse
direction). Prints both timings and the speed-up, and fails if r or ρ differ by more than 1e-9.
With several --missing shares (percent of cells set to NaN at random), one line per share:

    .venv/bin/python bench/bench_linkage.py --units 10000 --periods 24 --metrics 10 --max-lag 2 \
        --missing 0 10 30

The scipy loop is one thread. Ours runs its compiled per-pair loops (pairs with missing
cells) on NUMBA_NUM_THREADS threads, all cores by default, as a linkage run does in the
worker; set NUMBA_NUM_THREADS=1 to compare one thread with one. On a shared machine set
OPENBLAS_NUM_THREADS=1 so BLAS threads do not fight other jobs (the scipy loop barely uses
BLAS). The first call compiles those loops (cached on disk); it is warmed up before timing.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from linkage.stats import linkage_stats  # noqa: E402


def synthetic_panels(
    units: int, periods: int, metrics: int, missing: float, seed: int
) -> np.ndarray:
    """Metrics × units × periods panel with unit levels, AR(1) noise and a lag-1 chain effect."""
    rng = np.random.default_rng(seed)
    levels = rng.normal(0.0, 1.0, size=(metrics, units, 1))
    noise = rng.normal(0.0, 1.0, size=(metrics, units, periods))
    for period in range(1, periods):
        noise[:, :, period] += 0.4 * noise[:, :, period - 1]
    panels = levels + noise
    for metric in range(1, metrics):
        panels[metric, :, 1:] += 0.5 * panels[metric - 1, :, :-1]
    panels = 50.0 + 10.0 * panels  # survey-like scale (e.g. an NPS around +50)
    panels[rng.random(panels.shape) < missing] = np.nan
    return panels


def scipy_loop(panels: np.ndarray, pairs: list[tuple[int, int]], lags: list[int]) -> np.ndarray:
    """Reference: slice each lag by period column, then scipy pearsonr and spearmanr per test."""
    periods = panels.shape[2]
    out = np.empty((len(pairs), len(lags), 2))
    for pair_index, (x_metric, y_metric) in enumerate(pairs):
        for lag_index, lag in enumerate(lags):
            x = panels[x_metric][:, max(0, -lag) : periods - max(0, lag)]
            y = panels[y_metric][:, max(0, lag) : periods + min(0, lag)]
            keep = np.isfinite(x) & np.isfinite(y)
            out[pair_index, lag_index, 0] = stats.pearsonr(x[keep], y[keep]).statistic
            out[pair_index, lag_index, 1] = stats.spearmanr(x[keep], y[keep]).statistic
    return out


def chain_summary(results: list) -> str:
    """Mean pooled and within-unit r of the built-in links (metric m → m + 1) at lags 0 and 1."""
    links = [item for item in results if item.y_index == item.x_index + 1]
    parts = []
    for lag in (0, 1, -1):
        chosen = [item for item in links if item.lag == lag]
        pooled = np.mean([item.r for item in chosen])
        within = np.mean([item.within_r for item in chosen])
        parts.append(f"lag {lag:+d}: r {pooled:.3f}, within {within:.3f}")
    return "chain m→m+1      " + "; ".join(parts)


def best_time(function: Callable[[], object], repeat: int) -> tuple[float, object]:
    """Fastest wall time of ``repeat`` runs (the usual timeit convention) and the last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    """Parse options, time both implementations, compare and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=10_000)
    parser.add_argument("--periods", type=int, default=24)
    parser.add_argument("--metrics", type=int, default=10)
    parser.add_argument("--max-lag", type=int, default=2)
    parser.add_argument(
        "--missing", type=float, nargs="+", default=[0.0], help="percent of cells set to NaN"
    )
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs each")
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args()

    for missing in args.missing:
        run(args, missing / 100.0)


def run(args: argparse.Namespace, missing: float) -> None:
    """Time both implementations on one panel with ``missing`` of its cells NaN, and compare."""
    panels = synthetic_panels(args.units, args.periods, args.metrics, missing, args.seed)
    pairs = list(itertools.combinations(range(args.metrics), 2))
    lags = list(range(-args.max_lag, args.max_lag + 1))
    print(
        f"{args.units} units × {args.periods} periods × {args.metrics} metrics, {len(pairs)} "
        f"pairs × {len(lags)} lags = {len(pairs) * len(lags)} tests, missing {missing:.0%}, "
        f"best of {args.repeat}"
    )
    warm = panels[:, :50].copy()
    warm[0, 0, 0] = np.nan  # a gap, so the compiled loops are loaded before the clock starts
    linkage_stats(warm, pairs, lags, rng=np.random.default_rng(args.seed))
    ours, results = best_time(
        lambda: linkage_stats(panels, pairs, lags, rng=np.random.default_rng(args.seed)),
        args.repeat,
    )
    baseline, reference = best_time(lambda: scipy_loop(panels, pairs, lags), args.repeat)
    got = np.array([[item.r, item.spearman] for item in results]).reshape(reference.shape)
    worst = float(np.max(np.abs(got - reference)))
    print(f"linkage_stats      {ours:8.3f} s  (pooled, within, between, slopes, p, CI, q)")
    print(f"scipy loop         {baseline:8.3f} s  (pearsonr + spearmanr only)")
    print(f"speed-up           {baseline / ours:8.1f} ×")
    print(f"max |Δ| r, ρ       {worst:.2e}")
    print(chain_summary(results))
    assert worst <= 1e-9, f"linkage_stats disagrees with scipy by {worst}"


if __name__ == "__main__":
    main()
