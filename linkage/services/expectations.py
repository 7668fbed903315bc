"""Performance expectations: specific targets with a target group, extent, time frame and
a baseline computed from raw answers; their status is refreshed daily.

Status: `judge_expectation` applies the pure rule of `linkage.stats.expectations` to the
changes against the baseline of every measured period in the frame, each tested at the level
of the design (`frame_evidence`: clustered by store when the group spans stores, exact tests
at small n, paired over stores for imported outcomes). One period's point is never enough.

Former point rule (`judge_status`, pure, no longer decides a status):
- pending: before the start date, or no complete period in the time frame has a visible
  value yet;
- achieved: the latest value has reached the target in the metric's direction;
- missed: the end date has passed and the target was not reached;
- at risk: the trajectory needed by now lies outside the 95 % interval of the latest value
  on the wrong side (e.g. higher is better and even the upper bound is below it). The needed
  trajectory runs in a straight line from the baseline at the start date to the target at
  the end date, read at the end of the latest measured period;
- on track: otherwise (the needed trajectory is inside the interval, or already beaten).
"""

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from common.services import record_event
from surveys import periods
from surveys.aggregation import GroupValue, compute_group_value, group_cluster_sums
from surveys.models import Metric, OrgUnit
from surveys.scoring.paired import paired_change
from surveys.selectors import metric_values
from surveys.visibility import SYSTEM

from ..comparisons import (
    TestedChange,
    at_respondent_level,
    comparison_as_json,
    repeat_respondents,
    tested_change,
)
from ..exceptions import ExpectationInvalid
from ..models import PerformanceExpectation
from ..stats.expectations import ExpectationPlan, ExpectationStatus, expectation_status

Status = PerformanceExpectation.Status
TargetKind = PerformanceExpectation.TargetKind
# Data can arrive late (imports, slow respondents): keep judging this long after the end.
LATE_DATA_GRACE = timedelta(days=92)

NEEDS_GROUP = (
    "A performance expectation needs a target group: choose the unit whose customers or "
    'employees it is about (add a segment such as {"product": "X"} to narrow it).'
)
NEEDS_EXTENT = (
    "A performance expectation needs an extent: say by how much the metric should change, "
    "e.g. −10 with a relative target for a 10 % reduction. A change of zero is no target."
)
NEEDS_TIME_FRAME = "A performance expectation needs a time frame: "
NEEDS_BASELINE = "A performance expectation needs a baseline: "
# Input bounds: a segment filter is a flat, short object; an extent a sane finite number.
MAX_SEGMENT_KEYS = 20
MAX_SEGMENT_TEXT = 200
MAX_TARGET_CHANGE = 1e9


@dataclass(frozen=True)
class Baseline:
    value: float
    n: int


