"""End to end: demo answers → scores → linkage finds the built-in EX(t) → CX(t+1) link.

Seeds the smallest demo that still shows the link (30 stores × 8 months, about 15 customers
per store and month; roughly 10 s), so it is the slowest module of the linkage tests. The
control shuffles the customer metric's values across stores and must find nothing.
"""

from io import StringIO

import numpy as np
import pytest
from django.core.management import call_command

from linkage.models import LinkageResult, LinkageRun
from linkage.services.runs import start_linkage_run
from surveys.models import MetricValue
from surveys.services.scores import recompute_all

pytestmark = pytest.mark.django_db

EMPLOYEE, CUSTOMER = "employee.enps", "customer.nps"


@pytest.fixture
def demo():
    call_command(
        "seed_demo", stores=30, months=8, customers_per_store=15, verbosity=0, stdout=StringIO()
    )
    recompute_all()


def _run(capture) -> LinkageRun:
    with capture(execute=True):
        run = start_linkage_run(created_by=None, metric_keys=[EMPLOYEE, CUSTOMER], max_lag=1)
    run.refresh_from_db()
    assert run.status == LinkageRun.Status.DONE, run.error
    return run


def _shuffle_stores(metric_key: str, seed: int) -> None:
    """Give each store's values of one metric to another store (one fixed permutation)."""
    rows = list(MetricValue.objects.filter(metric__key=metric_key, unit__level="store"))
    stores = sorted({row.unit_id for row in rows})
    moved_to = dict(zip(stores, np.random.default_rng(seed).permutation(stores), strict=True))
    MetricValue.objects.filter(pk__in=[row.pk for row in rows]).delete()
    for row in rows:
        row.pk, row.unit_id = None, int(moved_to[row.unit_id])
    MetricValue.objects.bulk_create(rows)


def test_linkage_end_to_end_finds_the_seeded_link_and_not_a_shuffled_one(
    demo, django_capture_on_commit_callbacks
):
    run = _run(django_capture_on_commit_callbacks)
    lag_one = LinkageResult.objects.get(run=run, lag=1)
    assert lag_one.x_metric.key == EMPLOYEE and lag_one.y_metric.key == CUSTOMER
    assert lag_one.n_units >= 25 and lag_one.r > 0.3 and lag_one.q < 0.05
    assert lag_one.within_r > 0  # stores getting better, not only better stores
    assert run.excluded_cells > 0  # the demo's two tiny stores stay hidden

    _shuffle_stores(CUSTOMER, seed=1)
    shuffled = _run(django_capture_on_commit_callbacks)
    results = list(LinkageResult.objects.filter(run=shuffled))
    assert len(results) == 3
    assert all(result.q >= 0.05 for result in results)
    assert abs(next(row for row in results if row.lag == 1).r) < lag_one.r
