"""The issue's finish line, as a script with a token would do it: invitations, a bulk
submission retried safely, scores by unit and period, and a linkage run."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from linkage.models import LinkageRun
from surveys.models import Question, Response
from tests.factories import QuestionFactory, SurveyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(owner) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=owner).key}")
    return client


@pytest.fixture
def survey(org_tree):
    survey = SurveyFactory(slug="visits")
    QuestionFactory(survey=survey, code="nps", type=Question.Type.NPS, metric_key="customer.nps")
    QuestionFactory(survey=survey, code="csat", type=Question.Type.CSAT, metric_key="customer.csat")
    return survey


def test_token_script_invites_submits_reads_scores_and_starts_a_run(
    client, survey, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr("linkage.services.runs.run_linkage_task.delay", lambda run_id: None)
    invited = client.post(
        "/api/v1/surveys/visits/invitations/", {"unit": "n1", "count": 2}, format="json"
    )
    assert invited.status_code == 201 and len(invited.json()["invitations"]) == 2

    rows = [
        {
            "unit": store,
            "answers": {"nps": score, "csat": 4},
            "submitted_at": f"2026-0{month}-10T09:00Z",
        }
        for store in ("n1", "n2", "s1")
        for month, score in ((1, 9), (2, 6))
    ]
    for _ in range(2):  # a retry after a lost answer: imported once
        with django_capture_on_commit_callbacks(execute=True):  # eager score recompute
            bulk = client.post(
                "/api/v1/surveys/visits/responses/bulk/",
                {"responses": rows},
                format="json",
                headers={"Idempotency-Key": "nightly-2026-02"},
            )
        assert bulk.status_code == 201
    assert Response.objects.count() == 6

    scores = client.get(
        "/api/v1/metric-values/",
        {
            "metric": "customer.nps",
            "unit": "north",
            "period_from": "2026-01",
            "period_to": "2026-02",
        },
    ).json()["results"]
    by_cell = {(row["unit"], row["period"]): row["value"] for row in scores}
    assert by_cell[("n1", "2026-01")] == 100.0 and by_cell[("n1", "2026-02")] == -100.0
    assert ("s1", "2026-01") not in by_cell

    run = client.post(
        "/api/v1/linkage-runs/", {"metric_keys": ["customer.csat", "customer.nps"]}, format="json"
    )
    assert run.status_code == 201, run.content
    assert LinkageRun.objects.get().status == "pending"
