"""The results chain: default links between stages and their verdicts from a linkage run."""

import numpy as np
import pytest

from linkage.models import ChainLink, LinkageResult, LinkageRun
from linkage.services.chain import ensure_default_chain, verdict_for
from linkage.services.runs import start_linkage_run
from surveys.models import Metric, MetricValue
from tests.factories import MetricFactory, MetricValueFactory, OrgUnitFactory

pytestmark = pytest.mark.django_db

S = Metric.ChainStage
V = ChainLink.Verdict
PERIODS = ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]


def _metric(key, stage, **extra):
    return MetricFactory(
        key=key, name=key.split(".")[1].replace("_", " "), chain_stage=stage, **extra
    )


@pytest.fixture
def chain_metrics():
    return {
        "job": _metric("employee.job_satisfaction", S.EMPLOYEE_SATISFACTION),
        "csat": _metric("customer.csat", S.CUSTOMER_SATISFACTION),
        "nps": _metric("customer.nps", S.CUSTOMER_LOYALTY),
        "retention": _metric("outcome.retention_rate", S.CUSTOMER_LOYALTY),
        "revenue": _metric("outcome.revenue", S.REVENUE_GROWTH),
    }


def test_ensure_default_chain_links_consecutive_stages(chain_metrics):
    created = ensure_default_chain(chain_metrics.values())
    pairs = set(ChainLink.objects.values_list("from_metric__key", "to_metric__key"))
    assert pairs == {
        ("employee.job_satisfaction", "customer.csat"),
        ("customer.csat", "customer.nps"),
        ("customer.csat", "outcome.retention_rate"),
        ("customer.nps", "outcome.revenue"),
        ("outcome.retention_rate", "outcome.revenue"),
    }
    assert created == 5
    link = ChainLink.objects.get(from_metric=chain_metrics["job"])
    assert link.statement == "If job satisfaction improves, then csat improves"
    assert link.verdict == V.UNTESTED and link.expected_lag == 1


def test_ensure_default_chain_lags_employee_links_one_period_and_the_rest_none(chain_metrics):
    ensure_default_chain(chain_metrics.values())
    rows = ChainLink.objects.values_list("from_metric__key", "to_metric__key", "expected_lag")
    assert {(source, target): lag for source, target, lag in rows} == {
        ("employee.job_satisfaction", "customer.csat"): 1,
        ("customer.csat", "customer.nps"): 0,
        ("customer.csat", "outcome.retention_rate"): 0,
        ("customer.nps", "outcome.revenue"): 0,
        ("outcome.retention_rate", "outcome.revenue"): 0,
    }


def test_ensure_default_chain_keeps_existing_links_and_defaults_to_metrics_with_values(
    chain_metrics,
):
    ChainLink.objects.create(
        from_metric=chain_metrics["job"],
        to_metric=chain_metrics["csat"],
        statement="Happy staff, happy customers",
        expected_lag=2,
    )
    for key in ("job", "csat", "revenue"):
        MetricValueFactory(metric=chain_metrics[key])
    assert ensure_default_chain() == 1
    assert ensure_default_chain() == 0
    kept = ChainLink.objects.get(from_metric=chain_metrics["job"], to_metric=chain_metrics["csat"])
    assert (kept.statement, kept.expected_lag) == ("Happy staff, happy customers", 2)
    assert ChainLink.objects.filter(
        from_metric=chain_metrics["csat"], to_metric=chain_metrics["revenue"]
    ).exists()


@pytest.mark.parametrize(
    ("r", "q", "n_units", "sign", "verdict"),
    [
        (0.6, 0.001, 9, 1, V.INSUFFICIENT),
        (None, None, 30, 1, V.INSUFFICIENT),
        (0.6, 0.001, 10, 1, V.SUPPORTED),
        (0.6, 0.05, 30, 1, V.NOT_SUPPORTED),
        (-0.6, 0.001, 30, 1, V.NOT_SUPPORTED),
        (-0.6, 0.001, 30, -1, V.SUPPORTED),
        (0.6, 0.001, 30, -1, V.NOT_SUPPORTED),
        (0.6, None, 30, 1, V.NOT_SUPPORTED),
    ],
)
def test_verdict_for_cases(r, q, n_units, sign, verdict):
    assert verdict_for(r=r, q=q, n_units=n_units, sign=sign) == verdict


def _store(metrics, x, y):
    units = [OrgUnitFactory() for _ in range(x.shape[0])]
    rows = [
        MetricValue(metric=metric, unit=unit, period=period, value=float(values[u, t]))
        for metric, values in zip(metrics, (x, y), strict=True)
        for u, unit in enumerate(units)
        for t, period in enumerate(PERIODS)
    ]
    MetricValue.objects.bulk_create(rows)


def _lagged(units, sign=1.0, seed=3):
    """Y(t+1) = sign·X(t) + noise."""
    rng = np.random.default_rng(seed)
    x = rng.normal(50, 10, size=(units, len(PERIODS)))
    y = rng.normal(50, 10, size=x.shape)
    y[:, 1:] = 50 + sign * (x[:, :-1] - 50) + rng.normal(0, 3, size=(units, len(PERIODS) - 1))
    return x, y


def _run(django_capture_on_commit_callbacks, keys):
    with django_capture_on_commit_callbacks(execute=True):
        run = start_linkage_run(created_by=None, metric_keys=keys, max_lag=1)
    run.refresh_from_db()
    assert run.status == LinkageRun.Status.DONE, run.error
    return run


