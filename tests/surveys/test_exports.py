"""Response exports: streamed, spreadsheet-safe, scoped, and never for employee surveys."""

import csv
import inspect
import io

import pytest
from openpyxl import load_workbook
from rest_framework.test import APIClient

from common.exports import csv_chunks, xlsx_chunks
from common.spreadsheet import neutralise
from surveys.models import Question, Survey
from surveys.services import import_responses
from tests.factories import ChoiceFactory, QuestionFactory, SurveyFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/surveys/visits/responses/export/"


@pytest.fixture
def survey(org_tree):
    survey = SurveyFactory(slug="visits")
    QuestionFactory(survey=survey, code="nps", type=Question.Type.NPS)
    comment = QuestionFactory(survey=survey, code="comment", type=Question.Type.TEXT)
    comment.required = False
    comment.save()
    extras = QuestionFactory(survey=survey, code="extras", type=Question.Type.MULTI, required=False)
    for value in ("wifi", "coffee"):
        ChoiceFactory(question=extras, value=value, label=value.title())
    rows = [
        {"unit": "n1", "answers": {"nps": 9, "comment": '=HYPERLINK("http://x")'}},
        {"unit": "s1", "answers": {"nps": 3, "comment": "-2+3", "extras": ["wifi", "coffee"]}},
        {"unit": "n2", "answers": {"nps": 10}, "respondent_key": "@boss"},
    ]
    import_responses(survey=survey, rows=rows)
    return survey


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def read_csv(response) -> list[dict]:
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+49 30 1234", "'+49 30 1234"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("fine", "fine"),
        (-2.5, -2.5),
        (7, 7),
        (None, None),
    ],
)
def test_neutralise_quotes_formula_text_and_keeps_numbers(value, expected):
    assert neutralise(value) == expected


def test_export_csv_has_one_row_per_response_and_escapes_formulas(survey, owner):
    response = client_for(owner).get(URL, {"format": "csv"})

    assert response.status_code == 200
    assert response.streaming
    rows = {row["unit"]: row for row in read_csv(response)}
    assert rows["n1"]["nps"] == "9"
    assert rows["n1"]["comment"] == '\'=HYPERLINK("http://x")'
    assert rows["s1"]["comment"] == "'-2+3"
    assert sorted(rows["s1"]["extras"].split(";")) == ["coffee", "wifi"]
    assert rows["n2"]["respondent_key"] == "'@boss"


def test_export_xlsx_keeps_numbers_as_numbers(survey, owner):
    response = client_for(owner).get("/api/v1/surveys/visits/responses/export.xlsx")

    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    header, *rows = list(sheet.iter_rows(values_only=True))
    by_unit = {row[header.index("unit")]: row for row in rows}
    assert by_unit["n1"][header.index("nps")] == 9
    assert by_unit["n1"][header.index("comment")].startswith("'=")
    assert by_unit["s1"][header.index("comment")] == "'-2+3"


def test_export_is_scoped_to_the_managers_subtree(survey, unit_member):
    rows = read_csv(client_for(unit_member).get(URL))

    assert sorted(row["unit"] for row in rows) == ["n1", "n2"]


def test_export_filters_by_unit_and_period(survey, owner):
    assert [row["unit"] for row in read_csv(client_for(owner).get(URL, {"unit": "s1"}))] == ["s1"]
    assert read_csv(client_for(owner).get(URL, {"period_from": "2099-01"})) == []


@pytest.mark.parametrize(
    "changes",
    [{"audience": Survey.Audience.EMPLOYEE, "anonymity_threshold": 5}, {"anonymous": True}],
)
def test_export_refuses_employee_and_anonymous_surveys(survey, owner, changes):
    Survey.objects.filter(pk=survey.pk).update(**changes)

    for path in (URL, "/api/v1/surveys/visits/responses/export.xlsx"):
        response = client_for(owner).get(path)
        assert response.status_code == 403
        assert response["Content-Type"] == "application/json"
        error = response.json()["error"]
        assert error["code"] == "raw_export_refused"
        assert "metric values" in error["message"]


