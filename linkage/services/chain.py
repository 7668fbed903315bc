"""The results chain: "if X improves, then Y improves" links, their evidence and value at stake.

A link's evidence is the linkage result of its two metrics at the link's expected lag. "If X
improves, then Y improves" is a statement about change, so the verdict rests on the within-unit
correlation ("units getting better", stable differences between units removed): a link is
*supported* when it points the expected way (Metric.direction decides what "improves" means)
with a Benjamini–Hochberg q below 0.05, *insufficient* with fewer than 10 units. A run with one
period has no within-unit evidence; the pooled correlation decides then. Supported links
translate a change in a driver into money by the direct lagged within-unit slope of money on
that driver (never a chain of slopes).

Default lags follow how the chain works: employee attitudes show in service a period later
(lag 1); customer, loyalty and money stages move together in the same period (lag 0).
"""

import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from common.services import record_event
from surveys import periods as period_labels
from surveys.models import Metric
from surveys.selectors import metric_keys_with_values

from ..exceptions import InvalidChainLink
from ..models import ChainLink, LinkageResult, LinkageRun
from ..stats import FEW_UNITS

SUPPORT_Q = 0.05
MAX_LAG = 6  # periods; also the largest lag a run may test
EMPLOYEE_STAGES = frozenset(
    {
        Metric.ChainStage.EMPLOYEE_SATISFACTION,
        Metric.ChainStage.EMPLOYEE_LOYALTY,
        Metric.ChainStage.EMPLOYEE_PRODUCTIVITY,
    }
)
Verdict = ChainLink.Verdict
# The change a leader reasons about, by the metric's unit ("+5 eNPS points").
DEFAULT_DRIVER_CHANGE = {"pts": 5.0, "%": 5.0, "/5": 0.5, "/7": 0.5, "$": 1000.0, "$/h": 1.0}
MONEY_LABEL = "$"
PERIODS_PER_YEAR = {period_labels.MONTH: 12, period_labels.QUARTER: 4}
VALUE_METHOD = (
    "The change times the direct within-unit (fixed-effects) slope of money on the driver, "
    "at the lag shown; the range is that slope's 95 % interval from the same model, with "
    "standard errors clustered by unit. Links between metrics are never multiplied together "
    "(a chain of slopes measured on the same respondents overstates and its range of products "
    "is no interval). Without money in the run, the slope of the link's own next metric."
)


def statement_for(from_metric: Metric, to_metric: Metric) -> str:
    return f"If {from_metric.name} improves, then {to_metric.name} improves"[:300]


def default_lag(from_metric: Metric, to_metric: Metric) -> int:
    """1 period from an employee stage to a customer-facing or financial stage, else 0."""
    crosses = from_metric.chain_stage in EMPLOYEE_STAGES
    return int(crosses and to_metric.chain_stage not in EMPLOYEE_STAGES)


@transaction.atomic
def ensure_default_chain(metrics: Iterable[Metric] | None = None) -> int:
    """Create links between consecutive chain stages present among `metrics`; return the count.

    Default: every metric that has values. Each metric of one stage links to each metric of
    the next stage present (e.g. job satisfaction → CSAT → NPS and retention → revenue).
    Operational indicators (complaints, response times) feed the customer side of the chain,
    as in the results chain, so they link to its first stage present rather than to employee
    attitudes. Existing links, and what leaders edited on them, are left alone.
    """
    if metrics is None:
        metrics = Metric.objects.filter(key__in=metric_keys_with_values())
    by_stage: dict[int, list[Metric]] = defaultdict(list)
    for metric in metrics:
        by_stage[metric.chain_stage].append(metric)
    operations = Metric.ChainStage.OPERATIONS
    strand = sorted(stage for stage in by_stage if stage != operations)
    steps = list(itertools.pairwise(strand))
    customer_side = [stage for stage in strand if stage not in EMPLOYEE_STAGES]
    if operations in by_stage and customer_side:
        steps.append((operations, customer_side[0]))
    candidates = [
        (source, target)
        for stage, next_stage in steps
        for source in by_stage[stage]
        for target in by_stage[next_stage]
    ]
    existing = set(ChainLink.objects.values_list("from_metric_id", "to_metric_id"))
    new = [
        ChainLink(
            from_metric=source,
            to_metric=target,
            statement=statement_for(source, target),
            expected_lag=default_lag(source, target),
        )
        for source, target in candidates
        if (source.pk, target.pk) not in existing
    ]
    ChainLink.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


