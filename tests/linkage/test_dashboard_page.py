"""Leader dashboard: the barometer is the one headline, other measures are diagnostics."""

import json
import re
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from linkage.models import Barometer, BarometerProposal, PerformanceExpectation
from surveys.models import Metric, MetricValue
from surveys.services.metrics import ensure_metrics
from tests.factories import InitiativeFactory, LeaderFactory, MetricValueFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def company_scores(org_tree):
    ensure_metrics(["customer.nps", "customer.csat", "customer.ces"])
    metric = {key: Metric.objects.get(key=key) for key in ("customer.nps", "customer.csat")}
    for unit in (org_tree["company"], org_tree["north"]):
        MetricValueFactory(metric=metric["customer.nps"], unit=unit, period="2026-02", value=31)
        MetricValueFactory(metric=metric["customer.csat"], unit=unit, period="2026-02", value=84)
    return metric


def _agree_on(metric, leader):
    proposal = BarometerProposal.objects.create(
        metric=metric, rationale="Loyalty predicts growth", proposed_by=leader, status="agreed"
    )
    Barometer.objects.create(metric=metric, proposal=proposal, started_at=timezone.now())


def _sections(html):
    """The headline card and the diagnostics section of the page."""
    headline = html[html.index('data-role="barometer"') : html.index('data-role="diagnostics"')]
    diagnostics = html[html.index('data-role="diagnostics"') : html.index("expectations-title")]
    return headline, diagnostics


def test_dashboard_headline_is_barometer_and_others_are_diagnostics(client, company_scores):
    leader = LeaderFactory()
    _agree_on(company_scores["customer.nps"], leader)
    client.force_login(leader)
    headline, diagnostics = _sections(client.get("/dashboard/").content.decode())
    assert "The barometer" in headline and "Customer NPS" in headline and "+31" in headline
    assert "Customer satisfaction" not in headline
    assert "<h2" in diagnostics and "Diagnostics" in diagnostics
    assert "Customer satisfaction (CSAT, top-2-box)" in diagnostics and "84.0 %" in diagnostics
    assert "Customer NPS" not in diagnostics


def test_dashboard_without_barometer_says_so_and_links_to_proposals(client, company_scores):
    client.force_login(LeaderFactory())
    headline, diagnostics = _sections(client.get("/dashboard/").content.decode())
    assert "No barometer agreed yet" in headline
    assert 'href="/admin/linkage/barometerproposal/"' in headline
    assert "Customer NPS" in diagnostics and "Customer satisfaction" in diagnostics


def test_dashboard_unit_picker_limited_to_managed_subtree(client, unit_member, company_scores):
    client.force_login(unit_member)
    html = client.get("/dashboard/").content.decode()
    assert "<h1>North</h1>" in html
    assert '<option value="north" selected>North (north)</option>' in html
    assert '<option value="n1">' in html
    assert 'value="south"' not in html and 'value="acme"' not in html
    assert 'href="/dashboard/units/n1/scorecard/"' in html
    assert client.get("/dashboard/?unit=south").status_code == 404


def test_dashboard_forbidden_without_units_and_login_required(client, outsider):
    assert client.get("/dashboard/").status_code == 302
    client.force_login(outsider)
    assert client.get("/dashboard/").status_code == 403


def test_dashboard_shows_expectations_status_and_funnel(client, company_scores, org_tree):
    leader = LeaderFactory()
    PerformanceExpectation.objects.create(
        title="Lift NPS in the North",
        metric=company_scores["customer.nps"],
        unit=org_tree["north"],
        baseline_period="2026-01",
        baseline_value=25,
        target_kind="absolute",
        target_change=5,
        target_value=30,
        start_date=date(2026, 1, 1),
        end_date=date(2026, 12, 31),
        owner=leader,
        status="at_risk",
    )
    InitiativeFactory(stage=3)
    InitiativeFactory(stage=4, verified_impact=Decimal("2000000"))
    client.force_login(leader)
    html = client.get("/dashboard/").content.decode()
    assert "Lift NPS in the North" in html and "At risk" in html
    assert "2 ideas → 2 prioritised → 2 shipped → $2.0M retained" in html


def test_dashboard_queries_stay_bounded(
    client, company_scores, org_tree, django_assert_max_num_queries
):
    leader = LeaderFactory()
    _agree_on(company_scores["customer.nps"], leader)
    InitiativeFactory.create_batch(3)
    ces = Metric.objects.get(key="customer.ces")  # a third measure: one chart more, no query
    for period in ("2026-01", "2026-02"):
        MetricValueFactory(metric=ces, unit=org_tree["company"], period=period, value=5.1)
    client.force_login(leader)
    with django_assert_max_num_queries(14):  # one of them the store cells of the change tests
        assert client.get("/dashboard/").status_code == 200


def test_dashboard_expectation_progress_shows_latest_with_its_interval(
    client, company_scores, org_tree
):
    leader = LeaderFactory()
    PerformanceExpectation.objects.create(
        title="Lift NPS in the North",
        metric=company_scores["customer.nps"],
        unit=org_tree["north"],
        baseline_period="2026-01",
        baseline_value=25,
        target_kind="absolute",
        target_change=5,
        target_value=30,
        start_date=date(2026, 1, 1),
        end_date=date(2026, 12, 31),
        owner=leader,
        status="on_track",
        latest_period="2026-02",
        latest_value=27.4,
        latest_n=240,
        latest_ci_low=18.2,
        latest_ci_high=36.6,
    )
    client.force_login(leader)
    html = client.get("/dashboard/").content.decode()
    assert "+25 (2026-01) → +30" in html
    assert "+27 (2026-02, 95 % CI +18 to +37, n = 240)" in html


