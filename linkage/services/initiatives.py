"""The initiative funnel: idea → prioritised → shipped → measured, told as results.

Stages move forward one step at a time. An initiative becomes measured only through
`verify_initiative_impact`, which compares its metrics before and after with a significance
test. Moving back is allowed but never silent: it needs a reason, is audited, and drops the
evidence of the stages left behind.

Verified impact: when the test shows a significant improvement of a linked metric after Holm's
adjustment across its metrics (and none got significantly worse), the claimed amount counts
as verified; otherwise the verified amount is 0, so an unsupported claim adds nothing to
"retained". The test compares treated with untreated stores (difference in differences) when
the initiative names a unit, within its segment.
"""

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import numpy as np
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from common.services import record_event
from surveys import periods
from surveys.aggregation import GroupValue, compute_group_value, group_cluster_sums
from surveys.models import Metric, OrgUnit
from surveys.scoring.clustered import difference_in_differences
from surveys.scoring.multiplicity import adjust_comparisons

from ..comparisons import (
    TestedChange,
    at_respondent_level,
    comparison_as_json,
    repeat_respondents,
    tested_change,
)
from ..exceptions import InitiativeError
from ..models import Initiative

Stage = Initiative.Stage


@transaction.atomic
def create_initiative(
    *,
    actor: User | None,
    title: str,
    metrics: Iterable[Metric] = (),
    details: dict[str, Any] | None = None,
    **fields: Any,
) -> Initiative:
    """Create an initiative as an idea with its linked metrics; audited as `actor`'s."""
    initiative = Initiative.objects.create(title=title, **fields)
    initiative.metrics.set(list(metrics))
    record_event(actor, "initiative.created", initiative, details or {})
    return initiative


@transaction.atomic
def save_initiative(
    *, actor: User | None, initiative: Initiative, changed_fields: Iterable[str]
) -> Initiative:
    """Save an edit (or a new initiative) made in a form; audited with the changed fields.

    Stages change only through `advance_initiative`, `move_initiative_back` and
    `verify_initiative_impact`, never here (the admin shows the stage read-only).
    """
    action = "initiative.changed" if initiative.pk else "initiative.created"
    initiative.save()
    record_event(actor, action, initiative, {"fields": list(changed_fields)})
    return initiative


def advance_initiative(*, actor: User | None, initiative: Initiative) -> Initiative:
    """Move an idea to prioritised, or a prioritised initiative to shipped (one step)."""
    with transaction.atomic():
        locked = Initiative.objects.select_for_update().get(pk=initiative.pk)
        if locked.stage == Stage.MEASURED:
            raise InitiativeError(f"“{locked}” is already measured.")
        if locked.stage == Stage.SHIPPED:
            raise InitiativeError(
                f"“{locked}” is shipped: verify its impact (before and after periods) "
                "to mark it measured."
            )
        previous = locked.stage
        locked.stage = previous + 1
        if locked.stage == Stage.SHIPPED and locked.shipped_at is None:
            locked.shipped_at = timezone.localdate()
        locked.save(update_fields=["stage", "shipped_at", "updated_at"])
        record_event(actor, "initiative.advanced", locked, _moved(previous, locked.stage))
    return locked


def move_initiative_back(
    *, actor: User | None, initiative: Initiative, stage: int, reason: str
) -> Initiative:
    """Return an initiative to an earlier stage, with a reason; evidence after it is cleared."""
    if not reason.strip():
        raise InitiativeError("Say why the initiative goes back; moves back are never silent.")
    with transaction.atomic():
        locked = Initiative.objects.select_for_update().get(pk=initiative.pk)
        if stage not in Stage.values or stage >= locked.stage:
            raise InitiativeError("Choose an earlier stage than the current one.")
        previous = locked.stage
        locked.stage = stage
        if stage < Stage.MEASURED:
            locked.verification, locked.verified_impact = {}, None
        if stage < Stage.SHIPPED:
            locked.shipped_at = None
        locked.save()
        details = {**_moved(previous, stage), "reason": reason.strip()}
        record_event(actor, "initiative.moved_back", locked, details)
    return locked


def _moved(previous: int, current: int) -> dict[str, str]:
    return {"from": Stage(previous).label, "to": Stage(current).label}


def _check_verifiable(initiative: Initiative, metrics: list[Metric]) -> None:
    if initiative.stage < Stage.SHIPPED:
        raise InitiativeError("Only a shipped initiative can be measured.")
    if not metrics:
        raise InitiativeError("Link at least one metric the initiative should move.")
    if not initiative.before_period or not initiative.after_period:
        raise InitiativeError("Give a before period and an after period to compare.")
    try:
        before = periods.index_of(initiative.before_period)
        after = periods.index_of(initiative.after_period)
    except periods.PeriodError as error:
        raise InitiativeError(str(error)) from error
    if after <= before:
        raise InitiativeError("The after period must come later than the before period.")


def _group(metric: Metric, unit: OrgUnit, period: str, segment: dict[str, Any]) -> GroupValue:
    try:
        group = compute_group_value(metric=metric, unit=unit, periods=[period], segment=segment)
    except ValueError as error:
        raise InitiativeError(str(error)) from error
    if group.suppressed or group.value is None:
        why = "hidden (too few responses)" if group.suppressed else "not available"
        raise InitiativeError(f"{metric} in {period} for {unit.name} is {why}; cannot verify.")
    return group