def test_update_chain_evidence_supports_a_strong_lagged_link(
    chain_metrics, django_capture_on_commit_callbacks
):
    _store([chain_metrics["job"], chain_metrics["csat"]], *_lagged(20))
    run = _run(django_capture_on_commit_callbacks, ["employee.job_satisfaction", "customer.csat"])
    link = ChainLink.objects.select_related("latest_result").get()
    assert link.verdict == V.SUPPORTED
    assert link.latest_result.run == run and link.latest_result.lag == link.expected_lag == 1
    assert link.latest_result.r > 0 and link.latest_result.q < 0.05


def test_update_chain_evidence_is_insufficient_below_ten_units(
    chain_metrics, django_capture_on_commit_callbacks
):
    _store([chain_metrics["job"], chain_metrics["csat"]], *_lagged(9))
    _run(django_capture_on_commit_callbacks, ["employee.job_satisfaction", "customer.csat"])
    link = ChainLink.objects.select_related("latest_result").get()
    assert link.verdict == V.INSUFFICIENT and link.latest_result.n_units == 9


def test_update_chain_evidence_reads_direction_of_lower_is_better_metrics(
    django_capture_on_commit_callbacks,
):
    complaints = _metric(
        "customer.delivery_complaint", S.OPERATIONS, direction=Metric.Direction.LOWER_IS_BETTER
    )
    csat = _metric("customer.csat", S.CUSTOMER_SATISFACTION)
    ChainLink.objects.create(from_metric=complaints, to_metric=csat, expected_lag=1)
    _store([complaints, csat], *_lagged(20, sign=-1.0))
    _run(django_capture_on_commit_callbacks, ["customer.delivery_complaint", "customer.csat"])
    link = ChainLink.objects.select_related("latest_result").get()
    assert link.latest_result.r < 0
    assert link.verdict == V.SUPPORTED


def test_update_chain_evidence_rejects_a_link_pointing_the_wrong_way(
    chain_metrics, django_capture_on_commit_callbacks
):
    _store([chain_metrics["job"], chain_metrics["csat"]], *_lagged(20, sign=-1.0))
    _run(django_capture_on_commit_callbacks, ["employee.job_satisfaction", "customer.csat"])
    link = ChainLink.objects.get()
    assert link.verdict == V.NOT_SUPPORTED and link.value_at_stake == {}


def test_update_chain_evidence_reads_a_backward_link_from_the_reverse_pair(
    chain_metrics, django_capture_on_commit_callbacks
):
    backward = ChainLink.objects.create(
        from_metric=chain_metrics["csat"], to_metric=chain_metrics["job"], expected_lag=1
    )
    _store([chain_metrics["job"], chain_metrics["csat"]], *_lagged(20))
    run = _run(django_capture_on_commit_callbacks, ["employee.job_satisfaction", "customer.csat"])
    backward.refresh_from_db()
    reverse = LinkageResult.objects.get(run=run, lag=-1)
    assert backward.latest_result == reverse
    # CSAT does not lead job satisfaction in this data: the reverse correlation is near zero.
    assert abs(reverse.r) < 0.3 and backward.verdict == V.NOT_SUPPORTED
    assert backward.value_at_stake == {}


def _stable_levels_and_changes(units, level_sign, change_sign, seed=5):
    """X and Y in the same period: unit levels related by level_sign, changes by change_sign."""
    rng = np.random.default_rng(seed)
    level = rng.normal(0, 20, size=(units, 1))
    x_change = rng.normal(0, 5, size=(units, len(PERIODS)))
    y_change = change_sign * x_change + rng.normal(0, 2, size=x_change.shape)
    return 50 + level + x_change, 50 + level_sign * level + y_change


def test_update_chain_evidence_supports_units_getting_better_despite_unit_differences(
    chain_metrics, django_capture_on_commit_callbacks
):
    # Better units have *lower* Y (pooled r < 0), but a unit's Y rises with its own X.
    ChainLink.objects.create(
        from_metric=chain_metrics["csat"], to_metric=chain_metrics["retention"], expected_lag=0
    )
    _store(
        [chain_metrics["csat"], chain_metrics["retention"]],
        *_stable_levels_and_changes(20, level_sign=-1.0, change_sign=1.0),
    )
    _run(django_capture_on_commit_callbacks, ["customer.csat", "outcome.retention_rate"])
    link = ChainLink.objects.select_related("latest_result").get()
    result = link.latest_result
    assert result.lag == 0 and result.r < 0 < result.within_r and result.within_q < 0.05
    assert link.verdict == V.SUPPORTED and link.value_at_stake["steps"][0]["slope"][0] > 0


def test_update_chain_evidence_does_not_support_better_units_that_do_not_get_better(
    chain_metrics, django_capture_on_commit_callbacks
):
    ChainLink.objects.create(
        from_metric=chain_metrics["csat"], to_metric=chain_metrics["retention"], expected_lag=0
    )
    _store(
        [chain_metrics["csat"], chain_metrics["retention"]],
        *_stable_levels_and_changes(20, level_sign=1.0, change_sign=0.0),
    )
    _run(django_capture_on_commit_callbacks, ["customer.csat", "outcome.retention_rate"])
    link = ChainLink.objects.select_related("latest_result").get()
    result = link.latest_result
    assert result.r > 0.5 and result.q < 0.05  # better units: strong pooled association
    assert link.verdict == V.NOT_SUPPORTED and link.value_at_stake == {}


def test_ensure_default_chain_links_operations_to_the_customer_side(chain_metrics):
    complaints = _metric("customer.delivery_complaint", S.OPERATIONS)
    ensure_default_chain([complaints, *chain_metrics.values()])
    targets = ChainLink.objects.filter(from_metric=complaints).values_list("to_metric__key")
    assert list(targets) == [("customer.csat",)]
    assert not ChainLink.objects.filter(to_metric=chain_metrics["job"]).exists()