def test_dashboard_shows_plausibility_flags_next_to_a_value(client, company_scores, org_tree):
    MetricValue.objects.filter(metric=company_scores["customer.csat"]).update(
        details={"flags": ["too_good_to_be_true"]}
    )
    client.force_login(LeaderFactory())
    _, diagnostics = _sections(client.get("/dashboard/").content.decode())
    assert "⚑ too good to be true? Check the listening channel" in diagnostics
    readings = client.get(f"/dashboard/units/{org_tree['company'].code}/readings.json").json()
    assert {reading["metric"]: reading["flags"] for reading in readings["metrics"]} == {
        "customer.csat": ["too_good_to_be_true"],
        "customer.nps": [],
    }


def _charts(html):
    found = re.findall(r'<script id="chart-\d+-data" type="application/json">(.*?)</script>', html)
    return {chart["title"]: chart for chart in map(json.loads, found)}


def test_dashboard_draws_each_measure_as_a_chart_with_its_table(client, company_scores, org_tree):
    leader = LeaderFactory()
    nps = company_scores["customer.nps"]
    proposal = BarometerProposal.objects.create(
        metric=nps, rationale="Loyalty", proposed_by=leader, status="agreed"
    )
    Barometer.objects.create(
        metric=nps, proposal=proposal, started_at=timezone.make_aware(datetime(2026, 1, 20))
    )
    MetricValueFactory(
        metric=nps,
        unit=org_tree["company"],
        period="2026-01",
        value=25,
        ci_low=20,
        ci_high=30,
        n=400,
    )
    for unit, target in ((org_tree["company"], 35), (org_tree["north"], 50)):
        PerformanceExpectation.objects.create(
            title="NPS up", metric=nps, unit=unit, baseline_period="2026-01", baseline_value=25,
            target_kind="absolute", target_change=10, target_value=target,
            start_date=date(2026, 1, 1), end_date=date(2026, 12, 31), owner=leader,
        )  # fmt: skip
    client.force_login(leader)
    response = client.get("/dashboard/")
    html = response.content.decode()
    headline, diagnostics = _sections(html)
    assert "<canvas" in headline and "<canvas" in diagnostics and "<svg" not in html
    charts = _charts(html)
    assert set(charts) == {"Customer NPS", "Customer satisfaction (CSAT, top-2-box)"}
    chart = charts["Customer NPS"]
    assert chart["labels"][-2:] == ["2026-01", "2026-02"] and chart["values"][-2:] == [25, 31]
    assert (chart["low"][-2], chart["high"][-2], chart["n"][-2]) == (20, 30, 400)
    assert chart["target"] == 35  # the company's own target, not the North's
    assert (
        chart["agreed"] == "2026-01"
        and charts["Customer satisfaction (CSAT, top-2-box)"]["agreed"] is None
    )
    assert "Target for Acme: +35" in headline
    assert '<th scope="row">2026-01</th><td>+25</td><td>+20 to +30</td><td>400</td>' in headline
    assert 'src="/static/js/workspace.js"' in html and "<script>" not in html


def test_dashboard_chart_shows_a_hidden_month_as_a_gap(client, org_tree):
    ensure_metrics(["employee.enps"])
    enps = Metric.objects.get(key="employee.enps")
    Metric.objects.filter(pk=enps.pk).update(level=Metric.Level.TACTICAL)
    company = org_tree["company"]
    MetricValueFactory(metric=enps, unit=company, period="2026-01", value=12, n=40)
    MetricValueFactory(
        metric=enps, unit=company, period="2026-02", value=None, n=0, suppressed=True,
        details={"threshold": 5},
    )  # fmt: skip
    MetricValueFactory(metric=enps, unit=company, period="2026-03", value=18, n=41)
    client.force_login(LeaderFactory())
    html = client.get("/dashboard/").content.decode()
    chart = _charts(html)["Employee NPS (eNPS)"]
    assert chart["labels"][-3:] == ["2026-01", "2026-02", "2026-03"]
    assert chart["values"][-3:] == [12, None, 18] and chart["n"][-3:] == [40, None, 41]
    assert chart["hidden"][-3:] == [False, True, False]
    assert '<th scope="row">2026-02</th><td><span class="hidden-cell">not enough responses' in html


def test_dashboard_unit_picker_escapes_unit_names(client, org_tree, company_scores):
    org_tree["north"].name = '<script>alert("x")</script>'
    org_tree["north"].save()
    client.force_login(LeaderFactory())
    html = client.get("/dashboard/").content.decode()
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; (north)</option>" in html
    assert '<script>alert("x")' not in html


def test_dashboard_links_the_latest_run_to_its_workspace_review(client, company_scores):
    from linkage.models import LinkageRun

    run = LinkageRun.objects.create(
        level="store", first_period="2026-01", last_period="2026-02", status="done"
    )
    client.force_login(LeaderFactory())
    html = client.get("/dashboard/").content.decode()
    assert f'href="/workspace/linkage/{run.pk}/"' in html
    assert "/admin/linkage/linkagerun/" not in html
