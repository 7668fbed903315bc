"""The demo's initiative funnel: CX ideas at every stage, the shipped ones measured.

Stages move through the initiative services (audited), and the measured ones are verified
against the demo's own answers with `verify_initiative_impact`, so their verified amount is
whatever the before/after test on the seeded data supports, never a number written here.
"""

import contextlib
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import User

from linkage.exceptions import InitiativeError
from linkage.models import Initiative
from linkage.services.initiatives import (
    advance_initiative,
    create_initiative,
    verify_initiative_impact,
)
from surveys.models import Metric, OrgUnit

from .generator import REGIONS, TRACKING_REGION

Stage = Initiative.Stage


@dataclass(frozen=True)
class IdeaSpec:
    title: str
    stage: int
    metric_keys: tuple[str, ...]
    claimed: int | None = None  # money a year, claimed by the owner
    region: bool = False  # run in the first region only (else company-wide)
    segment: tuple[tuple[str, str], ...] = ()


DELIVERY, EASE = ("customer.delivery_complaint",), ("customer.ces", "customer.csat")
IDEAS = (
    IdeaSpec(
        "Delivery tracking texts for Product X",
        Stage.MEASURED,
        DELIVERY,
        420_000,
        region=True,
        segment=(("product", "X"),),
    ),
    IdeaSpec("Checkout queue-busting at peak hours", Stage.MEASURED, EASE, 310_000),
    IdeaSpec("Store team huddles on customer goals", Stage.SHIPPED, ("cpi.goal_reached",), 250_000),
    IdeaSpec(
        "Stock levels on every associate's tablet", Stage.PRIORITISED, ("employee.enablement",)
    ),
    IdeaSpec("Call back every detractor within 48 hours", Stage.PRIORITISED, ("customer.nps",)),
    IdeaSpec("Rota swaps in the staff app", Stage.IDEA, ("employee.job_satisfaction",)),
    IdeaSpec("Same-day returns desk", Stage.IDEA, ("customer.ces",)),
    IdeaSpec("Loyalty points for reviews", Stage.IDEA, ("outcome.retention_rate",)),
    IdeaSpec("New-starter buddy scheme", Stage.IDEA, ("employee.intent_to_stay",)),
    IdeaSpec("Click-and-collect lockers", Stage.IDEA, ("customer.csat",)),
)


def ensure_initiatives(
    *, owner: User, company: OrgUnit, first_period: str, last_period: str
) -> int:
    """Create the demo's initiatives once (by title) and move them to their stages.

    Measured ones compare `first_period` (before they shipped) with `last_period`: the
    Product X tracking texts in the first region against the other stores (the generator
    builds its effect in from the month after `first_period`), queue-busting company-wide
    (no effect built in: it should come out as no evidence). Returns how many initiatives
    were created; a re-run creates and moves nothing.
    """
    metrics = {metric.key: metric for metric in Metric.objects.all()}
    created = 0
    for spec in IDEAS:
        if Initiative.objects.filter(title=spec.title).exists():
            continue
        initiative = _create(spec, owner, company, (first_period, last_period), metrics)
        created += 1
        while initiative.stage < min(spec.stage, Stage.SHIPPED):
            initiative = advance_initiative(actor=owner, initiative=initiative)
        if spec.stage == Stage.MEASURED:
            # A metric hidden in one period leaves it shipped and unverified, as in real life.
            with contextlib.suppress(InitiativeError):
                verify_initiative_impact(initiative=initiative, actor=owner)
    return created


def _region(company: OrgUnit) -> OrgUnit:
    """The region where the tracking texts ran (the generator builds their effect in)."""
    code = REGIONS[TRACKING_REGION][0]
    return company.children.filter(code=code).first() or company


def _create(
    spec: IdeaSpec,
    owner: User,
    company: OrgUnit,
    periods: tuple[str, str],
    metrics: dict[str, Metric],
) -> Initiative:
    shipped = spec.stage >= Stage.SHIPPED
    return create_initiative(
        actor=owner,
        title=spec.title,
        metrics=[metrics[key] for key in spec.metric_keys if key in metrics],
        details={"demo": True},
        owner=owner,
        unit=_region(company) if spec.region else company,
        segment_filter=dict(spec.segment),
        claimed_impact=Decimal(spec.claimed) if spec.claimed else None,
        before_period=periods[0] if shipped else "",
        after_period=periods[1] if shipped else "",
    )
