"""Leader review in the admin: start form through the service, review page, access rules."""

import numpy as np
import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from linkage.charts import (
    NEGATIVE,
    POSITIVE,
    ChainEdge,
    ChainNode,
    chain_diagram,
    lagged_unit_means,
)
from linkage.models import ChainLink, LinkageRun
from linkage.services.runs import start_linkage_run
from surveys.models import Metric, MetricValue
from tests.factories import LeaderFactory, MetricFactory, OrgUnitFactory, UserFactory

pytestmark = pytest.mark.django_db

PERIODS = ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]
ADD_URL = "admin:linkage_linkagerun_add"


@pytest.fixture
def panel():
    """Job satisfaction(t) drives CSAT(t+1) in 12 stores."""
    job = MetricFactory(
        key="employee.job_satisfaction",
        name="Job satisfaction",
        chain_stage=Metric.ChainStage.EMPLOYEE_SATISFACTION,
        unit_label="%",
    )
    csat = MetricFactory(
        key="customer.csat",
        name="CSAT",
        chain_stage=Metric.ChainStage.CUSTOMER_SATISFACTION,
        unit_label="%",
    )
    rng = np.random.default_rng(5)
    x = rng.normal(60, 10, size=(12, len(PERIODS)))
    y = rng.normal(70, 10, size=x.shape)
    y[:, 1:] = 70 + (x[:, :-1] - 60) + rng.normal(0, 3, size=(12, len(PERIODS) - 1))
    units = [OrgUnitFactory(code=f"store-{index}") for index in range(12)]
    MetricValue.objects.bulk_create(
        MetricValue(metric=metric, unit=unit, period=period, value=float(values[u, t]))
        for metric, values in ((job, x), (csat, y))
        for u, unit in enumerate(units)
        for t, period in enumerate(PERIODS)
    )
    return job, csat


@pytest.fixture
def done_run(panel, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = start_linkage_run(created_by=None, max_lag=1)
    run.refresh_from_db()
    assert run.status == LinkageRun.Status.DONE, run.error
    return run


def _review(client, run, **query):
    return client.get(reverse("admin:linkage_linkagerun_change", args=[run.pk]), query)


def test_admin_add_page_lists_metrics_in_chain_order(client, owner, panel):
    client.force_login(owner)
    page = client.get(reverse(ADD_URL)).content.decode()
    assert 'name="metric_keys"' in page and 'name="max_lag"' in page
    assert page.index("employee.job_satisfaction") < page.index("customer.csat")


def test_admin_add_page_starts_a_run_through_the_service(
    client, owner, panel, django_capture_on_commit_callbacks
):
    client.force_login(owner)
    form = {
        "level": "store",
        "first_period": "2026-02",
        "last_period": "",
        "metric_keys": ["customer.csat", "employee.job_satisfaction"],
        "max_lag": "2",
    }
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse(ADD_URL), form)
    run = LinkageRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:linkage_linkagerun_change", args=[run.pk])
    assert len(callbacks) == 1  # the task is queued on commit by the service
    assert run.created_by == owner and run.max_lag == 2 and run.status == LinkageRun.Status.PENDING
    assert run.metric_keys == ["employee.job_satisfaction", "customer.csat"]
    assert (run.first_period, run.last_period) == ("2026-02", "2026-06")


def test_admin_add_page_lets_a_leader_start_a_run(
    client, panel, django_capture_on_commit_callbacks
):
    leader = LeaderFactory()
    client.force_login(leader)
    assert client.get(reverse(ADD_URL)).status_code == 200
    form = {"level": "store", "metric_keys": ["employee.job_satisfaction", "customer.csat"]}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse(ADD_URL), {**form, "max_lag": "1"})
    run = LinkageRun.objects.get()
    assert response["Location"] == reverse("admin:linkage_linkagerun_change", args=[run.pk])
    assert run.created_by == leader and run.status == LinkageRun.Status.DONE
    assert _review(client, run).status_code == 200


def test_admin_add_page_shows_service_errors_next_to_the_field(client, owner, panel):
    client.force_login(owner)
    form = {"level": "store", "first_period": "2026-13", "max_lag": "1"}
    response = client.post(reverse(ADD_URL), form)
    assert response.status_code == 200
    assert "first_period" in response.context["form"].errors
    assert "is not a period" in response.content.decode()
    assert not LinkageRun.objects.exists()


def test_admin_review_page_shows_chain_table_scatter_and_warnings(client, owner, done_run):
    client.force_login(owner)
    response = _review(client, done_run)
    page = response.content.decode()
    assert response.status_code == 200
    assert 'class="chain-diagram"' in page and "★" in page
    assert page.count('class="scatter"') == 1  # one pair at the default lag 1
    assert page.count("<circle") == 12  # one point per store
    assert "Between units" in page and "Within units" in page
    assert "Correlation is not causation" in page
    assert "Only |r|" in page or "|r| ≥" in page  # the sample-size note
    assert len(response.context["rows"]) == 3  # lags −1, 0, 1
    assert response.context["drivers"]["rows"][0]["name"] == "Job satisfaction"
    assert "Value at stake" in page and "+5 pts Job satisfaction in a store" in page
    assert 'http-equiv="refresh"' not in page


