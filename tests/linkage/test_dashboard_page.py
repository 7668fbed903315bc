"""Leader dashboard: the barometer is the one headline, other measures are diagnostics."""

from datetime import date
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
    assert 'value="north"' in html and 'value="n1"' in html
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


def test_dashboard_queries_stay_bounded(client, company_scores, django_assert_max_num_queries):
    leader = LeaderFactory()
    _agree_on(company_scores["customer.nps"], leader)
    InitiativeFactory.create_batch(3)
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
