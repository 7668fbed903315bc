"""`manage.py run_linkage`: synchronous run, JSON or table output, clear errors."""

import json
from io import StringIO
from unittest import mock

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from scipy import stats

from linkage.models import LinkageRun
from linkage.stats import lagged_pairs
from surveys.models import Metric, MetricValue
from tests.factories import MetricFactory, OrgUnitFactory

pytestmark = pytest.mark.django_db

PERIODS = ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05"]
KEYS = "employee.enps,customer.nps"
FIELDS = {"x", "y", "lag", "n", "r", "r_low", "r_high", "p", "spearman", "spearman_p"}
FIELDS |= {"within_r", "between_r", "q", "within_q"}


@pytest.fixture
def panel():
    """eNPS(t) drives NPS(t+1) in 15 stores; both metrics stored as MetricValues."""
    enps = MetricFactory(key="employee.enps", chain_stage=Metric.ChainStage.EMPLOYEE_LOYALTY)
    nps = MetricFactory(key="customer.nps", chain_stage=Metric.ChainStage.CUSTOMER_LOYALTY)
    rng = np.random.default_rng(11)
    x = rng.normal(20, 15, size=(15, len(PERIODS)))
    y = rng.normal(30, 15, size=x.shape)
    y[:, 1:] = 30 + 0.8 * (x[:, :-1] - 20) + rng.normal(0, 5, size=(15, len(PERIODS) - 1))
    units = [OrgUnitFactory() for _ in range(15)]
    MetricValue.objects.bulk_create(
        MetricValue(metric=metric, unit=unit, period=period, value=float(values[u, t]))
        for metric, values in ((enps, x), (nps, y))
        for u, unit in enumerate(units)
        for t, period in enumerate(PERIODS)
    )
    return x, y


def _run(*arguments):
    out, err = StringIO(), StringIO()
    call_command("run_linkage", *arguments, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_run_linkage_prints_json_rows_matching_pearsonr(panel):
    with mock.patch("linkage.tasks.run_linkage_task.delay") as delay:
        out, err = _run("--metrics", KEYS, "--lag", "1")
    delay.assert_not_called()  # computed in the command, not queued
    rows = json.loads(out)
    assert [(row["x"], row["y"], row["lag"]) for row in rows] == [
        ("employee.enps", "customer.nps", lag) for lag in (-1, 0, 1)
    ]
    assert all(set(row) == FIELDS for row in rows)
    x, y, _ = lagged_pairs(*panel, 1)
    lag_one = rows[2]
    assert lag_one["n"] == 15
    assert lag_one["r"] == pytest.approx(stats.pearsonr(x, y).statistic, rel=1e-9)
    assert lag_one["r_low"] < lag_one["r"] < lag_one["r_high"]
    assert lag_one["q"] >= lag_one["p"] and lag_one["q"] < 0.05
    assert "units" in err  # the sample-size note goes to stderr
    assert LinkageRun.objects.get().status == LinkageRun.Status.DONE


def test_run_linkage_prints_an_aligned_table(panel):
    out, _ = _run("--metrics", KEYS, "--lag", "0", "--format", "table")
    lines = out.splitlines()
    assert lines[0].split() == ["x", "y", "lag", "n", "r", "r_low", "r_high", "p", "spearman"] + [
        "spearman_p",
        "within_r",
        "between_r",
        "q",
        "within_q",
    ]
    assert len(lines) == 2 and lines[1].split()[:4] == ["employee.enps", "customer.nps", "0", "15"]
    # Right-aligned numbers end in the same column as their headers.
    assert len(lines[1]) == len(lines[0])


def test_run_linkage_respects_the_period_range(panel):
    out, _ = _run("--metrics", KEYS, "--lag", "1", "--from", "2026-02", "--to", "2026-04")
    run = LinkageRun.objects.get()
    assert (run.first_period, run.last_period) == ("2026-02", "2026-04")
    x, y, _ = lagged_pairs(panel[0][:, 1:4], panel[1][:, 1:4], 1)
    assert json.loads(out)[2]["r"] == pytest.approx(stats.pearsonr(x, y).statistic, rel=1e-9)


def test_run_linkage_names_unknown_metric_keys(panel):
    with pytest.raises(CommandError, match="no.such, nor.this"):
        _run("--metrics", "employee.enps,no.such,nor.this")
    assert not LinkageRun.objects.exists()


def test_run_linkage_rejects_a_bad_lag(panel):
    with pytest.raises(CommandError, match="lag"):
        _run("--metrics", KEYS, "--lag", "9")
