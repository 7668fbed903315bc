"""Status of a performance expectation as a pure rule over tested changes against a baseline.

An expectation says: this metric, for this group, moves by ``target_change`` (metric units,
from the baseline) between period ``start`` and period ``end``. Each measured period since
the start brings one change against the baseline with its interval and significance, e.g. a
``surveys.scoring`` `Comparison` (`compare`, `compare_small_sample`, `clustered_change`).
Only its ``difference``, ``ci_low``, ``ci_high`` and ``significant`` are read.

Statuses:

- pending: the frame has not started, or no period in it has been measured yet;
- achieved: in each of the last ``sustained`` measured periods (default 2; fewer if the frame
  is shorter) the change is significant in the wanted direction and its interval reaches the
  target (the target is inside the interval or beyond it: the data do not show the change
  falling short). One lucky period's point estimate is not enough: a stationary metric
  crosses a modest target by chance in many months, while two consecutive significant
  changes happen by chance with probability below α/2;
- missed: the frame is over (``current`` ≥ ``end``) and it was not achieved;
- at risk: the planned straight-line trajectory (no change at the start, the full target at
  the end of period ``end``, read at the end of the latest measured period) lies beyond the
  favourable end of the latest interval, so even the best case is behind plan;
- on track: otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

STATUSES = ("achieved", "on_track", "at_risk", "missed", "pending")


class Change(Protocol):
    """A change against the baseline with its interval (what `Comparison` provides)."""

    @property
    def difference(self) -> float | None: ...
    @property
    def ci_low(self) -> float | None: ...
    @property
    def ci_high(self) -> float | None: ...
    @property
    def significant(self) -> bool: ...


@dataclass(frozen=True)
class ExpectationPlan:
    """Target change (metric units, signed: negative for a reduction) over periods start..end."""

    target_change: float
    higher_is_better: bool
    start: int
    end: int
    sustained: int = 2

    def __post_init__(self) -> None:
        if self.end < self.start or self.sustained < 1:
            raise ValueError("need start <= end and sustained >= 1")
        if self.target_change == 0 or (self.target_change > 0) != self.higher_is_better:
            raise ValueError("target_change must point in the metric's better direction")


@dataclass(frozen=True)
class ExpectationStatus:
    """One of ``STATUSES`` with a short reason and the evidence it rests on."""

    status: str
    reason: str
    planned_change: float | None = None
    periods_meeting_target: int = 0


def planned_change(plan: ExpectationPlan, period: int) -> float:
    """The straight-line plan at the end of ``period``: target·(period − start + 1)/frame."""
    share = (period - plan.start + 1) / (plan.end - plan.start + 1)
    return plan.target_change * min(max(share, 0.0), 1.0)


def meets_target(change: Change, plan: ExpectationPlan) -> bool:
    """Significant in the wanted direction, with the target inside or beyond the interval."""
    if change.difference is None or not change.significant:
        return False
    if plan.higher_is_better:
        reach = change.ci_high if change.ci_high is not None else change.difference
        return change.difference > 0 and reach >= plan.target_change
    reach = change.ci_low if change.ci_low is not None else change.difference
    return change.difference < 0 and reach <= plan.target_change


def _trailing_hits(changes: list[Change], plan: ExpectationPlan) -> int:
    """How many of the latest measured periods in a row meet the target."""
    hits = 0
    for change in reversed(changes):
        if not meets_target(change, plan):
            break
        hits += 1
    return hits


def _behind_plan(change: Change, plan: ExpectationPlan, planned: float) -> bool:
    """True when even the favourable end of the interval falls short of the plan."""
    favourable = change.ci_high if plan.higher_is_better else change.ci_low
    best = favourable if favourable is not None else change.difference
    if best is None:
        return False
    return best < planned if plan.higher_is_better else best > planned


def expectation_status(
    plan: ExpectationPlan,
    changes: Sequence[Change],
    periods: Sequence[int],
    *,
    current: int,
) -> ExpectationStatus:
    """Status of an expectation by the rule in this module's docstring (pure).

    ``changes[i]`` is the change against the baseline measured in period ``periods[i]``
    (increasing integers, e.g. month indexes); ``current`` is the latest complete period.
    Changes outside start..end, or without a difference, are ignored.
    """
    if len(changes) != len(periods):
        raise ValueError("need one period index per change")
    measured = [
        (period, change)
        for period, change in zip(periods, changes, strict=True)
        if plan.start <= period <= plan.end and change.difference is not None
    ]
    if current < plan.start or not measured:
        return ExpectationStatus("pending", "not started" if current < plan.start else "no data")
    needed = min(plan.sustained, plan.end - plan.start + 1)
    hits = _trailing_hits([change for _, change in measured], plan)
    latest_period, latest = measured[-1]
    planned = planned_change(plan, latest_period)
    if hits >= needed:
        reason = f"target met, significantly, in the last {needed} measured period(s)"
        return ExpectationStatus("achieved", reason, planned, hits)
    if current >= plan.end:
        return ExpectationStatus("missed", "the frame ended without the target", planned, hits)
    if _behind_plan(latest, plan, planned):
        return ExpectationStatus("at_risk", "even the best case is behind plan", planned, hits)
    return ExpectationStatus("on_track", "the plan is within reach", planned, hits)