def test_admin_review_page_scatter_follows_the_chosen_lag(client, owner, done_run):
    client.force_login(owner)
    response = _review(client, done_run, lag="-1")
    assert response.context["lag"] == -1
    assert "(t-1)" in response.content.decode()


def test_admin_review_page_refreshes_while_pending_and_shows_failures(client, owner):
    client.force_login(owner)
    pending = LinkageRun.objects.create(first_period="2026-01", last_period="2026-06")
    failed = LinkageRun.objects.create(
        first_period="2026-01",
        last_period="2026-06",
        status=LinkageRun.Status.FAILED,
        error="ValueError: panel broke",
    )
    assert 'http-equiv="refresh"' in _review(client, pending).content.decode()
    page = _review(client, failed).content.decode()
    assert "ValueError: panel broke" in page and 'http-equiv="refresh"' not in page


def test_admin_review_is_open_to_analysts(client, done_run):
    # Built here rather than read from the data migration: transactional tests flush it.
    analysts, _ = Group.objects.get_or_create(name="Analysts")
    analysts.permissions.add(Permission.objects.get(codename="view_linkagerun"))
    analyst = UserFactory(username="analyst", is_staff=True, password="!unusable")
    analyst.groups.add(analysts)
    client.force_login(analyst)
    response = _review(client, done_run)
    assert response.status_code == 200
    assert response.content.decode().count("<circle") == 12


def test_admin_linkage_pages_send_outsiders_to_login(client, outsider, done_run):
    client.force_login(outsider)
    for url in (
        reverse(ADD_URL),
        reverse("admin:linkage_linkagerun_change", args=[done_run.pk]),
        reverse("admin:linkage_linkagerun_changelist"),
        reverse("admin:linkage_chainlink_changelist"),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_admin_review_is_refused_to_staff_without_view_permission(client, done_run):
    staff = UserFactory(username="clerk", is_staff=True, password="!unusable")
    client.force_login(staff)
    assert _review(client, done_run).status_code == 403
    assert client.get(reverse(ADD_URL)).status_code == 403


def test_admin_chain_link_list_shows_verdict_and_value(client, owner, done_run):
    client.force_login(owner)
    page = client.get(reverse("admin:linkage_chainlink_changelist")).content.decode()
    link = ChainLink.objects.get()
    assert link.verdict == ChainLink.Verdict.SUPPORTED
    assert "If Job satisfaction improves, then CSAT improves" in page
    assert "Supported" in page and link.value_at_stake["text"][:40] in page


def test_chain_diagram_styles_links_by_strength_sign_and_significance():
    nodes = [
        ChainNode("employee.enps", "eNPS <staff>", 2, "Employee loyalty"),
        ChainNode("customer.csat", "CSAT", 5, "Customer satisfaction"),
        ChainNode("customer.nps", "NPS", 6, "Customer loyalty"),
    ]
    svg = chain_diagram(
        nodes,
        [
            ChainEdge("employee.enps", "customer.csat", 0.5, 0.01, 1),
            ChainEdge("customer.csat", "customer.nps", -0.25, 0.2, 1),
        ],
    )
    strong, weak = svg.split('<g class="link')[1:3]
    assert 'stroke-width="4.5"' in strong and POSITIVE in strong and "★" in strong
    assert "stroke-dasharray" not in strong
    assert 'stroke-width="2.8"' in weak and NEGATIVE in weak and "★" not in weak
    assert 'stroke-dasharray="6 4"' in weak
    assert "eNPS &lt;staff&gt;" in svg and "<staff>" not in svg
    assert svg.index("Employee loyalty") < svg.index("Customer satisfaction")


def test_lagged_unit_means_pairs_each_unit_with_its_later_values():
    x = np.array([[1.0, 2.0, 3.0], [np.nan, np.nan, 5.0]])
    y = np.array([[0.0, 10.0, 20.0], [1.0, 2.0, 3.0]])
    units, x_means, y_means = lagged_unit_means(x, y, 1)
    # Unit 0 pairs X(t) = 1, 2 with Y(t+1) = 10, 20; unit 1 has no X before its last period.
    assert units.tolist() == [0]
    assert x_means.tolist() == [1.5] and y_means.tolist() == [15.0]


def test_admin_review_page_explains_warning_codes_in_words(
    client, owner, panel, django_capture_on_commit_callbacks
):
    MetricValue.objects.filter(period="2026-03").first().delete()
    with django_capture_on_commit_callbacks(execute=True):
        run = start_linkage_run(created_by=None, max_lag=1)
    client.force_login(owner)
    page = _review(client, run).content.decode()
    assert "incomplete unit-periods left out" in page and "missing_dropped" not in page
