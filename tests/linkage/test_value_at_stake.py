"""Value at stake: the direct lagged within-unit slope of money on a driver, with the model's
interval, scaled to the units with evidence; never a chain of link slopes (issue 11, item 2)."""

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
    _result(run, job, revenue, slope=(729.0, 367.0, 1090.0), q=0.4, units=28)
    for source, target in ((job, csat), (csat, nps), (csat, revenue), (job, revenue)):
        ChainLink.objects.create(from_metric=source, to_metric=target, expected_lag=1)
    return run, {"job": job, "csat": csat, "revenue": revenue}


def _result(run, x, y, *, slope, q=0.001, units=30):
    return LinkageResult.objects.create(
        run=run,
        x_metric=x,
        y_metric=y,
        lag=1,
        n_pairs=330,
        n_units=units,
        r=0.5,
        p=q / 2,
        q=q,
        slope_within=slope[0],
        slope_within_low=slope[1],
        slope_within_high=slope[2],
        snapshot_at=timezone.now(),
    )


def test_value_at_stake_uses_the_direct_slope_to_money_never_a_chain(money_chain):
    run, metrics = money_chain
    update_chain_evidence(run)
    link = ChainLink.objects.get(from_metric=metrics["job"], to_metric=metrics["csat"])
    value = link.value_at_stake
    assert link.verdict == ChainLink.Verdict.SUPPORTED
    # +5 pts job satisfaction × the direct slope of revenue on it (729 [367, 1,090] $ per
    # point, lag 1) = 3,645 [1,835, 5,450] a month; the chain CSAT × revenue would give 500.
    assert value["driver_change"] == 5.0
    assert [step["metric"] for step in value["steps"]] == ["outcome.revenue"]
    assert value["money"]["per_unit_per_period"] == pytest.approx([3645.0, 1835.0, 5450.0])
    assert value["money"]["per_unit_per_year"] == pytest.approx([43740.0, 22020.0, 65400.0])
    # Scaled to the 28 stores with values of both metrics, not the run's 30.
    assert value["money"]["units"] == 28 and value["units_in_run"] == 30
    assert value["money"]["all_units_per_year"] == pytest.approx([1224720.0, 616560.0, 1831200.0])
    assert value["run"] == run.pk
    assert value["text"].startswith(
        "+5 pts Job satisfaction in a store → +$3,645 Revenue per month 1 month later"
    )
    assert "across the 28 stores with evidence" in value["text"]
    assert "never multiplied" in value["method"] and len(value["assumptions"]) == 4


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


def test_value_at_stake_without_money_in_the_run_stops_at_the_next_stage(money_chain):
    run, metrics = money_chain
    LinkageRun.objects.filter(pk=run.pk).update(
        metric_keys=["employee.job_satisfaction", "customer.csat", "customer.nps"]
    )
    run.refresh_from_db()
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
    LinkageResult.objects.filter(run=run, y_metric__key="outcome.revenue").update(
        slope_within=0.2, slope_within_low=-0.1, slope_within_high=0.5
    )
    update_chain_evidence(run)
    link = ChainLink.objects.get(from_metric=metrics["job"], to_metric=metrics["csat"])
    assert link.value_at_stake["steps"][0]["change"] == pytest.approx([1.0, -0.5, 2.5])
    assert "range includes zero" in link.value_at_stake["text"]
    LinkageResult.objects.filter(run=run, y_metric__key="outcome.revenue").update(
        slope_within=200.0, slope_within_low=100.0, slope_within_high=300.0
    )
    update_chain_evidence(run)
    revenue = ChainLink.objects.get(from_metric=metrics["csat"], to_metric=metrics["revenue"])
    assert "range includes zero" not in revenue.value_at_stake["text"]