def expected_sign(from_metric: Metric, to_metric: Metric) -> int:
    """+1 when both improve in the same numeric direction, −1 when one is lower-is-better."""
    return 1 if from_metric.higher_is_better == to_metric.higher_is_better else -1


def verdict_for(*, r: float | None, q: float | None, n_units: int, sign: int) -> str:
    """Insufficient below 10 units (or no r); supported when r has the expected sign and q < .05."""
    if n_units < FEW_UNITS or r is None:
        return Verdict.INSUFFICIENT
    if q is not None and q < SUPPORT_Q and r * sign > 0:
        return Verdict.SUPPORTED
    return Verdict.NOT_SUPPORTED


def result_verdict(result: LinkageResult) -> str:
    """Verdict of one result row read as "if X improves, then Y improves"."""
    _, r, q = result.verdict_basis
    sign = expected_sign(result.x_metric, result.y_metric)
    return verdict_for(r=r, q=q, n_units=result.n_units, sign=sign)


@transaction.atomic
def edit_chain_link(*, actor: Any, link: ChainLink, statement: str, expected_lag: int) -> ChainLink:
    """Reword a link or change the lag it is tested at, then re-read its evidence.

    The evidence at the new lag comes from the newest finished run when that run tested both
    metrics at that lag (its other links are refreshed with it); otherwise the link becomes
    untested until a run covers it. Audited. Raises InvalidChainLink for a lag outside
    0..MAX_LAG.
    """
    whole = isinstance(expected_lag, int) and not isinstance(expected_lag, bool)
    if not whole or not 0 <= expected_lag <= MAX_LAG:
        raise InvalidChainLink(f"The expected lag must be a whole number from 0 to {MAX_LAG}.")
    before = {"statement": link.statement, "expected_lag": link.expected_lag}
    link.statement = statement.strip()[:300] or statement_for(link.from_metric, link.to_metric)
    link.expected_lag = expected_lag
    link.latest_result, link.verdict, link.value_at_stake = None, Verdict.UNTESTED, {}
    link.save()
    newest = LinkageRun.objects.filter(status=LinkageRun.Status.DONE).order_by("-finished_at")
    run = newest.first()
    keys = {link.from_metric.key, link.to_metric.key}
    if run is not None and keys <= set(run.metric_keys) and link.expected_lag <= run.max_lag:
        update_chain_evidence(run)
        link.refresh_from_db()
    record_event(actor, "chain_link.edited", link, {"before": before, "verdict": link.verdict})
    return link


@dataclass(frozen=True)
class Evidence:
    link: ChainLink
    result: LinkageResult
    forward: bool  # X = from_metric; False when read from the reverse pair at −lag (no slope)


def _evidence(link: ChainLink, results: dict[tuple[int, int, int], LinkageResult]):
    forward = results.get((link.from_metric_id, link.to_metric_id, link.expected_lag))
    if forward is not None:
        return Evidence(link, forward, True)
    # corr(X_t, Y_t+k) is corr(Y_s, X_s−k): the same correlation stored the other way round.
    backward = results.get((link.to_metric_id, link.from_metric_id, -link.expected_lag))
    return Evidence(link, backward, False) if backward is not None else None


@transaction.atomic
def update_chain_evidence(run: LinkageRun) -> list[ChainLink]:
    """Point each link between two of the run's metrics at its result and set its verdict.

    The result used is the one at the link's expected lag; links whose lag the run did not
    compute keep their earlier evidence. Value at stake is recomputed for the same links.
    """
    results = {
        (result.x_metric_id, result.y_metric_id, result.lag): result
        for result in LinkageResult.objects.filter(run=run).select_related("x_metric", "y_metric")
    }
    links = ChainLink.objects.filter(
        from_metric__key__in=run.metric_keys, to_metric__key__in=run.metric_keys
    ).select_related("from_metric", "to_metric")
    evidence = [item for item in (_evidence(link, results) for link in links) if item]
    now = timezone.now()
    for item in evidence:
        item.link.latest_result = item.result
        item.link.verdict = result_verdict(item.result)
        item.link.updated_at = now
    _attach_value_at_stake(run, evidence, results)
    updated = [item.link for item in evidence]
    ChainLink.objects.bulk_update(
        updated, ["latest_result", "verdict", "value_at_stake", "updated_at"]
    )
    return updated


