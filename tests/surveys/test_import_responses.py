"""import_responses: the all-or-nothing bulk write path (API bulk endpoint, demo, imports)."""

from datetime import UTC, datetime, timedelta
from datetime import timezone as fixed_offset

import pytest
from django.utils import timezone

from surveys.exceptions import BulkInvalid, ImportTooLarge, SurveyClosed
from surveys.models import Answer, DirtyScoreCell, Question, Response, Survey
from surveys.services import import_responses, imports
from tests.factories import (
    ChoiceFactory,
    OrgUnitFactory,
    QuestionFactory,
    ResponseFactory,
    SurveyFactory,
)

pytestmark = pytest.mark.django_db

JANUARY = datetime(2026, 1, 15, 14, 30, tzinfo=UTC)
FEBRUARY = datetime(2026, 2, 3, 9, 5, tzinfo=UTC)


@pytest.fixture
def survey():
    survey = SurveyFactory(slug="relationship")
    QuestionFactory(survey=survey, code="nps", type=Question.Type.NPS)
    channels = QuestionFactory(
        survey=survey, code="channels", type=Question.Type.MULTI, required=False
    )
    ChoiceFactory(question=channels, value="web", label="Web")
    ChoiceFactory(question=channels, value="store", label="Store")
    return survey


@pytest.fixture
def store():
    return OrgUnitFactory(code="store-1")


def test_import_responses_writes_rows_with_periods_from_submitted_at(survey, store):
    rows = [
        {"unit": "store-1", "answers": {"nps": 9}, "submitted_at": JANUARY, "external_id": "a"},
        {
            "unit": store,
            "answers": {"nps": 3, "channels": ["web", "store"]},
            "submitted_at": FEBRUARY,
        },
        {
            "unit": store,
            "answers": {"nps": 10},
            "submitted_at": FEBRUARY,
            "segment": {"product": "X"},
        },
    ]
    result = import_responses(survey=survey, rows=rows)
    assert (result.responses, result.answers, result.periods) == (3, 4, ("2026-01", "2026-02"))
    stored = Response.objects.filter(survey=survey).order_by("submitted_at")
    assert [response.period for response in stored] == ["2026-01", "2026-02", "2026-02"]
    assert {response.channel for response in stored} == {Response.Channel.IMPORT}
    assert stored[0].external_id == "a" and stored[0].submitted_at == JANUARY
    multi = Answer.objects.get(question__code="channels")
    assert sorted(choice.value for choice in multi.choices.all()) == ["store", "web"]
    assert Response.objects.filter(segment__product="X").count() == 1
    cells = DirtyScoreCell.objects.filter(survey=survey).values_list("period", flat=True)
    assert sorted(cells) == ["2026-01", "2026-02"]


def test_import_responses_refuses_whole_batch_with_per_row_errors(survey, store):
    rows = [
        {"unit": store, "answers": {"nps": 9}},
        {"unit": store, "answers": {"nps": 11}},
        {"unit": "nowhere", "answers": {"nps": 5, "bogus": 1}},
        {"unit": store, "answers": {}, "submitted_at": datetime(2026, 1, 1)},
        "not a row",
    ]
    with pytest.raises(BulkInvalid) as error:
        import_responses(survey=survey, rows=rows)
    errors = error.value.errors
    assert sorted(errors) == [1, 2, 3, 4]
    assert list(errors[1]) == ["nps"]
    assert errors[2]["unit"] == ["Unit 'nowhere' is not known."] and "bogus" in errors[2]
    assert errors[3]["nps"] == ["This question is required."] and "submitted_at" in errors[3]
    assert errors[4] == {"row": ["Each row must be an object."]}
    assert Response.objects.count() == 0 and Answer.objects.count() == 0
    assert not DirtyScoreCell.objects.exists()


def test_import_responses_reports_duplicate_external_ids(survey, store):
    ResponseFactory(survey=survey, unit=store, external_id="stored")
    rows = [
        {"unit": store, "answers": {"nps": 9}, "external_id": "new"},
        {"unit": store, "answers": {"nps": 8}, "external_id": "new"},
        {"unit": store, "answers": {"nps": 7}, "external_id": "stored"},
    ]
    with pytest.raises(BulkInvalid) as error:
        import_responses(survey=survey, rows=rows)
    assert error.value.errors == {
        1: {"external_id": ["'new' repeats row 0."]},
        2: {"external_id": ["'stored' was already imported."]},
    }
    assert Response.objects.count() == 1


