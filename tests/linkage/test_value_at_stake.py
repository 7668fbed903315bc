"""Value at stake: chained within-unit slopes from a driver to money, with interval products."""

import pytest
from django.utils import timezone

from linkage.models import ChainLink, LinkageResult, LinkageRun
from linkage.services.chain import Step, propagate_change, update_chain_evidence
from surveys.models import Metric
from tests.factories import MetricFactory

pytestmark = pytest.mark.django_db

S = Metric.ChainStage


def test_propagate_change_multiplies_slopes_and_interval_ends():
    steps = [
        Step("customer.csat", "CSAT", "%", 1, 0.4, 0.2, 0.6),
        Step("outcome.revenue", "Revenue", "$", 1, 2.0, 1.0, 3.0),
    ]
    first, second = propagate_change(5.0, steps)
    assert (first.estimate, first.low, first.high) == pytest.approx((2.0, 1.0, 3.0))
    assert (second.estimate, second.low, second.high) == pytest.approx((4.0, 1.0, 9.0))


def test_propagate_change_keeps_extremes_when_a_slope_interval_crosses_zero():
    steps = [
        Step("a", "A", "", 0, 0.5, 0.2, 0.8),
        Step("b", "B", "", 0, -0.5, -1.0, 0.2),
    ]
    reached = propagate_change(5.0, steps)
    # A: 5 × [0.2, 0.8] = [1, 4]; B: products of [1, 4] and [−1, 0.2] → [−4, 0.8].
    assert (reached[1].low, reached[1].high) == pytest.approx((-4.0, 0.8))
    assert reached[1].estimate == pytest.approx(-1.25)


@pytest.fixture
def money_chain():
    """Job satisfaction → CSAT → revenue, both links supported, 30 stores, months."""
    job = MetricFactory(
        key="employee.job_satisfaction",
        name="Job satisfaction",
        chain_stage=S.EMPLOYEE_SATISFACTION,
        unit_label="%",
    )
    csat = MetricFactory(
        key="customer.csat", name="CSAT", chain_stage=S.CUSTOMER_SATISFACTION, unit_label="%"
    )
    revenue = MetricFactory(
        key="outcome.revenue", name="Revenue", chain_stage=S.REVENUE_GROWTH, unit_label="$"
    )
    nps = MetricFactory(key="customer.nps", name="NPS", chain_stage=S.CUSTOMER_LOYALTY)
    run = LinkageRun.objects.create(
        first_period="2026-01",
        last_period="2026-12",
        metric_keys=[job.key, csat.key, nps.key, revenue.key],
        status=LinkageRun.Status.DONE,
        n_units=30,
    )
    _result(run, job, csat, slope=(0.5, 0.3, 0.7))
    _result(run, csat, revenue, slope=(200.0, 100.0, 300.0))
    _result(run, csat, nps, slope=(1.0, 0.5, 1.5))
    _result(run, job, revenue, slope=(1.0, 0.0, 2.0), q=0.4)
    for source, target in ((job, csat), (csat, nps), (csat, revenue), (job, revenue)):
        ChainLink.objects.create(from_metric=source, to_metric=target, expected_lag=1)
    return run, {"job": job, "csat": csat, "revenue": revenue}


def _result(run, x, y, *, slope, q=0.001):
    return LinkageResult.objects.create(
        run=run,
        x_metric=x,
        y_metric=y,
        lag=1,
        n_pairs=330,
        n_units=30,
        r=0.5,
        p=q / 2,
        q=q,
        slope_within=slope[0],
        slope_within_low=slope[1],
        slope_within_high=slope[2],
        snapshot_at=timezone.now(),
    )