# ------------------------------------------------------------------ value at stake


@dataclass(frozen=True)
class Step:
    """One supported link on the way to money: the next metric and the slope that reaches it."""

    key: str
    name: str
    unit_label: str
    lag: int
    slope: float
    slope_low: float
    slope_high: float


@dataclass(frozen=True)
class Change:
    estimate: float
    low: float
    high: float


def propagate_change(change: float, steps: Sequence[Step]) -> list[Change]:
    """The change reached at each step: estimate = product of slopes; range = interval product.

    The range starts as the point `change` and is multiplied by each step's slope interval;
    the new range is the smallest and largest of the four endpoint products.
    """
    estimate, low, high = change, change, change
    reached = []
    for step in steps:
        estimate *= step.slope
        products = [
            end * slope for end in (low, high) for slope in (step.slope_low, step.slope_high)
        ]
        low, high = min(products), max(products)
        reached.append(Change(estimate, low, high))
    return reached


def _number(value: float, unit_label: str) -> str:
    """A signed change, rounded for reading: "+5 pts", "−0.35 /5", "+$12,400"."""
    size = abs(value)
    if 0 < size < 0.01:
        shown = f"{size:.1g}"  # one significant digit rather than a misleading 0
    else:
        shown = f"{size:,.{0 if size >= 100 else 1 if size >= 10 else 2}f}"
        shown = shown.rstrip("0").rstrip(".") if "." in shown else shown
    sign = "+" if value >= 0 else "−"
    if unit_label == MONEY_LABEL:
        return f"{sign}${shown}"
    unit_label = "pts" if unit_label == "%" else unit_label  # a change in a share: points
    return f"{sign}{shown}" + (f" {unit_label}" if unit_label else "")


def _later(lag: int, period_name: str) -> str:
    if lag == 0:
        return f"in the same {period_name}"
    return f"{lag} {period_name}{'s' if lag != 1 else ''} later"


@dataclass(frozen=True)
class Scale:
    """What money is scaled by: the run's unit level, unit count and periods per year."""

    level: str
    units: int
    period_name: str
    periods_per_year: int


def _money(change: Change, scale: Scale) -> dict[str, Any]:
    per_year = scale.periods_per_year
    return {
        "per_unit_per_period": [change.estimate, change.low, change.high],
        "per_unit_per_year": [
            change.estimate * per_year,
            change.low * per_year,
            change.high * per_year,
        ],
        "units": scale.units,
        "all_units_per_year": [
            value * per_year * scale.units for value in (change.estimate, change.low, change.high)
        ],
    }


def _text(driver: Metric, change: float, steps, reached, money, scale: Scale) -> str:
    parts = [f"{_number(change, driver.unit_label)} {driver.name} in a {scale.level}"]
    for step, step_change in zip(steps, reached, strict=True):
        per = f" per {scale.period_name}" if step.unit_label == MONEY_LABEL else ""
        parts.append(
            f"{_number(step_change.estimate, step.unit_label)} {step.name}{per} "
            f"{_later(step.lag, scale.period_name)} (range "
            f"{_number(step_change.low, step.unit_label)} to "
            f"{_number(step_change.high, step.unit_label)})"
        )
    text = " → ".join(parts)
    if money:
        year, total = money["per_unit_per_year"], money["all_units_per_year"]
        text += (
            f" → {_number(year[0], MONEY_LABEL)} a year per {scale.level} (range "
            f"{_number(year[1], MONEY_LABEL)} to {_number(year[2], MONEY_LABEL)}); across "
            f"the {scale.units} {scale.level}s with evidence "
            f"{_number(total[0], MONEY_LABEL)} a year"
        )
    if reached and reached[-1].low < 0 < reached[-1].high:
        text += (
            ". The range includes zero: within a unit the effect is not clearly different from none"
        )
    return text + "."