def test_import_responses_keeps_no_identity_on_anonymous_surveys(store):
    survey = SurveyFactory(employee=True)
    QuestionFactory(survey=survey, code="enps", type=Question.Type.NPS)
    row = {"unit": store, "answers": {"enps": 8}, "respondent_key": "E-7", "submitted_at": FEBRUARY}
    import_responses(survey=survey, rows=[row])
    response = Response.objects.get(survey=survey)
    assert response.respondent_key == "" and response.invitation is None
    local = timezone.localtime(response.submitted_at)
    assert (local.date(), local.hour, local.minute) == (FEBRUARY.date(), 0, 0)


def test_import_responses_keeps_respondent_key_on_named_surveys(survey, store):
    import_responses(
        survey=survey, rows=[{"unit": store, "answers": {"nps": 9}, "respondent_key": "C-1"}]
    )
    assert Response.objects.get().respondent_key == "C-1"


def test_import_responses_refuses_closed_survey_unless_allowed(survey, store):
    survey.status = Survey.Status.CLOSED
    survey.save()
    rows = [{"unit": store, "answers": {"nps": 9}, "submitted_at": JANUARY}]
    with pytest.raises(SurveyClosed):
        import_responses(survey=survey, rows=rows)
    assert import_responses(survey=survey, rows=rows, allow_closed=True).responses == 1


def test_import_responses_refuses_unit_outside_survey_root(survey, org_tree):
    survey.root_unit = org_tree["north"]
    survey.save()
    rows = [{"unit": "s1", "answers": {"nps": 9}}, {"unit": "n1", "answers": {"nps": 9}}]
    with pytest.raises(BulkInvalid) as error:
        import_responses(survey=survey, rows=rows)
    assert list(error.value.errors) == [0] and "unit" in error.value.errors[0]


def test_import_responses_refuses_too_many_rows(survey, store, monkeypatch):
    monkeypatch.setattr(imports, "MAX_IMPORT_ROWS", 2)
    with pytest.raises(ImportTooLarge):
        import_responses(survey=survey, rows=[{"unit": store, "answers": {"nps": 9}}] * 3)
    assert Response.objects.count() == 0


def test_import_responses_query_count_does_not_grow_with_rows(
    survey, store, django_assert_max_num_queries
):
    rows = [{"unit": "store-1", "answers": {"nps": index % 11}} for index in range(40)]
    # questions + choices + units + external ids + 3 inserts + dirty-cell upkeep
    with django_assert_max_num_queries(12):
        import_responses(survey=survey, rows=rows)
    assert Answer.objects.count() == 40


@pytest.mark.parametrize(
    "submitted_at",
    [
        datetime(9999, 12, 31, 23, 59, tzinfo=fixed_offset(timedelta(hours=14))),
        datetime(1, 1, 1, 0, 0, tzinfo=fixed_offset(timedelta(hours=5))),
        datetime(1, 1, 1, 0, 0, tzinfo=fixed_offset(timedelta(hours=-5))),
    ],
    ids=["year-9999", "year-1-east", "year-1-west"],
)
def test_import_responses_refuses_times_outside_1970_to_now(survey, store, submitted_at):
    rows = [{"unit": "store-1", "answers": {"nps": 9}, "submitted_at": submitted_at}]

    with pytest.raises(BulkInvalid) as refused:
        import_responses(survey=survey, rows=rows)

    assert "submitted_at" in refused.value.errors[0]
    assert not Response.objects.exists()
    assert not DirtyScoreCell.objects.exists()


def test_import_responses_refuses_a_time_tomorrow_but_allows_now(survey, store):
    now = timezone.now()
    rows = [
        {"unit": "store-1", "answers": {"nps": 9}, "submitted_at": now},
        {"unit": "store-1", "answers": {"nps": 9}, "submitted_at": now + timedelta(days=1)},
    ]

    with pytest.raises(BulkInvalid) as refused:
        import_responses(survey=survey, rows=rows)

    assert list(refused.value.errors) == [1]
    assert import_responses(survey=survey, rows=rows[:1]).responses == 1


def test_import_responses_names_external_ids_a_concurrent_import_stored(survey, store, monkeypatch):
    ResponseFactory(survey=survey, unit=store, external_id="order-1")
    real_check, calls = imports._stored_external_ids, []

    def check_before_the_other_commit(survey, rows):
        # The first check runs as if a racing retry had not committed "order-1" yet.
        calls.append(1)
        return set() if len(calls) == 1 else real_check(survey, rows)

    monkeypatch.setattr(imports, "_stored_external_ids", check_before_the_other_commit)
    rows = [
        {"unit": "store-1", "answers": {"nps": 9}, "external_id": "order-0"},
        {"unit": "store-1", "answers": {"nps": 9}, "external_id": "order-1"},
    ]

    with pytest.raises(BulkInvalid) as refused:
        import_responses(survey=survey, rows=rows)

    assert refused.value.errors == {1: {"external_id": ["'order-1' was already imported."]}}
    assert list(Response.objects.values_list("external_id", flat=True)) == ["order-1"]