def test_value_at_stake_chains_to_money_and_scales_to_the_stores(money_chain):
    run, metrics = money_chain
    update_chain_evidence(run)
    link = ChainLink.objects.get(from_metric=metrics["job"], to_metric=metrics["csat"])
    value = link.value_at_stake
    assert link.verdict == ChainLink.Verdict.SUPPORTED
    # +5 pts job satisfaction → CSAT 5 × 0.5 = 2.5 [1.5, 3.5] → revenue 2.5 × 200 = 500
    # [150, 1050] a month; × 12 months; × 30 stores.
    assert value["driver_change"] == 5.0
    assert [step["metric"] for step in value["steps"]] == ["customer.csat", "outcome.revenue"]
    assert value["steps"][0]["change"] == pytest.approx([2.5, 1.5, 3.5])
    assert value["money"]["per_unit_per_period"] == pytest.approx([500.0, 150.0, 1050.0])
    assert value["money"]["per_unit_per_year"] == pytest.approx([6000.0, 1800.0, 12600.0])
    assert value["money"]["all_units_per_year"] == pytest.approx([180000.0, 54000.0, 378000.0])
    assert value["run"] == run.pk
    assert value["text"].startswith(
        "+5 pts Job satisfaction in a store → +2.5 pts CSAT 1 month later"
    )
    assert "+$6,000 a year per store" in value["text"] and "+$180,000 a year" in value["text"]
    assert "interval" in value["method"] and len(value["assumptions"]) == 4


def test_value_at_stake_of_the_last_link_starts_at_its_own_driver(money_chain):
    run, metrics = money_chain
    update_chain_evidence(run)
    link = ChainLink.objects.get(from_metric=metrics["csat"], to_metric=metrics["revenue"])
    assert link.value_at_stake["money"]["per_unit_per_period"] == pytest.approx(
        [1000.0, 500.0, 1500.0]
    )


def test_value_at_stake_is_empty_for_links_that_are_not_supported(money_chain):
    run, metrics = money_chain
    update_chain_evidence(run)
    link = ChainLink.objects.get(from_metric=metrics["job"], to_metric=metrics["revenue"])
    assert link.verdict == ChainLink.Verdict.NOT_SUPPORTED and link.value_at_stake == {}


def test_value_at_stake_uses_quarters_per_year_for_quarterly_runs(money_chain):
    run, metrics = money_chain
    LinkageRun.objects.filter(pk=run.pk).update(first_period="2026-Q1", last_period="2026-Q4")
    run.refresh_from_db()
    update_chain_evidence(run)
    link = ChainLink.objects.get(from_metric=metrics["csat"], to_metric=metrics["revenue"])
    assert link.value_at_stake["money"]["per_unit_per_year"][0] == pytest.approx(4000.0)
    assert "1 quarter later" in link.value_at_stake["text"]


def test_value_at_stake_without_a_route_to_money_stops_at_the_next_stage(money_chain):
    run, metrics = money_chain
    update_chain_evidence(run)
    link = ChainLink.objects.get(from_metric=metrics["csat"], to_metric__key="customer.nps")
    value = link.value_at_stake
    assert [step["metric"] for step in value["steps"]] == ["customer.nps"]
    assert value["steps"][0]["change"] == pytest.approx([5.0, 2.5, 7.5])
    assert value["money"] is None and "a year" not in value["text"]


def test_value_at_stake_says_when_the_range_includes_zero(money_chain):
    run, metrics = money_chain
    LinkageResult.objects.filter(run=run, y_metric__key="customer.nps").update(
        slope_within=0.2, slope_within_low=-0.1, slope_within_high=0.5
    )
    update_chain_evidence(run)
    link = ChainLink.objects.get(from_metric=metrics["csat"], to_metric__key="customer.nps")
    assert link.value_at_stake["steps"][0]["change"] == pytest.approx([1.0, -0.5, 2.5])
    assert "range includes zero" in link.value_at_stake["text"]
    revenue = ChainLink.objects.get(from_metric=metrics["csat"], to_metric=metrics["revenue"])
    assert "range includes zero" not in revenue.value_at_stake["text"]