def _assumptions(driver: Metric, steps: Sequence[Step], scale: Scale) -> list[str]:
    level = scale.level
    return [
        f"Within-{level} association, not proof of cause: the slopes say how a {level}'s next "
        f"metric moved when its own {driver.name} moved, stable differences between {level}s "
        "removed.",
        "Holds only within the range of values observed in the run; do not extrapolate.",
        f"Each step arrives after its lag ({sum(step.lag for step in steps)} "
        f"{scale.period_name}(s) in total) and is assumed to persist.",
        f"Money per {level}, scaled to the {scale.units} {level}s with values of both metrics "
        f"(the evidence) and to {scale.periods_per_year} {scale.period_name}s a year.",
    ]


def value_at_stake(
    *, driver: Metric, change: float, steps: Sequence[Step], scale: Scale
) -> dict[str, Any]:
    """Translate `change` in `driver` along supported links: per step and, if reached, money.

    Returns a JSON-ready dict with the chained estimate and range at each step, the money
    figures when the last step is a money metric, a readable text, the method and assumptions.
    """
    reached = propagate_change(change, steps)
    last = steps[-1] if steps else None
    money = _money(reached[-1], scale) if last and last.unit_label == MONEY_LABEL else None
    return {
        "driver": driver.key,
        "driver_change": change,
        "steps": [
            {
                "metric": step.key,
                "lag": step.lag,
                "slope": [step.slope, step.slope_low, step.slope_high],
                "change": [item.estimate, item.low, item.high],
            }
            for step, item in zip(steps, reached, strict=True)
        ],
        "money": money,
        "text": _text(driver, change, steps, reached, money, scale),
        "method": VALUE_METHOD,
        "assumptions": _assumptions(driver, steps, scale),
    }


def default_change(metric: Metric) -> float:
    """A change leaders reason about, signed so that it is an improvement."""
    size = DEFAULT_DRIVER_CHANGE.get(metric.unit_label, 1.0)
    return size if metric.higher_is_better else -size


def _step(item: Evidence) -> Step | None:
    result, target = item.result, item.link.to_metric
    slope, low, high = result.slope_within, result.slope_within_low, result.slope_within_high
    if not item.forward or slope is None or low is None or high is None:
        return None
    return Step(
        target.key, target.name, target.unit_label, item.link.expected_lag, slope, low, high
    )


def _direct_to_money(
    driver: Metric, run: LinkageRun, results: dict[tuple[int, int, int], LinkageResult]
) -> LinkageResult | None:
    """The run's direct within-unit result of a money metric on `driver`, at the lag the chain
    expects between them (1 period from an employee stage), when its slope has an interval."""
    money = Metric.objects.filter(key__in=run.metric_keys, unit_label=MONEY_LABEL)
    for target in money.order_by("chain_stage", "key"):
        lag = min(default_lag(driver, target), run.max_lag)
        result = results.get((driver.pk, target.pk, lag))
        if result is not None and None not in (
            result.slope_within,
            result.slope_within_low,
            result.slope_within_high,
        ):
            return result
    return None


def _direct_step(result: LinkageResult) -> Step | None:
    target = result.y_metric
    slope, low, high = result.slope_within, result.slope_within_low, result.slope_within_high
    if slope is None or low is None or high is None:
        return None
    return Step(target.key, target.name, target.unit_label, result.lag, slope, low, high)


def _attach_value_at_stake(
    run: LinkageRun,
    evidence: list[Evidence],
    results: dict[tuple[int, int, int], LinkageResult],
) -> None:
    """Set value_at_stake on supported links with a slope; clear it on the others.

    Money comes from the direct lagged within-unit result of money on the link's driver
    where the run has one (`_direct_to_money`), never from a product of link slopes; else
    the link's own slope. Totals are scaled to the units with evidence (the result's n).
    """
    granularity = period_labels.granularity_of(run.first_period)
    for item in evidence:
        item.link.value_at_stake = {}
        if item.link.verdict != Verdict.SUPPORTED or _step(item) is None:
            continue
        driver = item.link.from_metric
        direct = _direct_to_money(driver, run, results)
        step, units = (
            (_direct_step(direct), direct.n_units) if direct else (_step(item), item.result.n_units)
        )
        if step is None:
            continue
        scale = Scale(
            level=run.level,
            units=units,
            period_name=granularity,
            periods_per_year=PERIODS_PER_YEAR[granularity],
        )
        item.link.value_at_stake = value_at_stake(
            driver=driver, change=default_change(driver), steps=[step], scale=scale
        ) | {"run": run.pk, "units_in_run": run.n_units}
