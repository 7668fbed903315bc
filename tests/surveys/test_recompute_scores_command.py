"""`manage.py recompute_scores`: rebuild stored scores from raw answers, all or narrowed by
survey and period; bad input is a CommandError naming it, and changes nothing."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from surveys.models import DirtyScoreCell, Metric, MetricValue, Question
from surveys.services.metrics import ensure_metrics
from tests.factories import MetricValueFactory, QuestionFactory, SurveyFactory, add_answers

pytestmark = pytest.mark.django_db

NPS_ANSWERS = {"2026-01": [10, 9, 9, 2], "2026-02": [10, 6, 6]}
CSAT_ANSWERS = {"2026-01": [5, 4, 1], "2026-02": [2, 2, 5, 5, 5]}
STALE = -99.0


def nps(scores: list[int]) -> float:
    return 100 * (sum(s >= 9 for s in scores) - sum(s <= 6 for s in scores)) / len(scores)


def top_two_box(scores: list[int]) -> float:
    return 100 * sum(s >= 4 for s in scores) / len(scores)


@pytest.fixture
def stale_scores(org_tree):
    """Two surveys (NPS and CSAT) answered at store n1 in two months, every stored score
    stale, one stored score no answer backs, and an imported outcome beside them."""
    store = org_tree["stores"][0]
    ensure_metrics(["customer.nps", "customer.csat", "finance.revenue"])
    nps_question = QuestionFactory(
        survey=SurveyFactory(slug="nps-survey"), type=Question.Type.NPS, metric_key="customer.nps"
    )
    csat_question = QuestionFactory(
        survey=SurveyFactory(slug="csat-survey"),
        type=Question.Type.CSAT,
        metric_key="customer.csat",
    )
    for period in ("2026-01", "2026-02"):
        add_answers(nps_question, store, NPS_ANSWERS[period], period=period)
        add_answers(csat_question, store, CSAT_ANSWERS[period], period=period)
        for key in ("customer.nps", "customer.csat"):
            MetricValueFactory(metric=Metric.objects.get(key=key), unit=store, period=period)
    MetricValue.objects.update(value=STALE)
    MetricValueFactory(  # answers deleted since: nothing backs this cell any more
        metric=Metric.objects.get(key="customer.nps"), unit=store, period="2025-12", value=1.0
    )
    MetricValueFactory(
        metric=Metric.objects.get(key="finance.revenue"),
        unit=store,
        period="2026-01",
        value=1200.0,
        source=MetricValue.Source.IMPORTED,
    )
    DirtyScoreCell.objects.create(survey=nps_question.survey, period="2026-01")
    return store


def _value(key: str, period: str, unit: str = "n1") -> float | None:
    row = MetricValue.objects.filter(metric__key=key, period=period, unit__code=unit).first()
    return None if row is None else row.value


def _recompute(*args: str) -> str:
    output = StringIO()
    call_command("recompute_scores", *args, stdout=output, verbosity=0)
    return output.getvalue()


def test_recompute_scores_command_corrects_every_stale_score(stale_scores):
    output = _recompute()

    for period in ("2026-01", "2026-02"):
        assert _value("customer.nps", period) == pytest.approx(nps(NPS_ANSWERS[period]))
        assert _value("customer.csat", period) == pytest.approx(top_two_box(CSAT_ANSWERS[period]))
        assert _value("customer.nps", period, unit="acme") == pytest.approx(
            nps(NPS_ANSWERS[period])
        )
    assert _value("customer.nps", "2025-12") is None  # the unbacked cell is gone
    assert _value("finance.revenue", "2026-01") == 1200.0  # imported: not a survey score
    assert not DirtyScoreCell.objects.exists()  # every pending recompute is settled
    assert "score cell(s) written" in output


def test_recompute_scores_command_narrowed_to_one_survey(stale_scores):
    _recompute("--survey", "csat-survey")

    assert _value("customer.csat", "2026-01") == pytest.approx(top_two_box(CSAT_ANSWERS["2026-01"]))
    assert _value("customer.csat", "2026-02") == pytest.approx(top_two_box(CSAT_ANSWERS["2026-02"]))
    assert _value("customer.nps", "2026-01") == STALE
    assert _value("customer.nps", "2026-02") == STALE


def test_recompute_scores_command_narrowed_to_periods(stale_scores):
    _recompute("--period", "2026-02", "--period", "2025-12")

    assert _value("customer.nps", "2026-02") == pytest.approx(nps(NPS_ANSWERS["2026-02"]))
    assert _value("customer.csat", "2026-02") == pytest.approx(top_two_box(CSAT_ANSWERS["2026-02"]))
    assert _value("customer.nps", "2025-12") is None
    assert _value("customer.nps", "2026-01") == STALE
    assert _value("customer.csat", "2026-01") == STALE


def test_recompute_scores_command_narrowed_to_survey_and_period(stale_scores):
    _recompute("--survey", "nps-survey", "--period", "2026-01")

    assert _value("customer.nps", "2026-01") == pytest.approx(nps(NPS_ANSWERS["2026-01"]))
    assert _value("customer.nps", "2026-02") == STALE
    assert _value("customer.csat", "2026-01") == STALE


@pytest.mark.parametrize("label", ["2026-13", "2026-Q5", "26-01", "March"])
def test_recompute_scores_command_refuses_a_bad_period_naming_it(stale_scores, label):
    with pytest.raises(CommandError, match=f"'{label}' is not a period"):
        _recompute("--period", "2026-01", "--period", label)

    assert _value("customer.nps", "2026-01") == STALE  # nothing recomputed


def test_recompute_scores_command_refuses_an_unknown_survey_naming_it(stale_scores):
    with pytest.raises(CommandError, match="No survey with slug 'no-such-survey'"):
        _recompute("--survey", "no-such-survey")

    assert _value("customer.nps", "2026-01") == STALE