def _check_shape(
    *,
    title: str,
    metric: Metric | None,
    unit: OrgUnit | None,
    target_kind: str,
    target_change: float | None,
    start_date: date | None,
    end_date: date | None,
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not (title or "").strip():
        errors["title"] = ["Give the expectation a short title leaders will recognise."]
    if metric is None:
        errors["metric"] = ["A performance expectation needs a metric to move."]
    if unit is None:
        errors["unit"] = [NEEDS_GROUP]
    if target_kind not in TargetKind.values:
        errors["target_kind"] = ["Choose an absolute or a relative change."]
    if not target_change:
        errors["target_change"] = [NEEDS_EXTENT]
    elif target_kind == TargetKind.RELATIVE and target_change < -100:
        errors["target_change"] = ["A relative reduction cannot exceed −100 % (down to zero)."]
    if target_change is not None and not (
        math.isfinite(target_change) and abs(target_change) <= MAX_TARGET_CHANGE
    ):
        errors["target_change"] = [f"Give an extent between ±{MAX_TARGET_CHANGE:g}."]
    if start_date is None or end_date is None:
        field = "start_date" if start_date is None else "end_date"
        errors[field] = [NEEDS_TIME_FRAME + "give both a start date and an end date."]
    elif not (_in_window(start_date) and _in_window(end_date)):
        years = f"{periods.FIRST_YEAR} and {periods.LAST_YEAR}"
        errors["end_date" if _in_window(start_date) else "start_date"] = [
            NEEDS_TIME_FRAME + f"give dates between {years}."
        ]
    elif end_date <= start_date:
        errors["end_date"] = [NEEDS_TIME_FRAME + "the end date must come after the start date."]
    return errors


def _check_direction(metric: Metric, target_change: float) -> list[str]:
    """A target that would make the metric worse is almost always a sign slip."""
    improves = target_change > 0 if metric.higher_is_better else target_change < 0
    if improves:
        return []
    if metric.higher_is_better:
        return [f"This change would make {metric} worse: higher is better, so use a positive one."]
    return [f"This change would make {metric} worse: lower is better, so use a negative one."]


def _in_window(day: date) -> bool:
    return periods.FIRST_YEAR <= day.year <= periods.LAST_YEAR


def _check_segment(segment_filter: Any) -> list[str]:
    """A flat object of short attribute names to short texts or finite numbers: it is
    matched against stored segments in SQL, so nothing nested, no NUL, no NaN."""
    if not isinstance(segment_filter, dict):
        return ['Write the segment as an object, e.g. {"product": "X"}.']
    if len(segment_filter) > MAX_SEGMENT_KEYS:
        return [f"Narrow the group by at most {MAX_SEGMENT_KEYS} attributes."]
    for key, value in segment_filter.items():
        if not _short_text(key):
            return ["Attribute names are short texts without control characters."]
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        if not (_short_text(value) or (is_number and math.isfinite(value))):
            return [f"Give '{key}' a short text or a number (nothing nested, no NaN)."]
    return []


def _short_text(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_SEGMENT_TEXT and "\x00" not in value


def _check_period(label: str) -> list[str]:
    if not label:
        return [NEEDS_BASELINE + "give the period to measure from, e.g. 2026-01."]
    try:
        periods.check_label(label)
    except periods.PeriodError as error:
        return [NEEDS_BASELINE + str(error) + "."]
    return []


def target_group_value(
    *, metric: Metric, unit: OrgUnit, segment_filter: dict, period: str
) -> GroupValue:
    """The target group's value in one period.

    Survey metrics are scored from raw answers (`compute_group_value`). Imported outcomes
    such as revenue have no answers: the stored value of the unit (rolled up from its
    stores) is the group's value, and they take no segment. Raises ValueError for a segment
    the metric cannot take.
    """
    if metric.source != Metric.Source.OUTCOME:
        return compute_group_value(
            metric=metric, unit=unit, periods=[period], segment=segment_filter
        )
    if segment_filter:
        raise ValueError(f"{metric} is imported per unit, without segments: leave it empty.")
    row = (
        metric_values(reader=SYSTEM, metric_keys=[metric.key], periods=[period])
        .filter(unit=unit)
        .first()
    )
    if row is None or row.value is None:
        return GroupValue(value=None, n=0, suppressed=bool(row and row.suppressed))
    return GroupValue(
        value=row.value, n=row.n, ci_low=row.ci_low, ci_high=row.ci_high, details=row.details
    )


def compute_baseline(
    *, metric: Metric, unit: OrgUnit, segment_filter: dict, baseline_period: str
) -> Baseline:
    """The target group's value in the baseline period, or ExpectationInvalid saying why not."""
    try:
        group = target_group_value(
            metric=metric, unit=unit, segment_filter=segment_filter, period=baseline_period
        )
    except ValueError as error:
        raise ExpectationInvalid({"segment_filter": [str(error)]}) from error
    if group.suppressed:
        threshold = group.details.get("threshold", "")
        message = (
            f"{NEEDS_BASELINE}the {baseline_period} value for this target group is hidden "
            f"(fewer than {threshold} responses) or would reveal such a group. Choose a larger "
            "group or another period."
        )
        raise ExpectationInvalid({"baseline_period": [message]})
    if group.value is None:
        message = (
            f"{NEEDS_BASELINE}there is no {metric} value for this target group in "
            f"{baseline_period}. Choose a period with answers (or imported values)."
        )
        raise ExpectationInvalid({"baseline_period": [message]})
    return Baseline(value=group.value, n=group.n)


def target_value(*, baseline: float, target_kind: str, target_change: float) -> float:
    """Absolute: baseline + change. Relative: baseline × (1 + change / 100)."""
    if target_kind == TargetKind.RELATIVE:
        return baseline * (1 + target_change / 100)
    return baseline + target_change


def create_expectation(
    *,
    owner: User,
    title: str,
    metric: Metric | None,
    unit: OrgUnit | None,
    segment_filter: dict | None,
    baseline_period: str,
    target_kind: str,
    target_change: float | None,
    start_date: date | None,
    end_date: date | None,
) -> PerformanceExpectation:
    """Create a specific expectation with its computed baseline and target value.

    Refuses (ExpectationInvalid, messages keyed by field) when the target group, the extent
    (a non-zero change in the metric's better direction), the time frame (start before end)
    or a visible baseline for the group in `baseline_period` is missing. Nothing is written
    when it raises; the first status is computed right away.
    """
    fields: dict[str, Any] = {
        "title": (title or "").strip(),
        "metric": metric,
        "unit": unit,
        "segment_filter": {} if segment_filter is None else segment_filter,
        "baseline_period": baseline_period or "",
        "target_kind": target_kind,
        "target_change": target_change,
        "start_date": start_date,
        "end_date": end_date,
    }
    check_expectation(**fields)
    # check_expectation refused every missing part, so the narrowing below always holds.
    assert metric is not None and unit is not None and target_change is not None
    baseline = compute_baseline(
        metric=metric,
        unit=unit,
        segment_filter=segment_filter or {},
        baseline_period=baseline_period,
    )
    target = _target_for(baseline, target_kind=target_kind, target_change=target_change)
    with transaction.atomic():
        expectation = PerformanceExpectation.objects.create(
            owner=owner,
            baseline_value=baseline.value,
            baseline_n=baseline.n,
            target_value=target,
            **fields,
        )
        record_event(owner, "expectation.created", expectation, _summary(expectation))
        refresh_expectation_status(expectation)
    return expectation


@transaction.atomic
def delete_expectation(*, actor: User, expectation: PerformanceExpectation) -> None:
    """Withdraw an expectation; the audit trail keeps what it said and who removed it."""
    record_event(actor, "expectation.deleted", expectation, _summary(expectation))
    expectation.delete()


def check_expectation(
    *,
    title: str,
    metric: Metric | None,
    unit: OrgUnit | None,
    segment_filter: Any,
    baseline_period: str,
    target_kind: str,
    target_change: float | None,
    start_date: date | None,
    end_date: date | None,
) -> None:
    """Raise ExpectationInvalid listing every missing or inconsistent part, by field."""
    errors = _check_shape(
        title=title,
        metric=metric,
        unit=unit,
        target_kind=target_kind,
        target_change=target_change,
        start_date=start_date,
        end_date=end_date,
    )
    direction = _check_direction(metric, target_change) if metric and target_change else []
    for field, messages in (
        ("segment_filter", _check_segment(segment_filter)),
        ("baseline_period", _check_period(baseline_period)),
        ("target_change", direction),
    ):
        if messages:
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ExpectationInvalid(errors)


def _target_for(baseline: Baseline, *, target_kind: str, target_change: float) -> float:
    if target_kind == TargetKind.RELATIVE and baseline.value == 0:
        message = "A relative change of a zero baseline is still zero: use an absolute change."
        raise ExpectationInvalid({"target_kind": [message]})
    if target_kind == TargetKind.RELATIVE and baseline.value < 0:
        # −20 × (1 + 10 / 100) = −22: "10 % better" would be a worse target, met at once.
        message = (
            f"The baseline is negative ({baseline.value:.1f}): a relative change of it points "
            "the wrong way. Use an absolute change in points."
        )
        raise ExpectationInvalid({"target_kind": [message]})
    return target_value(
        baseline=baseline.value, target_kind=target_kind, target_change=target_change
    )


def _summary(expectation: PerformanceExpectation) -> dict[str, Any]:
    return {
        "metric": expectation.metric.key,
        "unit": expectation.unit.code,
        "segment": expectation.segment_filter,
        "baseline": [expectation.baseline_period, expectation.baseline_value],
        "target": expectation.target_value,
        "time_frame": [expectation.start_date.isoformat(), expectation.end_date.isoformat()],
    }


@dataclass(frozen=True)
class Reading:
    """The target group's latest visible value inside the time frame."""

    period: str
    value: float
    n: int
    ci_low: float | None
    ci_high: float | None


MAX_LOOKBACK = 6  # periods searched backwards for a visible value


def latest_reading(expectation: PerformanceExpectation, *, today: date) -> Reading | None:
    """Value of the latest complete period within the time frame that has a visible value.

    A period is complete once its last day is before `today`; periods after the end date
    are outside the frame. Periods use the baseline period's granularity. A target group
    that can no longer be scored (a segment the anonymity rules now refuse) has no reading.
    """
    granularity = periods.granularity_of(expectation.baseline_period)
    first = periods.index_of(periods.label_for(expectation.start_date, granularity))
    # Compared before adding a day: an end date stored as 9999-12-31 must not overflow.
    cutoff = today if expectation.end_date >= today else expectation.end_date + timedelta(days=1)
    last = periods.index_of(periods.label_for(cutoff, granularity)) - 1
    for index in range(last, max(first, last - MAX_LOOKBACK + 1) - 1, -1):
        label = periods.label_from_index(index, granularity)
        try:
            group = target_group_value(
                metric=expectation.metric,
                unit=expectation.unit,
                segment_filter=expectation.segment_filter,
                period=label,
            )
        except ValueError:
            return None
        if group.value is not None and not group.suppressed:
            return Reading(label, group.value, group.n, group.ci_low, group.ci_high)
    return None


def needed_by(*, baseline: float, target: float, start: date, end: date, moment: date) -> float:
    """The straight-line trajectory from baseline (at start) to target (at end), at `moment`."""
    share = (moment - start).days / (end - start).days
    return baseline + min(max(share, 0.0), 1.0) * (target - baseline)


def reached(value: float, target: float, *, higher_is_better: bool) -> bool:
    return value >= target if higher_is_better else value <= target


@dataclass(frozen=True)
class PeriodEvidence:
    """One measured period of the frame: the group's value and its tested change vs baseline."""

    index: int
    period: str
    value: float
    change: TestedChange


MAX_FRAME_PERIODS = 36  # periods of a frame judged (three years of months)


def _outcome_change(expectation: PerformanceExpectation, period: str) -> TestedChange | None:
    """An imported outcome has no answers: its stores are the sample. Paired t test over the
    stores with a value in both periods (the same stores twice, STATISTICS.md rule 4); a sum
    (revenue) changes by the stores' count times their mean change."""
    metric, unit = expectation.metric, expectation.unit
    rows = metric_values(
        reader=SYSTEM, metric_keys=[metric.key], periods=[expectation.baseline_period, period]
    ).filter(unit__path__startswith=unit.path, unit__level=OrgUnit.Level.STORE)
    by_store: dict[int, dict[str, float]] = {}
    for row in rows:
        if row.value is not None:
            by_store.setdefault(row.unit_id, {})[row.period] = row.value
    pairs = [
        (values[expectation.baseline_period], values[period])
        for values in by_store.values()
        if len(values) == 2
    ]
    if len(pairs) < 2:
        return None
    before, after = zip(*pairs, strict=True)
    scale = len(pairs) if metric.aggregation == Metric.Aggregation.SUM else 1.0
    return TestedChange(paired_change(before, after, scale=scale), "stores (paired)", len(pairs))


def _tested_change(
    expectation: PerformanceExpectation, baseline: GroupValue, period: str, group: GroupValue
) -> TestedChange | None:
    metric = expectation.metric
    if metric.source == Metric.Source.OUTCOME:
        return _outcome_change(expectation, period)
    sums = group_cluster_sums(
        metric=metric,
        unit=expectation.unit,
        periods=[expectation.baseline_period, period],
        segment=expectation.segment_filter,
    )
    overlap = None
    if at_respondent_level(sums):
        pair = (expectation.baseline_period, period)
        overlap = repeat_respondents(metric, expectation.unit, pair, expectation.segment_filter)
    return tested_change(metric, baseline.details, group.details, sums, overlap)


def frame_evidence(expectation: PerformanceExpectation, *, today: date) -> list[PeriodEvidence]:
    """Every complete, visible period of the frame with its change against the baseline,
    tested at the level of the design (`linkage.comparisons.tested_change`)."""
    granularity = periods.granularity_of(expectation.baseline_period)
    first = periods.index_of(periods.label_for(expectation.start_date, granularity))
    cutoff = today if expectation.end_date >= today else expectation.end_date + timedelta(days=1)
    last = periods.index_of(periods.label_for(cutoff, granularity)) - 1
    try:
        baseline = target_group_value(
            metric=expectation.metric,
            unit=expectation.unit,
            segment_filter=expectation.segment_filter,
            period=expectation.baseline_period,
        )
    except ValueError:
        return []
    evidence = []
    for index in range(max(first, last - MAX_FRAME_PERIODS + 1), last + 1):
        label = periods.label_from_index(index, granularity)
        group = target_group_value(
            metric=expectation.metric,
            unit=expectation.unit,
            segment_filter=expectation.segment_filter,
            period=label,
        )
        if group.value is None or group.suppressed:
            continue
        change = _tested_change(expectation, baseline, label, group)
        if change is not None:
            evidence.append(PeriodEvidence(index, label, group.value, change))
    return evidence


def judge_expectation(
    expectation: PerformanceExpectation, evidence: list[PeriodEvidence], *, today: date
) -> ExpectationStatus:
    """Status by `linkage.stats.expectations`: achieved needs the change against the
    baseline significant in the wanted direction, reaching the target, in the last two
    measured periods; on track / at risk read the interval against the straight-line plan."""
    granularity = periods.granularity_of(expectation.baseline_period)
    start = periods.index_of(periods.label_for(expectation.start_date, granularity))
    end = periods.index_of(periods.label_for(expectation.end_date, granularity))
    current = periods.index_of(periods.label_for(today, granularity)) - 1
    if today > expectation.end_date:
        current = max(current, end)
    target = (expectation.target_value or 0.0) - (expectation.baseline_value or 0.0)
    try:
        plan = ExpectationPlan(
            target_change=target,
            higher_is_better=expectation.metric.higher_is_better,
            start=start,
            end=end,
        )
    except ValueError:
        return ExpectationStatus("pending", "no usable target")
    return expectation_status(
        plan,
        [item.change.comparison for item in evidence],
        [item.index for item in evidence],
        current=current,
    )


def evidence_as_json(evidence: list[PeriodEvidence], verdict: ExpectationStatus) -> dict[str, Any]:
    """What the status rests on, stored for the pages: each period's tested change."""
    return {
        "status": verdict.status,
        "reason": verdict.reason,
        "planned_change": verdict.planned_change,
        "periods_meeting_target": verdict.periods_meeting_target,
        "periods": [
            {
                "period": item.period,
                "value": item.value,
                "level": item.change.level,
                "clusters": item.change.clusters,
                "paired": item.change.paired,
                **comparison_as_json(item.change.comparison),
            }
            for item in evidence
        ],
    }


def judge_status(
    *,
    today: date,
    start: date,
    end: date,
    baseline: float,
    target: float,
    higher_is_better: bool,
    reading: Reading | None,
) -> str:
    """Status by the rule in this module's docstring (pure)."""
    if today < start:
        return Status.PENDING
    if reading is not None and reached(reading.value, target, higher_is_better=higher_is_better):
        return Status.ACHIEVED
    if today > end:
        return Status.MISSED
    if reading is None:
        return Status.PENDING
    moment = min(periods.end_date(reading.period), end)
    needed = needed_by(baseline=baseline, target=target, start=start, end=end, moment=moment)
    if higher_is_better:
        best_case = reading.ci_high if reading.ci_high is not None else reading.value
        behind = best_case < needed
    else:
        best_case = reading.ci_low if reading.ci_low is not None else reading.value
        behind = best_case > needed
    return Status.AT_RISK if behind else Status.ON_TRACK


def refresh_expectation_status(
    expectation: PerformanceExpectation, *, today: date | None = None
) -> PerformanceExpectation:
    """Recompute the latest value and status of one expectation (idempotent).

    `today` defaults to the local date; tests pass other dates to travel in time.
    """
    today = today or timezone.localdate()
    reading = latest_reading(expectation, today=today) if today >= expectation.start_date else None
    if expectation.baseline_value is None or expectation.target_value is None:
        return expectation  # stored before a baseline existed: nothing to judge against
    evidence = frame_evidence(expectation, today=today) if reading is not None else []
    verdict = judge_expectation(expectation, evidence, today=today)
    status = verdict.status
    expectation.evidence = evidence_as_json(evidence, verdict)
    previous = expectation.status
    expectation.status = status
    expectation.latest_period = reading.period if reading else ""
    expectation.latest_value = reading.value if reading else None
    expectation.latest_n = reading.n if reading else 0
    expectation.latest_ci_low = reading.ci_low if reading else None
    expectation.latest_ci_high = reading.ci_high if reading else None
    expectation.status_checked_at = timezone.now()
    with transaction.atomic():
        expectation.save(update_fields=[*STATUS_FIELDS, "updated_at"])
        if status != previous:
            details = {"from": previous, "to": status, "period": expectation.latest_period}
            record_event(None, "expectation.status_changed", expectation, details)
    return expectation


STATUS_FIELDS = [
    "status",
    "evidence",
    "latest_period",
    "latest_value",
    "latest_n",
    "latest_ci_low",
    "latest_ci_high",
    "status_checked_at",
]


def refresh_all_expectation_statuses(*, today: date | None = None) -> int:
    """Refresh every expectation still running, or ended within the late-data grace.

    Returns how many were refreshed. Safe to run twice: each refresh recomputes from data.
    """
    today = today or timezone.localdate()
    due = PerformanceExpectation.objects.select_related("metric", "unit").filter(
        Q(end_date__gte=today - LATE_DATA_GRACE) | Q(status_checked_at__isnull=True)
    )
    refreshed = 0
    for expectation in due:
        refresh_expectation_status(expectation, today=today)
        refreshed += 1
    return refreshed
