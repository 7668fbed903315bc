"""Unit scorecard: levels read top-down, values ± CI with trend and tested change, targets,
chain links, hidden small employee groups, and who may see which unit."""

import json
import re
from datetime import date, datetime

import pytest
from django.conf import settings
from django.utils import timezone

from linkage.models import (
    Barometer,
    BarometerProposal,
    ChainLink,
    LinkageResult,
    LinkageRun,
    PerformanceExpectation,
)
from surveys.models import Metric
from surveys.services.metrics import ensure_metrics
from tests.factories import (
    LeaderFactory,
    MetricValueFactory,
    QuestionFactory,
    SurveyFactory,
)

pytestmark = pytest.mark.django_db

KEYS = ["customer.nps", "outcome.revenue", "employee.enps", "customer.delivery_complaint"]


@pytest.fixture
def north_scores(org_tree):
    ensure_metrics(KEYS)
    QuestionFactory(survey=SurveyFactory(employee=True), metric_key="employee.enps")
    metric = {key: Metric.objects.get(key=key) for key in KEYS}
    north = org_tree["north"]
    for period, counts in (("2026-01", (200, 90, 50)), ("2026-02", (250, 120, 60))):
        answers, promoters, detractors = counts
        MetricValueFactory(
            metric=metric["customer.nps"],
            unit=north,
            period=period,
            n=answers,
            value=100 * (promoters - detractors) / answers,
            ci_low=1.0,
            ci_high=40.0,
            details={"answers": answers, "promoters": promoters, "detractors": detractors},
        )
    MetricValueFactory(metric=metric["outcome.revenue"], unit=north, period="2026-02", value=125000)
    MetricValueFactory(metric=metric["employee.enps"], unit=north, period="2026-01", value=10, n=8)
    MetricValueFactory(
        metric=metric["employee.enps"],
        unit=north,
        period="2026-02",
        value=None,
        n=0,
        suppressed=True,
        details={"threshold": 5},
    )
    MetricValueFactory(metric=metric["customer.delivery_complaint"], unit=north, value=12.0)
    return metric


@pytest.fixture
def nps_drives_revenue(north_scores):
    nps, revenue = north_scores["customer.nps"], north_scores["outcome.revenue"]
    run = LinkageRun.objects.create(first_period="2024-01", last_period="2026-02")
    result = LinkageResult.objects.create(
        run=run,
        x_metric=nps,
        y_metric=revenue,
        lag=1,
        n_pairs=300,
        n_units=30,
        r=0.41,
        within_r=0.35,
        within_q=0.001,
        snapshot_at=timezone.now(),
    )
    return ChainLink.objects.create(
        from_metric=nps, to_metric=revenue, latest_result=result, verdict="supported"
    )


def _page(client, user, code="north"):
    client.force_login(user)
    return client.get(f"/dashboard/units/{code}/scorecard/")


def test_scorecard_reads_top_down_by_level_and_perspective(client, unit_member, north_scores):
    html = _page(client, unit_member).content.decode()
    strategic, tactical = html.index("Strategic (business results)"), html.index("Tactical")
    assert strategic < tactical < html.index("Operational (indicators)")
    assert html.index("Financial") < tactical < html.index("Learning &amp; growth")
    assert "$125,000" in html and "12.0 %" in html


def test_scorecard_value_with_interval_trend_and_tested_change(client, unit_member, north_scores):
    html = _page(client, unit_member).content.decode()
    assert "+24" in html and "95 % CI +1 to +40" in html and "n = 250" in html
    assert "<canvas" in html and "vendor/chartjs/chart.umd.min.js" in html
    # 90/60/50 (n 200) → 120/70/60 (n 250): z = 0.5186, p = 0.6041 (STATISTICS.md §1.5).
    assert "+4 pts vs 2026-01 (not significant, p = 0.604)" in html


def test_scorecard_change_without_variation_is_not_tested(client, unit_member, org_tree):
    # A store with no delivery complaint in two months in a row: the change test has SE 0.
    ensure_metrics(["customer.delivery_complaint"])
    metric = Metric.objects.get(key="customer.delivery_complaint")
    for period in ("2026-01", "2026-02"):
        MetricValueFactory(
            metric=metric,
            unit=org_tree["north"],
            period=period,
            n=30,
            value=0.0,
            details={"answers": 30, "k": 0},
        )
    response = _page(client, unit_member)
    assert response.status_code == 200
    assert "0.0 pts vs 2026-01 (not testable: no variation in the answers)" in (
        response.content.decode()
    )


def test_scorecard_marks_the_barometer_and_labels_other_overall_measures_diagnostic(
    client, unit_member, north_scores
):
    leader = LeaderFactory()
    proposal = BarometerProposal.objects.create(
        metric=north_scores["employee.enps"],
        rationale="Engaged staff first",
        proposed_by=leader,
        status="agreed",
    )
    Barometer.objects.create(
        metric=north_scores["employee.enps"], proposal=proposal, started_at=timezone.now()
    )
    html = _page(client, unit_member).content.decode()
    rows = {
        key: html[html.index(f'data-metric="{key}"') :].split("</th>")[0]
        for key in ("employee.enps", "customer.nps", "outcome.revenue")
    }
    assert "the barometer" in rows["employee.enps"] and "diagnostic" not in rows["employee.enps"]
    assert "(diagnostic)" in rows["customer.nps"] and "the barometer" not in rows["customer.nps"]
    assert "diagnostic" not in rows["outcome.revenue"]  # a business result, not a measure
    assert html.count('data-role="barometer"') == 1


