"""A real Celery worker on Redis turns submissions into scores for store, region and company."""

import pytest

from surveys.models import DirtyScoreCell, MetricValue
from surveys.services import submit_response
from tests.factories import QuestionFactory, SurveyFactory
from tests.integration.services import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_worker_turns_submissions_into_scores_at_every_level(org_tree, worker):
    survey = SurveyFactory()
    QuestionFactory(survey=survey, code="nps", metric_key="customer.nps")
    north_store, south_store = org_tree["stores"][0], org_tree["stores"][2]
    for unit, score in ((north_store, 10), (north_store, 9), (south_store, 2)):
        submit_response(survey=survey, unit=unit, answers={"nps": score})

    def settled() -> bool:
        company = MetricValue.objects.filter(unit=org_tree["company"]).first()
        return company is not None and company.n == 3 and not DirtyScoreCell.objects.exists()

    assert wait_for(settled), "the worker did not compute the scores in time"
    values = {row.unit_id: row for row in MetricValue.objects.filter(metric__key="customer.nps")}
    assert values[north_store.pk].value == 100.0 and values[north_store.pk].n == 2
    assert values[org_tree["north"].pk].value == 100.0
    assert values[south_store.pk].value == -100.0
    assert values[org_tree["company"].pk].value == pytest.approx(100 / 3)