def _root() -> OrgUnit | None:
    return OrgUnit.objects.filter(parent__isnull=True).order_by("path").first()


def _design_test(
    metric: Metric, unit: OrgUnit, initiative: Initiative, before: GroupValue, after: GroupValue
) -> TestedChange | None:
    """Difference in differences against untreated stores when the initiative names a unit
    below the top; else the group's before/after change at the design's level.

    DiD (Angrist & Pischke 2009, §5.2): (treated after − before) − (untreated after − before)
    of ratio means, the untreated being every store outside the unit answering in both
    periods, cluster-robust by store (`scoring.difference_in_differences`). It removes what
    moved everywhere (season, a campaign) from the initiative's effect; it assumes parallel
    trends. The initiative's segment applies to both groups. Of an employee metric, the
    hidden stores inside and outside the unit enter as one pooled cluster each
    (`group_cluster_sums` with ``split``), so the result reveals no hidden store.
    """
    periods_pair = [initiative.before_period, initiative.after_period]
    segment = initiative.segment_filter or {}
    root = _root()
    if root is not None and unit.pk != root.pk:
        sums = group_cluster_sums(
            metric=metric, unit=root, periods=periods_pair, segment=segment, split=unit
        )
        if sums is not None:
            treated_ids = set(
                OrgUnit.objects.filter(path__startswith=unit.path).values_list("pk", flat=True)
            )
            treated = np.isin(sums.unit_ids, list(treated_ids))
            both = (sums.n > 0).all(axis=0)
            if (treated & both).any() and (~treated & both).sum() >= 1:
                comparison = difference_in_differences(
                    treated[both],
                    sums.n[0, both],
                    sums.total[0, both],
                    sums.n[1, both],
                    sums.total[1, both],
                    scale=1.0 if metric.aggregation == Metric.Aggregation.MEAN else 100.0,
                )
                return TestedChange(
                    comparison, "stores (difference in differences)", int(both.sum())
                )
    sums = group_cluster_sums(metric=metric, unit=unit, periods=periods_pair, segment=segment)
    overlap = None
    if at_respondent_level(sums):
        pair = (initiative.before_period, initiative.after_period)
        overlap = repeat_respondents(metric, unit, pair, segment)
    return tested_change(metric, before.details or {}, after.details or {}, sums, overlap)


def _metric_evidence(metric: Metric, unit: OrgUnit, initiative: Initiative) -> dict[str, Any]:
    segment = initiative.segment_filter or {}
    before = _group(metric, unit, initiative.before_period, segment)
    after = _group(metric, unit, initiative.after_period, segment)
    tested = _design_test(metric, unit, initiative, before, after)
    if tested is None:
        raise InitiativeError(f"{metric} has no counts to test a change; cannot verify.")
    return {
        "metric": metric.key,
        "name": metric.name,
        "aggregation": metric.aggregation,
        "unit_label": metric.unit_label,
        "before": {"value": before.value, "n": before.n},
        "after": {"value": after.value, "n": after.n},
        "level": tested.level,
        "clusters": tested.clusters,
        "paired": tested.paired,
        "comparison": tested.comparison,
    }


def _judged(evidence: list[dict[str, Any]], metrics: list[Metric]) -> list[dict[str, Any]]:
    """Holm-adjust the metrics' p-values (the claim is "it moved at least one of them", a
    family-wise question; Holm 1979) and mark each metric improved or worsened."""
    adjusted = adjust_comparisons([item.pop("comparison") for item in evidence], method="holm")
    judged = []
    for item, comparison, metric in zip(evidence, adjusted, metrics, strict=True):
        difference = comparison.difference or 0.0
        better = difference > 0 if metric.higher_is_better else difference < 0
        judged.append(
            {
                **item,
                **comparison_as_json(comparison),
                "improved": bool(comparison.significant and better),
                "worsened": bool(comparison.significant and not better),
            }
        )
    return judged


def verify_initiative_impact(*, initiative: Initiative, actor: User | None = None) -> Initiative:
    """Test each linked metric between the before and after periods and mark it measured.

    Group values are recomputed from raw answers for the initiative's unit subtree (the whole
    company when it has none) and its segment. An initiative in a unit below the top is
    compared with the stores outside it (difference in differences); a company-wide one by
    its change, clustered by store. p-values are Holm-adjusted across its metrics. The
    evidence is stored in `verification`; see the module docstring for the verified amount.
    """
    metrics = list(initiative.metrics.all())
    _check_verifiable(initiative, metrics)
    unit = initiative.unit or _root()
    if unit is None:
        raise InitiativeError("There is no organisation unit to measure in.")
    evidence = _judged([_metric_evidence(metric, unit, initiative) for metric in metrics], metrics)
    supported = any(item["improved"] for item in evidence) and not any(
        item["worsened"] for item in evidence
    )
    with transaction.atomic():
        locked = Initiative.objects.select_for_update().get(pk=initiative.pk)
        locked.verification = {
            "unit": unit.code,
            "segment": locked.segment_filter or {},
            "before_period": locked.before_period,
            "after_period": locked.after_period,
            "metrics": evidence,
            "supported": supported,
            "checked_at": timezone.now().isoformat(),
        }
        claimed = locked.claimed_impact
        locked.verified_impact = claimed if supported else Decimal(0)
        previous, locked.stage = locked.stage, Stage.MEASURED
        locked.save()
        details = {**_moved(previous, locked.stage), "supported": supported}
        record_event(actor, "initiative.verified", locked, details)
    return locked
