"""Period labels of answers are the local period (TIME_ZONE) of the moment they were given,
deterministic at month and quarter boundaries: every moment here is given explicitly."""

from datetime import UTC, date, datetime

import pytest
from django.utils import timezone

from surveys import periods
from surveys.models import DirtyScoreCell, Question, Response, Survey
from surveys.services import import_responses, submit_response
from tests.factories import OrgUnitFactory, QuestionFactory, SurveyFactory

MONTH, QUARTER = Survey.Granularity.MONTH, Survey.Granularity.QUARTER
LAST_SECOND_OF_JANUARY = datetime(2026, 1, 31, 23, 59, 59, tzinfo=UTC)
LAST_SECOND_OF_Q1 = datetime(2026, 3, 31, 23, 59, 59, tzinfo=UTC)
LAST_SECOND_OF_2025 = datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC)

BOUNDARIES = [
    # (moment in UTC, TIME_ZONE, granularity, the local period)
    (LAST_SECOND_OF_JANUARY, "UTC", MONTH, "2026-01"),
    (LAST_SECOND_OF_JANUARY, "Europe/Berlin", MONTH, "2026-02"),  # 00:59:59 on 1 Feb
    (LAST_SECOND_OF_JANUARY, "Asia/Tokyo", MONTH, "2026-02"),
    (datetime(2026, 2, 1, 0, 0, 30, tzinfo=UTC), "America/New_York", MONTH, "2026-01"),
    (LAST_SECOND_OF_Q1, "UTC", QUARTER, "2026-Q1"),
    (LAST_SECOND_OF_Q1, "Europe/Berlin", QUARTER, "2026-Q2"),  # summer time: 01:59:59
    (LAST_SECOND_OF_2025, "UTC", QUARTER, "2025-Q4"),
    (LAST_SECOND_OF_2025, "Europe/Berlin", QUARTER, "2026-Q1"),  # a new year too
    (datetime(2026, 7, 1, 3, 0, tzinfo=UTC), "America/Los_Angeles", QUARTER, "2026-Q2"),
    (datetime(2026, 6, 30, 23, 59, 59, tzinfo=UTC), "Asia/Tokyo", QUARTER, "2026-Q3"),
]


@pytest.mark.parametrize(
    ("day", "quarter"),
    [
        (date(2026, 1, 1), "2026-Q1"),
        (date(2026, 3, 31), "2026-Q1"),
        (date(2026, 4, 1), "2026-Q2"),
        (date(2026, 6, 30), "2026-Q2"),
        (date(2026, 7, 1), "2026-Q3"),
        (date(2026, 9, 30), "2026-Q3"),
        (date(2026, 10, 1), "2026-Q4"),
        (date(2026, 12, 31), "2026-Q4"),
    ],
)
def test_period_label_for_quarter_boundaries(day, quarter):
    assert periods.label_for(day, periods.QUARTER) == quarter
    assert periods.start_date(quarter) <= day < periods.end_date(quarter)


@pytest.mark.parametrize(("moment", "zone", "granularity", "expected"), BOUNDARIES)
def test_period_for_is_the_local_period_of_the_moment(
    settings, moment, zone, granularity, expected
):
    settings.TIME_ZONE = zone

    assert Survey(period_granularity=granularity).period_for(moment) == expected


@pytest.fixture
def frozen_now(monkeypatch):
    """Freeze `timezone.now` (what submit_response stamps answers with) at a given moment."""

    def freeze(moment: datetime) -> None:
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return freeze


def _survey(granularity: str, **options) -> Survey:
    survey = SurveyFactory(period_granularity=granularity, **options)
    QuestionFactory(survey=survey, code="nps", type=Question.Type.NPS)
    return survey


@pytest.mark.django_db
@pytest.mark.parametrize(("moment", "zone", "granularity", "expected"), BOUNDARIES)
def test_submit_response_at_a_boundary_stores_the_local_period(
    settings, frozen_now, moment, zone, granularity, expected
):
    settings.TIME_ZONE = zone
    frozen_now(moment)
    survey = _survey(granularity)

    response = submit_response(survey=survey, unit=OrgUnitFactory(), answers={"nps": 9})

    assert Response.objects.get(pk=response.pk).period == expected
    assert list(DirtyScoreCell.objects.values_list("period", flat=True)) == [expected]


@pytest.mark.django_db
@pytest.mark.parametrize(("moment", "zone", "granularity", "expected"), BOUNDARIES)
def test_import_responses_at_a_boundary_stores_the_local_period(
    settings, moment, zone, granularity, expected
):
    settings.TIME_ZONE = zone
    survey = _survey(granularity)
    row = {"unit": OrgUnitFactory(), "answers": {"nps": 9}, "submitted_at": moment}

    result = import_responses(survey=survey, rows=[row])

    assert result.periods == (expected,)
    assert Response.objects.get().period == expected


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("zone", "local_day", "expected"),
    [("UTC", date(2026, 1, 31), "2026-01"), ("Europe/Berlin", date(2026, 2, 1), "2026-02")],
)
def test_submit_response_anonymous_day_and_period_agree_at_month_end(
    settings, frozen_now, zone, local_day, expected
):
    settings.TIME_ZONE = zone
    frozen_now(LAST_SECOND_OF_JANUARY)
    survey = _survey(MONTH, employee=True, allow_public_link=True)

    response = submit_response(survey=survey, unit=OrgUnitFactory(), answers={"nps": 9})

    stored = Response.objects.get(pk=response.pk)
    local = timezone.localtime(stored.submitted_at)
    assert (local.date(), local.time().isoformat()) == (local_day, "00:00:00")
    assert stored.period == expected