def _charts(html: str) -> dict[str, dict]:
    """The chart data of a page (json_script elements), by chart title."""
    found = re.findall(r'<script id="chart-\d+-data" type="application/json">(.*?)</script>', html)
    return {chart["title"]: chart for chart in map(json.loads, found)}


def test_scorecard_hides_employee_cell_below_threshold(client, unit_member, north_scores):
    html = _page(client, unit_member).content.decode()
    assert "hidden (fewer than 5 responses)" in html
    # The hidden month is a gap in the chart and reads "not enough responses" in its table.
    enps = _charts(html)["Employee NPS (eNPS)"]
    assert enps["labels"][-2:] == ["2026-01", "2026-02"] and enps["hidden"][-2:] == [False, True]
    for series in ("values", "low", "high", "n"):
        assert enps[series][-1] is None
    assert enps["values"][-2] == 10 and enps["n"][-2] == 8
    assert "not enough responses" in html


def test_scorecard_trend_charts_label_months_interval_target_and_agreed_month(
    client, unit_member, north_scores, org_tree
):
    nps = north_scores["customer.nps"]
    leader = LeaderFactory()
    proposal = BarometerProposal.objects.create(
        metric=nps, rationale="Loyalty", proposed_by=leader, status="agreed"
    )
    Barometer.objects.create(
        metric=nps, proposal=proposal, started_at=timezone.make_aware(datetime(2026, 2, 10))
    )
    PerformanceExpectation.objects.create(
        title="NPS up", metric=nps, unit=org_tree["north"], baseline_period="2026-01",
        baseline_value=20, target_kind="absolute", target_change=10, target_value=30,
        start_date=date(2026, 1, 1), end_date=date(2026, 12, 31), owner=leader,
    )  # fmt: skip
    html = _page(client, unit_member).content.decode()
    charts = _charts(html)
    chart = charts["Customer NPS"]
    # From the first month with a value (earlier months are not drawn as empty axis).
    assert chart["labels"] == ["2026-01", "2026-02"]
    assert chart["xTitle"] == "Month" and chart["yTitle"] == "Customer NPS (−100 to +100)"
    assert chart["values"][-1] == pytest.approx(24.0) and chart["n"][-1] == 250
    assert (chart["low"][-1], chart["high"][-1]) == (1.0, 40.0)
    assert chart["target"] == 30 and chart["agreed"] == "2026-02"
    assert charts["Revenue"]["yTitle"] == "Revenue ($)" and charts["Revenue"]["target"] is None
    assert charts["Revenue"]["agreed"] is None
    # The screen-reader table beside the chart: month, value, interval, n.
    assert '<th scope="row">2026-02</th><td>+24</td><td>+1 to +40</td><td>250</td>' in html
    assert "dashed line: target +30" in html and "barometer agreed (2026-02)" in html


def test_scorecard_shows_target_and_chain_link_evidence(
    client, unit_member, north_scores, nps_drives_revenue, org_tree
):
    PerformanceExpectation.objects.create(
        title="NPS up",
        metric=north_scores["customer.nps"],
        unit=org_tree["north"],
        baseline_period="2026-01",
        baseline_value=20,
        target_kind="absolute",
        target_change=10,
        target_value=30,
        start_date=date(2026, 1, 1),
        end_date=date(2026, 12, 31),
        owner=unit_member,
        status="on_track",
    )
    html = _page(client, unit_member).content.decode()
    assert "+30 by 31 Dec 2026" in html and "On track" in html
    # The number the verdict rests on: units getting better, not the pooled r of 0.41.
    text = "If Customer NPS improves, then Revenue improves — supported, within-unit r = 0.35"
    assert f"{text} (lag 1, 30 units)" in html


def test_scorecard_is_printable(client, unit_member, north_scores):
    page = _page(client, unit_member).content.decode()
    assert "css/leadership.css" in page and "data-print" in page
    stylesheet = (settings.BASE_DIR / "static" / "css" / "leadership.css").read_text()
    assert "@media print" in stylesheet


def test_scorecard_outside_managed_subtree_is_forbidden(client, unit_member, outsider, org_tree):
    assert _page(client, unit_member, "south").status_code == 404
    assert _page(client, unit_member, "acme").status_code == 404
    assert _page(client, outsider).status_code == 404
    assert _page(client, unit_member, "n1").status_code == 200


def test_scorecard_leader_sees_every_unit_and_anonymous_must_log_in(client, org_tree):
    assert client.get("/dashboard/units/south/scorecard/").status_code == 302
    response = _page(client, LeaderFactory(), "south")
    assert response.status_code == 200 and "No measures have values" in response.content.decode()


def test_scorecard_queries_do_not_grow_with_metrics(
    client, unit_member, north_scores, nps_drives_revenue, django_assert_max_num_queries
):
    client.force_login(unit_member)
    with django_assert_max_num_queries(14):  # fixed: the barometer, the store cells of the tests
        assert client.get("/dashboard/units/north/scorecard/").status_code == 200


def test_readings_json_hides_small_groups_and_respects_subtree(client, unit_member, north_scores):
    client.force_login(unit_member)
    data = client.get("/dashboard/units/north/readings.json").json()
    enps = next(item for item in data["metrics"] if item["metric"] == "employee.enps")
    assert enps["hidden"] is True and enps["value"] is None and enps["n"] is None
    assert [point["value"] for point in enps["history"][-2:]] == [10, None]
    assert client.get("/dashboard/units/south/readings.json").status_code == 404
