"""Analysts and leaders reword a chain link or change its lag; its evidence follows."""

import numpy as np
import pytest
from django.urls import reverse

from common.models import AuditEvent
from linkage.exceptions import InvalidChainLink
from linkage.models import ChainLink, LinkageRun
from linkage.services.chain import edit_chain_link, statement_for
from linkage.services.runs import start_linkage_run
from surveys.models import Metric, MetricValue
from tests.factories import AnalystFactory, LeaderFactory, MetricFactory, OrgUnitFactory

pytestmark = pytest.mark.django_db

PERIODS = ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]
V = ChainLink.Verdict


@pytest.fixture
def linked(django_capture_on_commit_callbacks):
    """Retention(t) drives revenue(t) in 20 stores (no lagged effect); one run, max lag 1."""
    retention = MetricFactory(
        key="outcome.retention_rate", chain_stage=Metric.ChainStage.CUSTOMER_LOYALTY
    )
    revenue = MetricFactory(key="outcome.revenue", chain_stage=Metric.ChainStage.REVENUE_GROWTH)
    rng = np.random.default_rng(8)
    x = rng.normal(80, 5, size=(20, len(PERIODS)))
    y = 1000 + 40 * x + rng.normal(0, 30, size=x.shape)
    units = [OrgUnitFactory() for _ in range(20)]
    MetricValue.objects.bulk_create(
        MetricValue(metric=metric, unit=unit, period=period, value=float(values[u, t]))
        for metric, values in ((retention, x), (revenue, y))
        for u, unit in enumerate(units)
        for t, period in enumerate(PERIODS)
    )
    link = ChainLink.objects.create(from_metric=retention, to_metric=revenue, expected_lag=1)
    with django_capture_on_commit_callbacks(execute=True):
        start_linkage_run(created_by=None, metric_keys=[retention.key, revenue.key], max_lag=1)
    link.refresh_from_db()
    return link


def test_edit_chain_link_reads_the_newest_run_at_the_new_lag(linked):
    assert linked.verdict == V.NOT_SUPPORTED and linked.latest_result.lag == 1
    leader = LeaderFactory()
    edit_chain_link(actor=leader, link=linked, statement="Loyal customers spend", expected_lag=0)
    linked.refresh_from_db()
    assert linked.statement == "Loyal customers spend" and linked.expected_lag == 0
    assert linked.latest_result.lag == 0 and linked.verdict == V.SUPPORTED
    assert linked.value_at_stake["steps"][0]["slope"][0] == pytest.approx(40, rel=0.1)
    event = AuditEvent.objects.get(action="chain_link.edited")
    assert event.actor == leader and event.details["before"]["expected_lag"] == 1


def test_edit_chain_link_beyond_the_newest_runs_lags_is_untested(linked):
    edit_chain_link(actor=None, link=linked, statement="", expected_lag=3)
    linked.refresh_from_db()
    assert linked.verdict == V.UNTESTED and linked.latest_result is None
    assert linked.statement == statement_for(linked.from_metric, linked.to_metric)


@pytest.mark.parametrize("lag", [7, -1, "1", 1.5, True])
def test_edit_chain_link_refuses_a_lag_out_of_range(linked, lag):
    with pytest.raises(InvalidChainLink, match="from 0 to 6"):
        edit_chain_link(actor=None, link=linked, statement="x", expected_lag=lag)
    linked.refresh_from_db()
    assert linked.expected_lag == 1 and linked.latest_result is not None
    assert not AuditEvent.objects.filter(action="chain_link.edited").exists()


def _change_url(link):
    return reverse("admin:linkage_chainlink_change", args=[link.pk])


def test_admin_chain_link_analyst_changes_the_lag(client, linked):
    analyst = AnalystFactory(is_staff=True)
    client.force_login(analyst)
    response = client.post(_change_url(linked), {"statement": "", "expected_lag": "0"})
    assert response.status_code == 302
    linked.refresh_from_db()
    assert linked.expected_lag == 0 and linked.verdict == V.SUPPORTED


def test_admin_chain_link_form_refuses_a_lag_past_the_maximum(client, linked):
    client.force_login(LeaderFactory())
    response = client.post(_change_url(linked), {"statement": "s", "expected_lag": "9"})
    assert response.status_code == 200
    assert "less than or equal to 6" in response.content.decode()
    linked.refresh_from_db()
    assert linked.expected_lag == 1


def test_admin_chain_link_is_read_only_for_staff_without_a_role(client, linked, unit_member):
    client.force_login(unit_member)
    response = client.post(_change_url(linked), {"statement": "s", "expected_lag": "0"})
    assert response.status_code == 403
    linked.refresh_from_db()
    assert linked.expected_lag == 1
    assert LinkageRun.objects.count() == 1
