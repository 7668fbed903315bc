"""The readable linkage review: every supported link shown, pairs sorted, filtered and
paginated on the server, one scatter at a time, small HTML, leaders and analysts only."""

import json
import re

import pytest
from django.db.models import F

from linkage.charts import lagged_unit_means
from linkage.services.chain import result_verdict
from linkage.services.runs import run_panel, start_linkage_run
from surveys.models import OrgUnit
from surveys.visibility import SYSTEM
from tests.linkage.test_admin_linkage_review import panel  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def done_run(panel, django_capture_on_commit_callbacks):  # noqa: F811
    with django_capture_on_commit_callbacks(execute=True):
        run = start_linkage_run(created_by=None, max_lag=1)
    run.refresh_from_db()
    assert run.status == "done"
    return run


def test_review_shows_every_supported_pair_in_the_chain_section(client, leader, done_run):
    client.force_login(leader)
    page = client.get(f"/workspace/linkage/{done_run.pk}/").content.decode()
    chain = page[page.index('data-role="chain"') : page.index('data-role="pairs"')]
    supported = [r for r in done_run.results.all() if result_verdict(r) == "supported"]
    assert supported
    for result in supported:
        if result.lag >= 0:
            names = (result.x_metric.name, result.y_metric.name)
            assert all(name in chain for name in names)
    assert len(page.encode()) < 150_000


def test_pairs_filter_sort_and_page(client, leader, done_run):
    client.force_login(leader)
    url = f"/workspace/linkage/{done_run.pk}/"
    lag_one = client.get(url, {"lag": "1"}).content.decode()
    rows = lag_one[lag_one.index('class="pairs"') : lag_one.index("Pages of pairs")]
    assert rows.count("<tr>") - 1 == done_run.results.filter(lag=1).count()
    supported = client.get(url, {"supported": "1"}).content.decode()
    assert "Not supported</span>" not in supported
    assert client.get(url, {"sort": "colour"}).status_code == 400
    assert client.get(url, {"lag": "x"}).status_code == 400


def test_scatter_of_one_pair_on_request(client, analyst, done_run):
    client.force_login(analyst)
    result = done_run.results.filter(lag=1).first()
    page = client.get(f"/workspace/linkage/{done_run.pk}/", {"pair": result.pk}).content.decode()
    assert 'id="scatter-data"' in page and "store-0" in page
    assert "<svg" not in page  # drawn by the chart library, not inline SVG


def test_scatter_points_are_the_unit_means_of_the_runs_panel(client, analyst, done_run):
    """The page reads only the pair's two metrics; its points match the whole run's panel."""
    client.force_login(analyst)
    result = done_run.results.filter(lag=1).exclude(x_metric=F("y_metric")).first()
    page = client.get(f"/workspace/linkage/{done_run.pk}/", {"pair": result.pk}).content.decode()
    found = re.search(r'<script id="scatter-data" type="application/json">(.*?)</script>', page)
    points = json.loads(found.group(1))["points"]
    whole = run_panel(done_run, reader=SYSTEM)
    index = {key: position for position, key in enumerate(whole.metric_keys)}
    units, x_means, y_means = lagged_unit_means(
        whole.values[index[result.x_metric.key]], whole.values[index[result.y_metric.key]], 1
    )
    codes = dict(OrgUnit.objects.values_list("pk", "code"))
    expected = [
        {"x": pytest.approx(x), "y": pytest.approx(y), "unit": codes[whole.unit_ids[u]]}
        for u, x, y in zip(units, x_means, y_means, strict=True)
    ]
    assert len(points) == len(expected) > 2 and points == expected
    # The table fallback: one row per unit, two decimals.
    first = points[0]
    row = f'<tr><th scope="row">{first["unit"]}</th><td>{first["x"]:.2f}</td>'
    assert page.count('<tr><th scope="row">') >= len(points) and row in page


def test_pairs_export_csv(client, leader, done_run):
    client.force_login(leader)
    answer = client.get(f"/workspace/linkage/{done_run.pk}/pairs.export", {"format": "csv"})
    lines = b"".join(answer.streaming_content).decode().splitlines()
    assert lines[0].startswith("x_metric,y_metric,lag,units")
    assert len(lines) == done_run.results.count() + 1


def test_manager_cannot_read_linkage_runs(client, unit_member, done_run):
    client.force_login(unit_member)
    assert client.get(f"/workspace/linkage/{done_run.pk}/").status_code == 403
    assert client.get("/workspace/linkage/").status_code == 403


def test_review_query_count_is_capped(client, leader, done_run, django_assert_max_num_queries):
    client.force_login(leader)
    with django_assert_max_num_queries(15):
        client.get(f"/workspace/linkage/{done_run.pk}/")
