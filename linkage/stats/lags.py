"""Lag alignment of units × periods panels: X at period t against Y at period t + lag."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from .common import FloatArray, IntArray


def _windows(periods: int, lag: int) -> tuple[slice, slice]:
    """Column slices of X (period t) and Y (period t + lag) that overlap inside the panel."""
    x_window = slice(max(0, -lag), max(0, periods - max(0, lag)))
    y_window = slice(max(0, lag), max(0, periods + min(0, lag)))
    return x_window, y_window


def _lag_windows(periods: int, lags: list[int]) -> IntArray:
    """Per lag (rows, lags × 3): start and stop of X's period window, and the lag itself."""
    rows = [(_windows(periods, lag)[0], lag) for lag in lags]
    return np.array(
        [(window.start, window.stop, lag) for window, lag in rows], dtype=np.intp
    ).reshape(-1, 3)


def lagged_pairs(
    x_panel: npt.ArrayLike, y_panel: npt.ArrayLike, lag: int
) -> tuple[FloatArray, FloatArray, IntArray]:
    """Aligned (X[u, t], Y[u, t + lag], u) for every unit and period where both are present.

    Shifts by period column within each unit, so a missing period never pulls the next one
    into its place. Negative ``lag`` pairs X at t with Y at t − |lag| (Y leads). Returned in
    unit-then-period order.
    """
    x_values = np.asarray(x_panel, dtype=float)
    y_values = np.asarray(y_panel, dtype=float)
    if x_values.ndim != 2 or x_values.shape != y_values.shape:
        raise ValueError("x_panel and y_panel must be units × periods arrays of one shape")
    x_window, y_window = _windows(x_values.shape[1], lag)
    x_part, y_part = x_values[:, x_window], y_values[:, y_window]
    both = np.isfinite(x_part) & np.isfinite(y_part)
    units = np.broadcast_to(np.arange(x_values.shape[0])[:, None], both.shape)
    return x_part[both], y_part[both], units[both]


def _window_length(periods: int, lag: int) -> int:
    """Number of periods t for which both t and t + lag fall inside the panel."""
    return max(0, periods - abs(lag))
