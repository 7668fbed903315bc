"""The raw response export masks personal data in open-text answers (and only there)."""

import csv
import io

import pytest
from rest_framework.test import APIClient

from surveys.models import Question
from surveys.services import import_responses
from tests.factories import QuestionFactory, SurveyFactory

pytestmark = pytest.mark.django_db


def test_response_export_masks_emails_phones_and_cards_in_comments(org_tree, owner):
    survey = SurveyFactory(slug="visits")
    QuestionFactory(survey=survey, code="nps", type=Question.Type.NPS)
    QuestionFactory(survey=survey, code="why", type=Question.Type.TEXT, required=False)
    rows = [
        {"unit": "n1", "answers": {"nps": 2, "why": "mail me at a.b@example.org"}},
        {"unit": "n2", "answers": {"nps": 9, "why": "+44 20 7946 0958 or 4111 1111 1111 1111"}},
        {"unit": "s1", "answers": {"nps": 5}, "respondent_key": "a.b@example.org"},
    ]
    import_responses(survey=survey, rows=rows)
    client = APIClient()
    client.force_authenticate(owner)
    response = client.get(f"/api/v1/surveys/{survey.slug}/responses/export/", {"format": "csv"})
    text = b"".join(response.streaming_content).decode()
    exported = {row["unit"]: row for row in csv.DictReader(io.StringIO(text))}
    assert exported["n1"]["why"] == "mail me at [email]"
    assert exported["n2"]["why"] == "'[phone] or [card]"
    assert exported["s1"]["why"] == ""
    assert exported["s1"]["nps"] == "5"
