"""Employee results are readable only once released: a closed wave, or batches of at least
the threshold per team; customer results stay live."""

import pytest
from django.utils import timezone

from common.models import AuditEvent
from linkage.leadership_selectors import readings_for_unit
from surveys.aggregation import compute_group_value
from surveys.models import Answer, Metric, MetricValue, OrgUnit, Response, ResultRelease, Survey
from surveys.selectors import metric_value_panel, metric_values
from surveys.services import close_survey
from surveys.services.metrics import ensure_metrics_for_questions
from surveys.services.releases import release_due_results, release_results
from surveys.services.scores import recompute_all
from surveys.visibility import SYSTEM
from tests.factories import (
    OrgUnitFactory,
    QuestionFactory,
    SurveyFactory,
    WebhookSubscriptionFactory,
)

pytestmark = pytest.mark.django_db

K = 5
PAST = "2026-01"


@pytest.fixture
def tree():
    company = OrgUnitFactory(code="co", level=OrgUnit.Level.COMPANY)
    region = OrgUnitFactory(code="r", level=OrgUnit.Level.REGION, parent=company)
    stores = {code: OrgUnitFactory(code=code, parent=region) for code in ("s1", "s2", "s3")}
    return {"co": company, "r": region, **stores}


@pytest.fixture
def pulse():
    survey = SurveyFactory(employee=True, anonymity_threshold=K)
    question = QuestionFactory(survey=survey, code="enps", metric_key="employee.enps")
    ensure_metrics_for_questions()
    return question


def current_period(survey: Survey) -> str:
    return survey.period_for(timezone.now())


def answer(question, unit, scores, period):
    responses = Response.objects.bulk_create(
        Response(survey_id=question.survey_id, unit=unit, period=period) for _ in scores
    )
    Answer.objects.bulk_create(
        Answer(response=response, question=question, number=score)
        for response, score in zip(responses, scores, strict=True)
    )
    recompute_all()  # what the worker does after every submission


def readable() -> dict[str, tuple]:
    """Everything a reader sees of employee.enps: (value, n, suppressed) per unit/period."""
    rows = metric_values(reader=SYSTEM, metric_keys=["employee.enps"])
    return {f"{row.unit.code}/{row.period}": (row.value, row.n, row.suppressed) for row in rows}


def test_employee_scores_unreadable_while_wave_runs(tree, pulse):
    period = current_period(pulse.survey)
    answer(pulse, tree["s1"], [10] * 6, period)
    assert readable() == {}
    assert release_results(survey=pulse.survey, period=period) is None  # wave mode: waits
    assert readable() == {}
    metric = Metric.objects.get(key="employee.enps")
    assert compute_group_value(metric=metric, unit=tree["co"], periods=[period]).n == 0


def test_closed_wave_release_publishes_every_answer_with_suppression(tree, pulse):
    answer(pulse, tree["s1"], [10] * 6, PAST)
    answer(pulse, tree["s2"], [0] * 2, PAST)
    answer(pulse, tree["s3"], [9] * 7, PAST)
    assert readable() == {}
    release = release_results(survey=pulse.survey, period=PAST)
    assert release is not None and release.kind == ResultRelease.Kind.WAVE
    shown = readable()
    assert shown["s2/2026-01"] == (None, None, True)  # 2 < k
    assert shown["s1/2026-01"] == (None, None, True)  # complementary: r − s3 would be s1+s2
    assert shown["s3/2026-01"][1] == 7 and shown["r/2026-01"][1] == 15


def test_late_answers_change_nothing_until_a_team_has_threshold_more(tree, pulse):
    answer(pulse, tree["s1"], [10] * 6, PAST)
    answer(pulse, tree["s3"], [9] * 7, PAST)
    release_results(survey=pulse.survey, period=PAST)
    before = readable()
    answer(pulse, tree["s1"], [0] * 4, PAST)  # e.g. after a re-opening: 4 < k late answers
    answer(pulse, tree["s2"], [0] * 1, PAST)
    assert release_results(survey=pulse.survey, period=PAST) is None
    assert readable() == before
    answer(pulse, tree["s1"], [0], PAST)  # s1 now has k waiting answers
    assert release_results(survey=pulse.survey, period=PAST) is not None
    after = readable()
    assert after["s1/2026-01"][1] - before["s1/2026-01"][1] == K
    assert after["r/2026-01"][1] - before["r/2026-01"][1] == K  # s2's one answer still waits
    assert after["s3/2026-01"] == before["s3/2026-01"]


def test_batch_mode_releases_only_teams_with_threshold_waiting(tree, pulse):
    Survey.objects.filter(pk=pulse.survey_id).update(release_mode=Survey.ReleaseMode.BATCH)
    pulse.survey.refresh_from_db()
    period = current_period(pulse.survey)
    answer(pulse, tree["s1"], [10] * 5, period)
    answer(pulse, tree["s2"], [0] * 3, period)
    release = release_results(survey=pulse.survey, period=period)
    assert release is not None and release.kind == ResultRelease.Kind.BATCH
    shown = readable()
    assert {key: n for key, (_, n, _) in shown.items()} == {
        f"s1/{period}": 5,
        f"r/{period}": 5,
        f"co/{period}": 5,
    }


def test_customer_scores_stay_live(tree):
    survey = SurveyFactory()
    question = QuestionFactory(survey=survey, code="nps", metric_key="customer.nps")
    ensure_metrics_for_questions()
    answer(question, tree["s1"], [10, 0], current_period(survey))
    rows = metric_values(reader=SYSTEM, metric_keys=["customer.nps"], unit=tree["s1"])
    assert [row.n for row in rows] == [2]


def test_score_changed_fires_for_employee_metrics_only_on_release(tree, pulse):
    from surveys.models import WebhookDelivery

    WebhookSubscriptionFactory(survey=pulse.survey, events=["score.changed"])
    answer(pulse, tree["s1"], [10] * 6, PAST)
    assert not WebhookDelivery.objects.exists()
    release_results(survey=pulse.survey, period=PAST)
    assert WebhookDelivery.objects.filter(event="score.changed").count() == 1


def test_release_due_results_and_close_release_closed_waves(
    tree, pulse, django_capture_on_commit_callbacks
):
    answer(pulse, tree["s1"], [10] * 6, PAST)
    period = current_period(pulse.survey)
    answer(pulse, tree["s3"], [9] * 6, period)
    assert release_due_results() == 1  # the past month only
    assert {key.split("/")[1] for key in readable()} == {PAST}
    with django_capture_on_commit_callbacks(execute=True):
        close_survey(survey=pulse.survey)  # queues the release task (eager here)
    assert {key.split("/")[1] for key in readable()} == {PAST, period}


def test_every_reader_sees_nothing_before_release(tree, pulse):
    answer(pulse, tree["s1"], [10] * 6, PAST)
    panel = metric_value_panel(
        metric_keys=["employee.enps"], level="store", periods=[PAST], reader=SYSTEM
    )
    assert panel.unit_ids == []
    assert readings_for_unit(tree["r"], reader=SYSTEM) == {}
    assert not MetricValue.objects.filter(metric__key="employee.enps").exists()


def test_admin_release_action_publishes_closed_waves(tree, pulse, client, owner):
    answer(pulse, tree["s1"], [10] * 6, PAST)
    client.force_login(owner)
    page = client.post(
        "/admin/surveys/survey/",
        {"action": "release_selected", "_selected_action": [pulse.survey_id]},
        follow=True,
    )
    assert b"1 release(s) made" in page.content
    assert readable()["s1/2026-01"][1] == 6
    assert AuditEvent.objects.filter(action="results.released", actor=owner).exists()
