"""Spreadsheet safety is one rule: `neutralise` (Python) and `neutralised` (SQL, run by the test
database) agree on every input, and every export applies it to every text cell."""

import csv
import io

import pytest
from django.db.models import TextField, Value
from django.urls import reverse
from rest_framework.test import APIClient

from common.spreadsheet import FORMULA_START, neutralise, neutralised
from surveys.models import Invitation, MetricValue, OrgUnit, Question
from surveys.services import import_responses
from tests.factories import (
    ChoiceFactory,
    InvitationFactory,
    MetricFactory,
    OrgUnitFactory,
    QuestionFactory,
    SurveyFactory,
)

pytestmark = pytest.mark.django_db

INPUTS = [
    "=1+1",
    "+49 30 1234",
    "-5",
    "@SUM(A1:A2)",
    "\tcmd",
    "\rcmd",
    "plain text",
    "",
    "=",
    "'already quoted",
    " =1+1",  # a leading space: not a formula
    "\n=1+1",
    "Zürich – café ✓",
    "＝1+1",  # a full-width equals sign is text, not a formula
    "日本語",
    "−5",  # U+2212 minus sign
]


def test_neutralised_in_sql_equals_neutralise_in_python_for_stored_text():
    for index, text in enumerate(INPUTS):
        OrgUnitFactory(code=f"safety-{index}", name=text)
    units = OrgUnit.objects.filter(code__startswith="safety-")

    stored = dict(units.annotate(safe=neutralised("name")).values_list("name", "safe"))

    assert stored == {text: neutralise(text) for text in INPUTS}


def test_neutralised_in_sql_equals_neutralise_in_python_for_expressions():
    unit = OrgUnitFactory()
    columns = {f"c{index}": neutralised(Value(text)) for index, text in enumerate(INPUTS)}
    columns["null"] = neutralised(Value(None, output_field=TextField()))

    row = OrgUnit.objects.filter(pk=unit.pk).annotate(**columns).values(*columns).get()

    assert [row[f"c{index}"] for index in range(len(INPUTS))] == [neutralise(t) for t in INPUTS]
    assert row["null"] is None and neutralise(None) is None


# ------------------------------------------------------------------ every export applies it

HOSTILE = {
    "unit code": "-south",
    "unit name": '=HYPERLINK("http://example.com")',
    "text answer": "=1+1",
    "respondent key": "+49 30 1234",
    "external id": "-5",
    "language": "@de",
    "choice": "-none",
    "contact": "=cmd|' /C calc'!A0",
    "customer id": "@C-17",
    "token": "-starts-with-a-dash",  # token_urlsafe begins with "-" once in 64 tokens
}


def _cells(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _unsafe(rows: list[list[str]]) -> list[str]:
    """Cells a spreadsheet would run as a formula: text starting with a formula character."""
    return [
        cell for row in rows for cell in row if cell[:1] in FORMULA_START and not _is_number(cell)
    ]


@pytest.fixture
def hostile_unit(org_tree):
    return OrgUnitFactory(
        code=HOSTILE["unit code"], name=HOSTILE["unit name"], parent=org_tree["south"]
    )


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_responses_csv_export_neutralises_every_text_cell(hostile_unit, owner):
    survey = SurveyFactory(slug="visits")
    QuestionFactory(survey=survey, code="why", type=Question.Type.TEXT)
    pick = QuestionFactory(survey=survey, code="pick", type=Question.Type.SINGLE)
    ChoiceFactory(question=pick, value=HOSTILE["choice"])
    row = {
        "unit": hostile_unit,
        "answers": {"why": HOSTILE["text answer"], "pick": HOSTILE["choice"]},
        "respondent_key": HOSTILE["respondent key"],
        "external_id": HOSTILE["external id"],
        "language": HOSTILE["language"],
        "segment": {"=note": "x"},
    }
    import_responses(survey=survey, rows=[row])

    response = _api(owner).get("/api/v1/surveys/visits/responses/export/", {"format": "csv"})

    assert response.status_code == 200
    header, line = _cells(b"".join(response.streaming_content))
    exported = dict(zip(header, line, strict=True))
    assert exported["unit"] == neutralise(HOSTILE["unit code"])
    assert exported["why"] == neutralise(HOSTILE["text answer"])
    assert exported["pick"] == neutralise(HOSTILE["choice"])
    assert exported["respondent_key"] == neutralise(HOSTILE["respondent key"])
    assert exported["external_id"] == neutralise(HOSTILE["external id"])
    assert exported["language"] == neutralise(HOSTILE["language"])
    assert exported["segment"] == neutralise("=note=x")
    assert _unsafe([header, line]) == []


def test_metric_values_csv_export_neutralises_text_and_keeps_numbers(hostile_unit, leader):
    metric = MetricFactory(key="finance.margin")
    MetricValue.objects.create(metric=metric, unit=hostile_unit, period="2026-01", value=-5.0)

    response = _api(leader).get("/api/v1/metric-values/export.csv")

    assert response.status_code == 200
    header, *lines = _cells(b"".join(response.streaming_content))
    exported = dict(zip(header, lines[0], strict=True))
    assert exported["unit"] == neutralise(HOSTILE["unit code"])
    assert exported["unit_name"] == neutralise(HOSTILE["unit name"])
    assert exported["value"] == "-5"  # a number, not text: left as it is
    assert _unsafe([header, *lines]) == []


def test_invitations_csv_export_neutralises_every_text_cell(hostile_unit, owner, client):
    invitation = InvitationFactory(
        unit=hostile_unit,
        token=HOSTILE["token"],
        contact=HOSTILE["contact"],
        customer_id=HOSTILE["customer id"],
    )
    client.force_login(owner)

    response = client.post(
        reverse("admin:surveys_invitation_changelist"),
        {"action": "download_csv", "_selected_action": [invitation.pk]},
    )

    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    header, line = _cells(response.content)
    exported = dict(zip(header, line, strict=True))
    assert exported["token"] == neutralise(HOSTILE["token"])
    assert exported["unit_code"] == neutralise(HOSTILE["unit code"])
    assert exported["contact"] == neutralise(HOSTILE["contact"])
    assert exported["customer_id"] == neutralise(HOSTILE["customer id"])
    assert exported["url"].endswith(Invitation.objects.get().get_absolute_url())
    assert _unsafe([header, line]) == []