def test_export_forbidden_for_outsiders_and_not_found_outside_scope(
    survey, outsider, unit_member, org_tree
):
    SurveyFactory(slug="south-only", root_unit=org_tree["south"])

    assert client_for(outsider).get(URL).status_code == 403
    assert APIClient().get(URL).status_code == 401
    outside = client_for(unit_member).get("/api/v1/surveys/south-only/responses/export/")
    assert outside.status_code == 404
    assert outside.json()["error"]["code"] == "not_found"


def test_csv_writer_is_a_generator_that_streams_in_chunks():
    rows = ((index, f"=row {index}") for index in range(5000))

    chunks = csv_chunks(rows, rows_per_chunk=1000)

    assert inspect.isgenerator(chunks)
    first = next(chunks)
    assert first.count(b"\n") == 1000 and b"'=row 0" in first
    assert sum(1 for _ in chunks) == 4


def test_xlsx_writer_streams_a_valid_workbook():
    rows = iter([("name", "score"), ("=cmd", 1.5), ("ok", None)])

    content = b"".join(xlsx_chunks(rows))

    sheet = load_workbook(io.BytesIO(content)).active
    assert list(sheet.iter_rows(values_only=True)) == [
        ("name", "score"),
        ("'=cmd", 1.5),
        ("ok", None),
    ]


@pytest.fixture
def clashing_survey(org_tree):
    """A survey whose question codes repeat response columns, with a rating and a number."""
    survey = SurveyFactory(slug="clash")
    channel = QuestionFactory(survey=survey, code="channel", type=Question.Type.SINGLE)
    for value in ("phone", "shop"):
        ChoiceFactory(question=channel, value=value, label=value.title())
    QuestionFactory(survey=survey, code="unit", type=Question.Type.TEXT, required=False)
    QuestionFactory(
        survey=survey, code="stars", type=Question.Type.RATING, min_value=1, max_value=5
    )
    QuestionFactory(
        survey=survey, code="spend", type=Question.Type.NUMBER, required=False, min_value=0
    )
    rows = [
        {"unit": "n1", "answers": {"channel": "phone", "unit": "Main St", "stars": 1}},
        {"unit": "n2", "answers": {"channel": "shop", "stars": 5, "spend": 12.5}},
    ]
    import_responses(survey=survey, rows=rows)
    return survey


def test_export_disambiguates_question_codes_equal_to_response_columns(clashing_survey, owner):
    text = b"".join(
        client_for(owner).get("/api/v1/surveys/clash/responses/export/").streaming_content
    )
    header = next(csv.reader(io.StringIO(text.decode())))
    rows = {row["unit"]: row for row in csv.DictReader(io.StringIO(text.decode()))}

    assert len(header) == len(set(header))
    assert header[-4:] == ["question.channel", "question.unit", "stars", "spend"]
    assert rows["n1"]["channel"] == "import" and rows["n1"]["question.channel"] == "phone"
    assert rows["n1"]["question.unit"] == "Main St"


def test_export_xlsx_headers_are_unique_when_codes_equal_response_columns(clashing_survey, owner):
    response = client_for(owner).get("/api/v1/surveys/clash/responses/export.xlsx")

    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    header = next(sheet.iter_rows(values_only=True))
    assert len(header) == len(set(header))
    assert "question.channel" in header and "channel" in header


def test_export_csv_writes_ratings_as_whole_numbers(clashing_survey, owner):
    rows = read_csv(client_for(owner).get("/api/v1/surveys/clash/responses/export/"))

    by_unit = {row["unit"]: row for row in rows}
    assert by_unit["n1"]["stars"] == "1"
    assert by_unit["n2"]["stars"] == "5"
    assert by_unit["n2"]["spend"] == "12.5"


def test_export_xlsx_writes_ratings_as_whole_numbers(clashing_survey, owner):
    response = client_for(owner).get("/api/v1/surveys/clash/responses/export.xlsx")

    content = b"".join(response.streaming_content)
    sheet = load_workbook(io.BytesIO(content)).active
    header, *rows = list(sheet.iter_rows(values_only=True))
    stars = {row[header.index("unit")]: row[header.index("stars")] for row in rows}
    assert stars == {"n1": 1, "n2": 5}
    assert all(type(value) is int for value in stars.values())
