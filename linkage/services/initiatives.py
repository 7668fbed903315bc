"""The initiative funnel: idea → prioritised → shipped → measured, told as results.

Stages move forward one step at a time. An initiative becomes measured only through
`verify_initiative_impact`, which compares its metrics before and after with a significance
test. Moving back is allowed but never silent: it needs a reason, is audited, and drops the
evidence of the stages left behind.

Verified impact: when the before/after comparison shows a significant improvement of a linked
metric (and none got significantly worse), the claimed amount counts as verified; otherwise
the verified amount is 0, so an unsupported claim adds nothing to "retained".
"""

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from common.services import record_event
from surveys import periods
from surveys.aggregation import GroupValue, compute_group_value
from surveys.models import Metric, OrgUnit

from ..comparisons import compare_group_values, comparison_as_json
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


def _group(metric: Metric, unit: OrgUnit, period: str) -> GroupValue:
    group = compute_group_value(metric=metric, unit=unit, periods=[period])
    if group.suppressed or group.value is None:
        why = "hidden (too few responses)" if group.suppressed else "not available"
        raise InitiativeError(f"{metric} in {period} for {unit.name} is {why}; cannot verify.")
    return group


def _metric_evidence(metric: Metric, unit: OrgUnit, initiative: Initiative) -> dict[str, Any]:
    before = _group(metric, unit, initiative.before_period)
    after = _group(metric, unit, initiative.after_period)
    comparison = compare_group_values(metric, before, after)
    if comparison is None:
        raise InitiativeError(f"{metric} has no counts to test a change; cannot verify.")
    better = comparison.difference > 0 if metric.higher_is_better else comparison.difference < 0
    return {
        "metric": metric.key,
        "before": {"value": before.value, "n": before.n},
        "after": {"value": after.value, "n": after.n},
        **comparison_as_json(comparison),
        "improved": bool(comparison.significant and better),
        "worsened": bool(comparison.significant and not better),
    }


def verify_initiative_impact(*, initiative: Initiative, actor: User | None = None) -> Initiative:
    """Compare each linked metric between the before and after periods and mark it measured.

    Group values are recomputed from raw answers for the initiative's unit subtree (the whole
    company when it has no unit); the change is tested with `scoring.compare`. The evidence
    is stored in `verification`; see the module docstring for the verified amount.
    """
    metrics = list(initiative.metrics.all())
    _check_verifiable(initiative, metrics)
    unit = initiative.unit or OrgUnit.objects.filter(parent__isnull=True).order_by("path").first()
    if unit is None:
        raise InitiativeError("There is no organisation unit to measure in.")
    evidence = [_metric_evidence(metric, unit, initiative) for metric in metrics]
    supported = any(item["improved"] for item in evidence) and not any(
        item["worsened"] for item in evidence
    )
    with transaction.atomic():
        locked = Initiative.objects.select_for_update().get(pk=initiative.pk)
        locked.verification = {
            "unit": unit.code,
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
